package io.capstan.cli;

import io.capstan.core.CapstanConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

@Command(name = "quickstart", mixinStandardHelpOptions = true, versionProvider = Version.Provider.class,
        description = {
                "Start a server on embedded storage, run an example job to completion, and print where to look next.",
                "The server keeps running until Ctrl-C, unless --exit is given, CI is set or input is not a terminal;",
                "then the exit code says whether the example job succeeded."})
final class QuickstartCommand implements Callable<Integer> {
    static final String EXAMPLE = "examples/hello-job.yaml";
    /** The example's own 30 s timeout, plus start-up and slack on a slow machine. */
    private static final Duration JOB_DEADLINE = Duration.ofSeconds(90);

    @ParentCommand
    private Capstan root;

    @Spec
    private CommandSpec spec;

    @Option(names = "--home", paramLabel = "DIR", description = "Data folder (default: $CAPSTAN_HOME, else ~/.capstan).")
    private Path home;

    @Option(names = "--port", paramLabel = "N",
            description = "HTTP port (default: $CAPSTAN_PORT, else 8080, or a free port if 8080 is taken).")
    private Integer port;

    @Option(names = "--exit", description = "Stop the server once the example job has finished.")
    private boolean exitAtEnd;

    @Option(names = "--verbose", description = "On error, print the stack trace as well as the message.")
    private boolean verbose;

    /** Held strongly: java.util.logging forgets levels set on loggers nobody references. */
    private static final java.util.logging.Logger CAPSTAN_LOGS = java.util.logging.Logger.getLogger("io.capstan");

    @Override
    public Integer call() throws InterruptedException {
        // The quickstart narrates what happens itself; the server's lifecycle lines would only interleave with it.
        if (!verbose) CAPSTAN_LOGS.setLevel(java.util.logging.Level.WARNING);
        var env = root.env();
        var config = CapstanConfig.fromEnvironment(env);
        if (home != null) config = config.withHome(home);
        if (port != null) {
            config = config.withPort(port);
        } else if (!env.containsKey("CAPSTAN_PORT") && !isFree(config.host(), config.port())) {
            config = config.withPort(0);
        }
        if (!env.containsKey("CAPSTAN_GRPC_PORT") && !isFree(config.host(), config.grpcPort())) config = config.withGrpcPort(0);

        var out = spec.commandLine().getOut();
        long startNanos = System.nanoTime();
        try (var server = ServerCommand.start(config)) {
            out.println(ServerCommand.banner(server, config, ServerCommand.readyTime(startNanos)));
            out.println();
            out.flush();
            var url = server.url();
            var token = io.capstan.security.AdminToken.read(config.home());
            var outcome = new ExampleRun(CapstanClient.of(url).withToken(token), out, JOB_DEADLINE).run(example(), EXAMPLE);
            out.println();
            out.println(summary(outcome));
            boolean pipelineSucceeded = false;
            if (outcome.succeeded()) {
                out.println();
                out.println("Now the main job: the iris training pipeline (KFP IR, " + IrisExample.PIPELINE + ").");
                var iris = new IrisExample(CapstanClient.of(url).withToken(token), out, config.home());
                pipelineSucceeded = iris.run(url);
                var model = iris.onnxModel();
                if (pipelineSucceeded && model.isPresent()) {
                    out.println();
                    pipelineSucceeded = new IrisServing(CapstanClient.of(url).withToken(token), out).run(model.get(), iris.runUid());
                }
            }
            out.println();
            out.println("Open the web UI (the link logs you in as the server admin; keep it private):");
            out.println("  " + uiUrl(url, token));
            out.println();
            out.println("Look around:");
            var job = url + "/apis/capstan/v1/namespaces/" + ExampleRun.NAMESPACE + "/jobs/hello";
            out.println("  " + job);
            out.println("  " + job + "/log");
            out.println("  capstan get jobs --server " + url);
            out.println("  capstan get pipelineruns --server " + url);
            out.println("  capstan run my-pipeline.yaml --watch --server " + url);
            out.println("  capstan get inferenceservices --server " + url);
            if (exitAtEnd || !root.isInteractive()) {
                out.flush();
                return outcome.succeeded() && pipelineSucceeded ? ExitCodes.OK : ExitCodes.FAILURE;
            }
            out.println();
            out.println("The server keeps running; press Ctrl-C to stop it.");
            out.flush();
            Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("capstan-shutdown").unstarted(server::close));
            server.awaitTermination();
            return ExitCodes.OK;
        }
    }

    private static String summary(ExampleRun.Outcome outcome) {
        var status = outcome.job().path("status");
        if (!outcome.finishedInTime()) {
            return "The example job did not finish within " + JOB_DEADLINE.toSeconds() + " s; it is "
                    + outcome.phase().map(Phase::wireName).orElse("without a phase") + ".";
        }
        var took = Age.instant(status.path("startTime").asText(""))
                .flatMap(s -> Age.instant(status.path("completionTime").asText("")).map(e -> Duration.between(s, e)))
                .map(d -> " in " + String.format(java.util.Locale.ROOT, "%.1f s", d.toMillis() / 1000.0))
                .orElse("");
        if (outcome.succeeded()) return "The example job succeeded" + took + ".";
        var message = status.path("message").asText("");
        return "The example job failed" + took + (message.isEmpty() ? "" : ": " + message) + ".";
    }

    /** The run list's URL with the admin token, which the UI turns into a session cookie and drops from the address bar. */
    static String uiUrl(String serverUrl, java.util.Optional<String> token) {
        return serverUrl + "/runs" + token.map(t -> "?token=" + java.net.URLEncoder.encode(t, java.nio.charset.StandardCharsets.UTF_8)).orElse("");
    }

    static byte[] example() {
        try (InputStream in = QuickstartCommand.class.getClassLoader().getResourceAsStream(EXAMPLE)) {
            if (in == null) throw new IllegalStateException(EXAMPLE + " is missing from the capstan jar; rebuild it");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + EXAMPLE + " from the capstan jar", e);
        }
    }

    /** Whether nothing listens on the port now; the server may still lose a race for it, which start() reports. */
    static boolean isFree(String host, int port) {
        if (port == 0) return true;
        try (var socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress(host, port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
