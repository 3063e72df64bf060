package io.capstan.training;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real torch.distributed jobs (gloo, CPU) launched by Capstan, compared with torchrun running the same script. */
class TorchDistributedTest {
    @TempDir
    Path dir;
    Testbed bed;
    String python;
    Path script;

    @BeforeEach
    void setUp() throws IOException {
        python = TorchPython.require();
        script = TorchPython.script(dir, "ddp_check.py");
        bed = Testbed.h2(dir);
    }

    @AfterEach
    void tearDown() {
        if (bed != null) bed.close();
    }

    private String job(String name, Path out, String extraEnv, String runPolicy) {
        var container = "{name: pytorch, image: pytorch/pytorch, command: [%s, %s, %s]%s}".formatted(python, script, out, extraEnv);
        return """
                apiVersion: kubeflow.org/v1
                kind: PyTorchJob
                metadata: {name: %s}
                spec:
                  nprocPerNode: 2
                  runPolicy: %s
                  pytorchReplicaSpecs:
                    Master: {replicas: 1, restartPolicy: OnFailure, template: {spec: {containers: [%s]}}}
                    Worker: {replicas: 1, restartPolicy: OnFailure, template: {spec: {containers: [%s]}}}
                """.formatted(name, runPolicy, container, container);
    }

    private static List<JsonNode> results(Path out, int world) throws IOException {
        var all = new ArrayList<JsonNode>();
        for (int rank = 0; rank < world; rank++) all.add(Json.json().readTree(Files.readString(out.resolve("rank-" + rank + ".json"))));
        return all;
    }

    @Test
    void twoNodesOfTwoProcessesTrainAsTorchrunWithFourProcessesDoes() throws Exception {
        var out = dir.resolve("capstan");
        var job = bed.runToEnd(bed.apply(job("ddp", out, "", "{backoffLimit: 0}")));
        assertThat(job.status().phase()).as(bed.logs(job)).isEqualTo("Succeeded");
        var capstan = results(out, 4);
        for (var r : capstan) {
            assertThat(r.path("world").asInt()).isEqualTo(4);
            assertThat(r.path("allreduce").asDouble()).isEqualTo(10.0);
            assertThat(r.path("identical").asBoolean()).isTrue();
            assertThat(r.path("params")).isEqualTo(capstan.getFirst().path("params"));
            assertThat(r.path("local_rank").asInt()).isEqualTo(r.path("rank").asInt() % 2);
        }

        var torchrunOut = dir.resolve("torchrun");
        // Debian's torch 1.13 torchrun crashes on Python 3.11 with the default --redirects/--tee of 0 (an IntFlag
        // change); 2 and 1 avoid that code path and still print every rank's stdout.
        var process = new ProcessBuilder(python, "-m", "torch.distributed.run", "--redirects", "2", "--tee", "1", "--nproc_per_node=4",
                "--master_port=" + TrainingJobReconciler.freePort(), script.toString(), torchrunOut.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("torchrun.log").toFile()).start();
        if (!process.waitFor(Testbed.JOB_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            throw new AssertionError("torchrun did not finish: " + Files.readString(dir.resolve("torchrun.log")));
        }
        var torchrunLog = Files.readString(dir.resolve("torchrun.log"));
        assertThat(process.exitValue()).withFailMessage("torchrun exited with %s:%n%s", process.exitValue(), torchrunLog).isZero();
        var torchrun = results(torchrunOut, 4);
        for (int rank = 0; rank < 4; rank++) {
            assertThat(torchrun.get(rank).path("allreduce")).isEqualTo(capstan.get(rank).path("allreduce"));
            assertThat(torchrun.get(rank).path("params")).isEqualTo(capstan.get(rank).path("params"));
        }
    }

    @Test
    void aRankThatCrashesOnceRestartsTheWholeJobWhichThenSucceeds() throws Exception {
        var out = dir.resolve("restart");
        var env = ", env: [{name: CRASH_RANK, value: '3'}, {name: CRASH_MARKER, value: '%s'}]".formatted(dir.resolve("crashed-once"));
        var job = bed.runToEnd(bed.apply(job("flaky-ddp", out, env, "{backoffLimit: 2}")));
        assertThat(job.status().phase()).as(bed.logs(job)).isEqualTo("Succeeded");
        assertThat(job.status().field("restarts").orElseThrow().asInt()).isEqualTo(1);
        assertThat(job.status().field("attempt").orElseThrow().asInt()).isEqualTo(2);
        assertThat(job.status().condition("Restarting").orElseThrow().message()).contains("rank 3").contains("exited with code 3");
        assertThat(Files.exists(dir.resolve("crashed-once"))).isTrue();
        for (var r : results(out, 4)) assertThat(r.path("identical").asBoolean()).isTrue();
        // The first attempt's rank 3 log is kept under its own workload id.
        var firstAttempt = TrainingWorkloads.workloadId(job.metadata().uid(), 1, 3);
        assertThat(bed.log(firstAttempt)).contains("crashing on purpose");
    }
}
