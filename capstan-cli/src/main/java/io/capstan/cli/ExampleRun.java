package io.capstan.cli;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Applies the quickstart's example job and shows it running: each phase change, the log lines as they come, and
 * the outcome. Phase changes come from a watch; a periodic read covers a watch that misses the end.
 */
final class ExampleRun {
    static final String NAMESPACE = "default";
    private static final Duration CHECK_EVERY = Duration.ofSeconds(1);
    private static final Duration LOG_DRAIN = Duration.ofSeconds(10);
    private static final Duration LOG_RETRY = Duration.ofMillis(200);

    private final CapstanClient client;
    private final PrintWriter out;
    private final Duration deadline;

    /** Guards {@link #lastPhase} and {@link #logs}; phase reports arrive from the watch and from the main thread. */
    private final ReentrantLock lock = new ReentrantLock();
    private Optional<Phase> lastPhase = Optional.empty();
    private Thread logs;
    private final CompletableFuture<JsonNode> finished = new CompletableFuture<>();

    ExampleRun(CapstanClient client, PrintWriter out, Duration deadline) {
        this.client = Objects.requireNonNull(client, "client");
        this.out = Objects.requireNonNull(out, "out");
        this.deadline = Objects.requireNonNull(deadline, "deadline");
    }

    /** The outcome: the job as last seen, and whether it reached a terminal phase in time. */
    record Outcome(JsonNode job, Optional<Phase> phase, boolean finishedInTime) {
        boolean succeeded() {
            return finishedInTime && phase.equals(Optional.of(Phase.SUCCEEDED));
        }
    }

    Outcome run(byte[] manifest, String source) throws InterruptedException {
        var type = client.resolve("jobs");
        var response = client.apply(manifest, "application/yaml", NAMESPACE, source);
        var items = new ArrayList<JsonNode>();
        response.path("items").forEach(items::add);
        for (var result : response.path("results")) out.println(ApplyCommand.line(result, items));
        out.flush();
        if (items.isEmpty()) throw new CommandFailedException("the server applied " + source + " but returned no resource");
        var job = items.getFirst();
        var name = job.path("metadata").path("name").asText();
        var resourceVersion = job.path("metadata").path("resourceVersion").asText("");
        report(type, job);

        var watcher = Thread.ofVirtual().name("quickstart-watch").start(() -> watch(type, name, resourceVersion));
        var end = Instant.now().plus(deadline);
        JsonNode last = job;
        try {
            while (!finished.isDone() && Instant.now().isBefore(end)) {
                try {
                    last = finished.get(CHECK_EVERY.toMillis(), TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    // Level-triggered: read the job itself in case the watch missed or lost an event.
                    last = client.get(type, NAMESPACE, name);
                    report(type, last);
                } catch (ExecutionException e) {
                    throw new CommandFailedException("watching job " + name + " failed: " + e.getCause().getMessage(), e.getCause());
                }
            }
            if (finished.isDone()) last = finished.getNow(last);
        } finally {
            watcher.interrupt();
        }
        drainLogs();
        return new Outcome(last, Phase.of(last), finished.isDone());
    }

    private void watch(ResourceType type, String name, String resourceVersion) {
        try {
            client.watch(type, Optional.of(NAMESPACE), resourceVersion, event -> {
                if (!name.equals(event.object().path("metadata").path("name").asText())) return true;
                report(type, event.object());
                return !finished.isDone();
            });
        } catch (RuntimeException e) {
            // The main thread keeps reading the job every second, so a broken watch only slows the display down.
            if (!Thread.currentThread().isInterrupted()) {
                out.println("  (watch ended: " + e.getMessage() + "; checking every " + CHECK_EVERY.toSeconds() + " s)");
                out.flush();
            }
        }
    }

    /** Prints a phase change and starts streaming the log once the process has started. */
    private void report(ResourceType type, JsonNode job) {
        var phase = Phase.of(job);
        lock.lock();
        try {
            if (phase.isPresent() && !phase.equals(lastPhase)) {
                lastPhase = phase;
                out.println("  phase: " + phase.get().wireName() + details(job, phase.get()));
                out.flush();
            }
            if (logs == null && phase.isPresent() && phase.get() != Phase.PENDING) {
                var name = job.path("metadata").path("name").asText();
                logs = Thread.ofVirtual().name("quickstart-logs").start(() -> streamLogs(type, name));
            }
            if (phase.isPresent() && phase.get().isTerminal()) finished.complete(job);
        } finally {
            lock.unlock();
        }
    }

    private static String details(JsonNode job, Phase phase) {
        if (!phase.isTerminal()) return "";
        var status = job.path("status");
        var parts = new ArrayList<String>();
        if (status.has("exitCode")) parts.add("exit code " + status.path("exitCode").asText());
        var message = status.path("message").asText("");
        if (!message.isEmpty()) parts.add(message);
        return parts.isEmpty() ? "" : " (" + String.join(", ", parts) + ")";
    }

    private void streamLogs(ResourceType type, String name) {
        var end = Instant.now().plus(deadline);
        while (Instant.now().isBefore(end)) {
            try (InputStream in = client.openLog(type, NAMESPACE, name, OptionalInt.empty(), CapstanClient.LogMode.FOLLOW);
                 var reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = reader.readLine()) != null) {
                    out.println("  | " + line);
                    out.flush();
                }
                return;
            } catch (ApiException e) {
                // The log may not exist for a moment after the process starts.
                if (e.status() != 404 || finished.isDone()) {
                    out.println("  (no log: " + e.getMessage() + ")");
                    out.flush();
                    return;
                }
            } catch (IOException | RuntimeException e) {
                if (!Thread.currentThread().isInterrupted()) {
                    out.println("  (log stream ended: " + e.getMessage() + ")");
                    out.flush();
                }
                return;
            }
            try {
                Thread.sleep(LOG_RETRY);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void drainLogs() throws InterruptedException {
        Thread t;
        lock.lock();
        try {
            t = logs;
        } finally {
            lock.unlock();
        }
        if (t != null && !t.join(LOG_DRAIN)) {
            t.interrupt();
            out.println("  (log still streaming after " + LOG_DRAIN.toSeconds() + " s; stopped following it)");
            out.flush();
        }
    }
}
