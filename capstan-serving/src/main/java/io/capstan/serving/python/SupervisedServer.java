package io.capstan.serving.python;

import io.capstan.serving.runtime.ModelLoadException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One model-server process, kept running: started and probed until ready ({@code GET /v2/health/ready} answers 200,
 * or 404 from a server without that route), restarted with exponential back-off (0.5 s doubling to 30 s, back to the
 * start after a minute of good health) when it exits, and stopped, with its children, on {@link #close()}. While it
 * is down, {@link #ready()} is false and calls to it fail at once.
 */
public final class SupervisedServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(SupervisedServer.class.getName());
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(500);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

    private final ProcessLauncher launcher;
    private final ProcessSpec spec;
    private final Duration startTimeout;
    private final HttpClient client;
    private final URI base;
    private volatile Process process;
    private volatile boolean ready;
    private volatile boolean closed;
    private volatile int restarts;
    private Thread watcher;

    public SupervisedServer(ProcessLauncher launcher, ProcessSpec spec, Duration startTimeout, HttpClient client) {
        this.launcher = launcher;
        this.spec = spec;
        this.startTimeout = startTimeout;
        this.client = client;
        this.base = URI.create("http://127.0.0.1:" + spec.port());
    }

    /** Starts the process and waits until it is ready; a process that exits or stays unready fails the load. */
    public void start() throws ModelLoadException {
        try {
            launchAndAwait();
        } catch (ModelLoadException e) {
            close();
            throw e;
        }
        watcher = Thread.ofVirtual().name("capstan-supervise-" + spec.name()).start(this::supervise);
    }

    public URI base() {
        return base;
    }

    public boolean ready() {
        return ready && !closed;
    }

    /** How many times the process was restarted after exiting. */
    public int restarts() {
        return restarts;
    }

    /** The process now running, if any: for tests and diagnostics. */
    public Process process() {
        return process;
    }

    public ProcessSpec spec() {
        return spec;
    }

    private void launchAndAwait() throws ModelLoadException {
        Process started;
        try {
            started = launcher.launch(spec);
        } catch (IOException e) {
            throw new ModelLoadException(spec.name() + " could not start: " + e.getMessage(), e);
        }
        process = started;
        long deadline = System.nanoTime() + startTimeout.toNanos();
        while (!closed) {
            if (!started.isAlive()) {
                throw new ModelLoadException(spec.name() + " exited with status " + started.exitValue()
                        + " before it was ready" + logTail());
            }
            if (probe()) {
                ready = true;
                return;
            }
            if (System.nanoTime() > deadline) {
                stop(started);
                throw new ModelLoadException(spec.name() + " was not ready within " + startTimeout.toSeconds()
                        + " s (GET /v2/health/ready on port " + spec.port() + ")" + logTail());
            }
            sleep(Duration.ofMillis(100));
        }
        stop(started);
        throw new ModelLoadException(spec.name() + " was stopped while starting");
    }

    private boolean probe() {
        try {
            var request = HttpRequest.newBuilder(base.resolve("/v2/health/ready")).timeout(Duration.ofSeconds(2)).GET().build();
            int status = client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
            return status == 200 || status == 404;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void supervise() {
        var backoff = FIRST_BACKOFF;
        while (!closed) {
            var running = process;
            long since = System.nanoTime();
            try {
                running.waitFor();
            } catch (InterruptedException e) {
                return;
            }
            ready = false;
            if (closed) return;
            if (Duration.ofNanos(System.nanoTime() - since).compareTo(Duration.ofMinutes(1)) > 0) backoff = FIRST_BACKOFF;
            LOG.log(System.Logger.Level.WARNING, spec.name() + " exited with status " + running.exitValue() + "; restarting in "
                    + backoff.toMillis() + " ms" + logTail());
            sleep(backoff);
            backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
            if (closed) return;
            try {
                launchAndAwait();
                restarts++;
            } catch (ModelLoadException e) {
                LOG.log(System.Logger.Level.WARNING, "restarting " + spec.name() + " failed: " + e.getMessage());
                var failed = process;
                if (failed != null && failed.isAlive()) stop(failed);
            }
        }
    }

    /** The last lines the process wrote, for an error message. */
    String logTail() {
        try {
            if (spec.log() == null || !Files.exists(spec.log())) return "";
            List<String> lines = Files.readAllLines(spec.log(), StandardCharsets.UTF_8);
            var tail = lines.subList(Math.max(0, lines.size() - 5), lines.size());
            var text = String.join(" | ", tail).strip();
            if (text.length() > 1500) text = "..." + text.substring(text.length() - 1500);
            return text.isEmpty() ? "" : "; its last output: " + text;
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void stop(Process process) {
        var descendants = process.descendants().toList();
        process.destroy();
        descendants.forEach(ProcessHandle::destroy);
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        descendants.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    }

    @Override
    public void close() {
        closed = true;
        ready = false;
        if (watcher != null) watcher.interrupt();
        var running = process;
        if (running != null) stop(running);
    }
}
