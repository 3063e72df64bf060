package io.capstan.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.OptionalInt;

@Command(name = "logs", mixinStandardHelpOptions = true, versionProvider = Version.Provider.class,
        description = "Print the output of a job's process.")
final class LogsCommand extends ClientCommand {
    /** The type a bare NAME means, so that {@code capstan logs hello} needs no type lookup. */
    static final ResourceType JOB = new ResourceType("Job", "capstan.io/v1", "jobs", List.of("job"));

    @Parameters(index = "0", paramLabel = "NAME", description = "Job name, or TYPE/NAME such as job/hello.")
    private String target;

    @Mixin
    private NamespaceOptions namespaceOptions;

    @Option(names = {"-f", "--follow"}, description = "Keep printing output until the process ends.")
    private boolean follow;

    @Option(names = "--tail", paramLabel = "N", description = "Print only the last N lines (default: all).")
    private Integer tail;

    @Override
    public Integer call() {
        if (tail != null && tail < 0) throw new UsageException("--tail must be 0 or more, got " + tail);
        var typed = TypedName.parse(target);
        var client = client();
        var type = typed.name().isEmpty() ? JOB : client.resolve(typed.type());
        var name = typed.name().isEmpty() ? typed.type() : typed.name();
        var mode = follow ? CapstanClient.LogMode.FOLLOW : CapstanClient.LogMode.SNAPSHOT;
        var tailLines = tail == null ? OptionalInt.empty() : OptionalInt.of(tail);
        var out = out();
        try (var reader = new InputStreamReader(client.openLog(type, namespaceOptions.namespace(), name, tailLines, mode),
                StandardCharsets.UTF_8)) {
            var buffer = new char[8192];
            int n;
            while ((n = reader.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            throw ServerUnreachableException.of(client.baseUrl(), "the log stream broke (" + CapstanClient.describe(e) + ")", e);
        }
        return ExitCodes.OK;
    }
}
