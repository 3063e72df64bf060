package io.capstan.server.http;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The named checks behind {@code /readyz}. The server is ready when every check passes; each runs on its own
 * virtual thread within a time limit, so that a database that hangs makes {@code /readyz} say so instead of hang.
 */
public final class Readiness {
    /** What one check found: whether it passed, and a sentence saying what it saw. */
    public record Outcome(boolean passed, String detail) {
        public Outcome {
            Objects.requireNonNull(detail, "detail");
        }

        public static Outcome pass(String detail) {
            return new Outcome(true, detail);
        }

        public static Outcome fail(String detail) {
            return new Outcome(false, detail);
        }
    }

    /** One check; throwing counts as failing, with the exception's message as the detail. */
    @FunctionalInterface
    public interface Check {
        Outcome run() throws Exception;
    }

    /** A check's name with its outcome. */
    public record Result(String name, boolean passed, String detail) {
    }

    private final Map<String, Check> checks = new LinkedHashMap<>();
    private final Duration timeout;

    public Readiness(Duration timeout) {
        if (!timeout.isPositive()) throw new IllegalArgumentException("readiness timeout must be > 0, got " + timeout);
        this.timeout = timeout;
    }

    /** Adds a check; call before the server starts answering. */
    public Readiness with(String name, Check check) {
        Objects.requireNonNull(check, "check");
        if (checks.putIfAbsent(Objects.requireNonNull(name, "name"), check) != null) {
            throw new IllegalArgumentException("readiness check '" + name + "' is already registered");
        }
        return this;
    }

    /** Runs every check at once and returns the results in the order the checks were added. */
    public List<Result> run() {
        var results = new ArrayList<Result>();
        // Not closed with try-with-resources: close() would wait for a check that hangs; this interrupts it and goes on.
        var pool = Executors.newVirtualThreadPerTaskExecutor();
        try {
            var pending = new LinkedHashMap<String, Future<Outcome>>();
            checks.forEach((name, check) -> pending.put(name, pool.submit(check::run)));
            long deadline = System.nanoTime() + timeout.toNanos();
            pending.forEach((name, future) -> results.add(result(name, future, deadline)));
        } finally {
            pool.shutdownNow();
        }
        return results;
    }

    private Result result(String name, Future<Outcome> future, long deadlineNanos) {
        try {
            var outcome = future.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
            return new Result(name, outcome.passed(), outcome.detail());
        } catch (ExecutionException e) {
            var cause = e.getCause();
            return new Result(name, false, cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage());
        } catch (TimeoutException e) {
            return new Result(name, false, "no answer within " + timeout.toMillis() + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(name, false, "interrupted");
        }
    }
}
