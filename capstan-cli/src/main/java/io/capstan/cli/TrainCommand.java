package io.capstan.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.training.TrainingTable;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "train", mixinStandardHelpOptions = true, versionProvider = Version.Provider.class,
        description = "Run a training job (TrainJob, PyTorchJob, XGBoostJob, ...) on the server; with --watch, show its state "
                + "and replica counts as they change, and exit 0 only if it succeeded.")
final class TrainCommand extends ClientCommand {
    static final Set<String> JOB_KINDS = Set.of("TrainJob", "PyTorchJob", "XGBoostJob", "TFJob", "MPIJob", "PaddleJob", "JAXJob");
    static final Duration POLL = Duration.ofMillis(500);

    @Parameters(index = "0", paramLabel = "JOB.yaml", description = "The job, with any TrainingRuntime it needs, or - for standard input.")
    private String file;

    @Option(names = {"-w", "--watch"}, description = "Show the job's state until it ends.")
    private boolean watch;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "86400",
            description = "With --watch, give up waiting after this many seconds (default: ${DEFAULT-VALUE}).")
    private long timeoutSeconds;

    @Mixin
    private NamespaceOptions namespaceOptions;

    @Override
    public Integer call() {
        var client = client();
        var job = Submission.submit(client, file, root.stdin(), namespaceOptions.namespace(), out(), JOB_KINDS::contains, "training job");
        if (!watch) return ExitCodes.OK;
        var type = client.resolve(job.path("kind").asText() + "." + job.path("apiVersion").asText().split("/")[0]);
        var name = job.path("metadata").path("name").asText();
        var namespace = job.path("metadata").path("namespace").asText(namespaceOptions.namespace());
        var finished = follow(client, type, namespace, name, Duration.ofSeconds(timeoutSeconds));
        if (finished.isEmpty()) {
            err().println("error: " + name + " did not finish within " + timeoutSeconds + " s; it goes on on the server");
            return ExitCodes.FAILURE;
        }
        return finished.get().path("status").path("phase").asText("").equals("Succeeded") ? ExitCodes.OK : ExitCodes.FAILURE;
    }

    private Optional<JsonNode> follow(CapstanClient client, ResourceType type, String namespace, String name, Duration timeout) {
        var deadline = Instant.now().plus(timeout);
        var last = "";
        while (Instant.now().isBefore(deadline)) {
            var job = client.get(type, namespace, name);
            var line = TrainingTable.summary(Submission.resource(job));
            if (!line.equals(last)) {
                out().println(line);
                out().flush();
                last = line;
            }
            var phase = job.path("status").path("phase").asText("");
            if (phase.equals("Succeeded") || phase.equals("Failed")) return Optional.of(job);
            LockSupport.parkNanos(POLL.toNanos());
        }
        return Optional.empty();
    }
}
