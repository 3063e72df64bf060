package io.capstan.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Names;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;

/** Follows a PipelineRun, printing each task's state as it changes, until the run ends or time runs out. */
final class RunWatcher {
    static final Duration POLL = Duration.ofMillis(300);

    private final CapstanClient client;
    private final PrintWriter out;

    RunWatcher(CapstanClient client, PrintWriter out) {
        this.client = client;
        this.out = out;
    }

    /** The finished run, or empty when it was still going after {@code timeout}. */
    Optional<JsonNode> follow(String namespace, String runName, Duration timeout) {
        var type = client.resolve("pipelineruns");
        var shown = new HashMap<String, String>();
        String phase = "";
        var deadline = Instant.now().plus(timeout);
        while (Instant.now().isBefore(deadline)) {
            var run = client.get(type, namespace, runName);
            var status = run.path("status");
            status.path("tasks").properties().forEach(e -> {
                var state = e.getValue().path("state").asText("");
                if (!state.equals(shown.get(e.getKey()))) {
                    shown.put(e.getKey(), state);
                    var message = e.getValue().path("message").asText("");
                    out.println("  " + Names.printable(e.getKey()) + ": " + state
                            + (message.isEmpty() || !state.equals("FAILED") ? "" : " (" + Names.printable(message) + ")"));
                }
            });
            var now = status.path("phase").asText("");
            if (!now.equals(phase)) {
                phase = now;
                out.println("run " + runName + ": " + (phase.isEmpty() ? "Pending" : phase));
            }
            out.flush();
            if (isTerminal(phase)) return Optional.of(run);
            LockSupport.parkNanos(POLL.toNanos());
        }
        return Optional.empty();
    }

    static boolean isTerminal(String phase) {
        return phase.equals("Succeeded") || phase.equals("Failed") || phase.equals("Cancelled");
    }
}
