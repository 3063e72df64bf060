package io.capstan.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.backend.LocalBackend;
import io.capstan.backend.WorkloadSpec;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A controller records a workload's id before it launches it, so a log request can name a workload the backend does
 * not know yet. Following it used to fail with "does not exist on this backend"; it now waits for the launch.
 */
class WorkloadLogStreamTest {
    @TempDir
    Path dir;
    LocalBackend backend;

    @BeforeEach
    void start() {
        backend = new LocalBackend(LocalBackend.Options.of(dir.resolve("workloads")));
    }

    @AfterEach
    void stop() {
        backend.shutdownAndKillAll(Duration.ofSeconds(5));
    }

    @Test
    void followingAWorkloadRecordedButNotYetLaunchedWaitsForItsLines() throws Exception {
        var out = new ByteArrayOutputStream();
        try (var launcher = Executors.newSingleThreadScheduledExecutor()) {
            launcher.schedule(() -> backend.launch(WorkloadSpec.of("late", List.of("sh", "-c", "echo one; echo two"))),
                    300, TimeUnit.MILLISECONDS);
            var clock = Clock.systemUTC();
            new WorkloadLogStream(backend, clock).copy("late", 100, true, clock.instant().plusSeconds(30), out);
        }
        assertThat(out.toString()).isEqualTo("one\ntwo\n");
    }

    @Test
    void notFollowingAWorkloadNotYetLaunchedAnswersNoLines() throws Exception {
        var out = new ByteArrayOutputStream();
        var clock = Clock.systemUTC();
        new WorkloadLogStream(backend, clock).copy("never", 100, false, clock.instant().plusSeconds(30), out);
        assertThat(out.toString()).isEmpty();
    }
}
