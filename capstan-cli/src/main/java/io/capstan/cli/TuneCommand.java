package io.capstan.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.tuning.TrialTable;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "tune", mixinStandardHelpOptions = true, versionProvider = Version.Provider.class,
        description = "Run a Katib Experiment (hyperparameter tuning) on the server; with --watch, show each trial as it "
                + "finishes and the best so far, and exit 0 only if the experiment succeeded.")
final class TuneCommand extends ClientCommand {
    static final String TRIAL_LABEL = "katib.kubeflow.org/experiment";
    static final Duration POLL = Duration.ofMillis(500);

    @Parameters(index = "0", paramLabel = "EXPERIMENT.yaml", description = "The Experiment (kubeflow.org/v1beta1), or - for standard input.")
    private String file;

    @Option(names = {"-w", "--watch"}, description = "Show trials as they finish until the experiment ends.")
    private boolean watch;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "86400",
            description = "With --watch, give up waiting after this many seconds (default: ${DEFAULT-VALUE}).")
    private long timeoutSeconds;

    @Mixin
    private NamespaceOptions namespaceOptions;

    @Override
    public Integer call() {
        var client = client();
        var experiment = Submission.submit(client, file, root.stdin(), namespaceOptions.namespace(), out(), "Experiment"::equals, "Experiment");
        if (!watch) return ExitCodes.OK;
        var name = experiment.path("metadata").path("name").asText();
        var namespace = experiment.path("metadata").path("namespace").asText(namespaceOptions.namespace());
        var finished = follow(client, namespace, name, Duration.ofSeconds(timeoutSeconds));
        if (finished.isEmpty()) {
            err().println("error: experiment " + name + " did not finish within " + timeoutSeconds + " s; it goes on on the server");
            return ExitCodes.FAILURE;
        }
        return finished.get().path("status").path("phase").asText("").equals("Succeeded") ? ExitCodes.OK : ExitCodes.FAILURE;
    }

    private Optional<JsonNode> follow(CapstanClient client, String namespace, String name, Duration timeout) {
        var experiments = client.resolve("experiments.kubeflow.org");
        var trials = client.resolve("trials");
        var shown = new HashSet<String>();
        var phase = "";
        var deadline = Instant.now().plus(timeout);
        var out = out();
        while (Instant.now().isBefore(deadline)) {
            var experiment = client.get(experiments, namespace, name);
            var listing = client.list(trials, Optional.of(namespace), Optional.of(TRIAL_LABEL + "=" + name));
            boolean news = false;
            for (var trial : listing.items()) {
                var trialPhase = trial.path("status").path("phase").asText("");
                if (!isTrialFinished(trialPhase) || !shown.add(trial.path("metadata").path("name").asText())) continue;
                out.println("  " + TrialTable.trialLine(Submission.resource(experiment), Submission.resource(trial)));
                news = true;
            }
            if (news) out.println("  " + TrialTable.bestSoFar(Submission.resource(experiment)));
            var now = experiment.path("status").path("phase").asText("");
            if (!now.equals(phase)) {
                phase = now;
                var message = experiment.path("status").path("message").asText("");
                out.println("experiment " + name + ": " + (phase.isEmpty() ? "Created" : phase) + (message.isEmpty() ? "" : " (" + message + ")"));
            }
            out.flush();
            if (phase.equals("Succeeded") || phase.equals("Failed")) return Optional.of(experiment);
            LockSupport.parkNanos(POLL.toNanos());
        }
        return Optional.empty();
    }

    static boolean isTrialFinished(String phase) {
        return !phase.isEmpty() && !phase.equals("Created") && !phase.equals("Running");
    }
}
