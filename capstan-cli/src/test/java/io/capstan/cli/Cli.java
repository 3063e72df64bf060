package io.capstan.cli;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;

/** Runs {@code capstan} in-process with captured output, a fixed clock and a chosen environment. */
final class Cli {
    static final Instant NOW = Instant.parse("2025-01-01T00:10:00Z");

    private final Map<String, String> env = new HashMap<>();
    private String stdin = "";

    /** The outcome of one invocation. */
    record Run(int exitCode, String out, String err) {
    }

    static Cli against(String serverUrl) {
        var cli = new Cli();
        cli.env.put("CAPSTAN_SERVER", serverUrl);
        return cli;
    }

    Cli env(String name, String value) {
        env.put(name, value);
        return this;
    }

    Cli stdin(String text) {
        stdin = text;
        return this;
    }

    Run run(String... args) {
        var root = new Capstan(env, Clock.fixed(NOW, ZoneOffset.UTC),
                new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)), () -> false);
        // As main builds it: with only the verb that args name, so that every CLI test runs the command line users get.
        var cmd = Capstan.commandLine(root, args);
        var out = new StringWriter();
        var err = new StringWriter();
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        int code = cmd.execute(args);
        return new Run(code, out.toString(), err.toString());
    }
}
