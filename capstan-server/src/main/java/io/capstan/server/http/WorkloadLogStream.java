package io.capstan.server.http;

import io.capstan.backend.Backend;
import io.capstan.backend.LogLine;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** Writes a workload's log lines as plain text: its last lines, then, when following, new ones until it ends. */
public final class WorkloadLogStream {
    static final Duration LAUNCH_WAIT = Duration.ofMinutes(1);
    private static final Duration LAUNCH_POLL = Duration.ofMillis(20);
    private final Backend backend;
    private final Clock clock;

    public WorkloadLogStream(Backend backend, Clock clock) {
        this.backend = backend;
        this.clock = clock;
    }

    /**
     * Copies the last {@code tail} lines of {@code workloadId}, then, if {@code follow}, more until it ends or {@code deadline}.
     * A controller records a workload's id in its owner's status before it launches it; until the launch, there are
     * no lines, and a follower waits for the launch (at most {@link #LAUNCH_WAIT}).
     */
    public void copy(String workloadId, int tail, boolean follow, Instant deadline, OutputStream out) throws IOException {
        if (backend.find(workloadId).isEmpty()) {
            if (!follow) return;
            var launchDeadline = min(deadline, clock.instant().plus(LAUNCH_WAIT));
            while (backend.find(workloadId).isEmpty()) {
                if (!clock.instant().isBefore(launchDeadline)) return;
                java.util.concurrent.locks.LockSupport.parkNanos(LAUNCH_POLL.toNanos());
            }
        }
        var lines = backend.tail(workloadId, tail);
        long next = write(out, lines, lines.isEmpty() ? 0 : lines.getFirst().number());
        if (lines.isEmpty()) next = 0;
        while (follow && clock.instant().isBefore(deadline)) {
            var more = backend.follow(workloadId, next, Duration.ofSeconds(1));
            next = write(out, more, next);
            if (more.isEmpty()) {
                var state = backend.find(workloadId);
                if (state.isEmpty() || state.get().phase().isTerminal()) {
                    write(out, backend.follow(workloadId, next, Duration.ZERO), next);
                    return;
                }
            }
        }
    }

    private static Instant min(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }

    private static long write(OutputStream out, List<LogLine> lines, long next) throws IOException {
        for (var l : lines) {
            out.write(l.text().getBytes(StandardCharsets.UTF_8));
            out.write('\n');
            next = l.number() + 1;
        }
        if (!lines.isEmpty()) out.flush();
        return next;
    }
}
