package io.capstan.training;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.backend.GpuDetector;
import io.capstan.backend.WorkloadPhase;
import io.capstan.store.testing.TestDatabases;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server that dies while a job runs: its store (an H2 file, as embedded mode uses) and its backend are abandoned
 * without any shutdown work, and a new controller and backend open the same folders, as after {@code kill -9}.
 */
class ServerRestartTest {
    @TempDir
    Path dir;

    private static String job(String name, String command, int backoffLimit) {
        return """
                apiVersion: kubeflow.org/v1
                kind: PyTorchJob
                metadata: {name: %s}
                spec:
                  runPolicy: {backoffLimit: %d}
                  pytorchReplicaSpecs:
                    Master: {replicas: 1, template: {spec: {containers: [{name: pytorch, image: x, command: [sh, -c, '%s']}]}}}
                    Worker: {replicas: 2, template: {spec: {containers: [{name: pytorch, image: x, command: [sh, -c, '%s']}]}}}
                """.formatted(name, backoffLimit, command, command);
    }

    private Testbed open() {
        return Testbed.open(dir, Testbed.migrated(TestDatabases.h2File(dir.resolve("db"))), GpuDetector.none(), ModelLineage.NONE);
    }

    /** Abandons the bed as a killed server would: the watchers stop, the processes live on, nothing is cleaned up. */
    private static void crash(Testbed bed) {
        bed.backend.close();
        bed.db.close();
    }

    @Test
    void aRunningJobIsReadoptedAfterARestartAndFinishesWithoutRelaunching() throws Exception {
        var marks = Files.createDirectories(dir.resolve("marks"));
        var before = open();
        var key = before.apply(job("survivor", "echo started >> " + marks + "/$RANK; sleep 4", 0));
        var running = before.runUntil(key, Duration.ofSeconds(60), "Running", j -> j.status().phase().equals("Running"));
        var workloads = TrainingWorkloads.members(running);
        crash(before);

        try (var after = open()) {
            for (var m : workloads) {
                assertThat(after.backend.find(m.workloadId())).as("re-adopted " + m.workloadId()).isPresent();
            }
            var done = after.runToEnd(key);
            assertThat(done.status().phase()).as(after.logs(done)).isEqualTo("Succeeded");
            assertThat(done.status().field("attempt").orElseThrow().asInt()).isEqualTo(1);
            for (int rank = 0; rank < 3; rank++) assertThat(Files.readAllLines(marks.resolve(String.valueOf(rank)))).containsExactly("started");
        }
    }

    @Test
    void workloadsLostWhileTheServerWasDownRestartTheJobUnderItsPolicy() throws Exception {
        var pids = Files.createDirectories(dir.resolve("pids"));
        var before = open();
        // The first attempt records its pid and sleeps; the second finds the marker and succeeds at once.
        var command = "if [ -f " + dir + "/second ]; then exit 0; fi; echo $$ > " + pids + "/$RANK; exec sleep 120";
        var key = before.apply(job("phoenix", command, 1));
        var lostToo = before.apply(job("doomed", "exec sleep 120", 0));
        before.runUntil(key, Duration.ofSeconds(60), "Running", j -> j.status().phase().equals("Running"));
        before.runUntil(lostToo, Duration.ofSeconds(60), "Running", j -> j.status().phase().equals("Running"));
        crash(before);
        // While the server is down, every process dies.
        for (var rank : new String[] {"0", "1", "2"}) {
            long pid = Long.parseLong(Files.readString(pids.resolve(rank)).trim());
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
        Files.writeString(dir.resolve("second"), "");
        try (var after = open()) {
            // "doomed" still has live processes: kill them too, so that both jobs see LOST or FAILED ranks.
            for (var m : TrainingWorkloads.members(after.get(lostToo))) after.backend.cancel(m.workloadId());
            var restarted = after.runToEnd(key);
            assertThat(restarted.status().phase()).as(after.logs(restarted)).isEqualTo("Succeeded");
            assertThat(restarted.status().field("restarts").orElseThrow().asInt()).isEqualTo(1);
            assertThat(restarted.status().condition("Restarting").orElseThrow().message()).containsAnyOf("lost", "LOST", "vanished", "killed", "signal", "exited");

            var failed = after.runToEnd(lostToo);
            assertThat(failed.status().phase()).isEqualTo("Failed");
            assertThat(TrainingWorkloads.members(failed)).allSatisfy(m ->
                    assertThat(after.backend.find(m.workloadId()).orElseThrow().phase()).isNotEqualTo(WorkloadPhase.RUNNING));
        }
    }
}
