package io.capstan.training;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.backend.testing.TestImages;
import io.capstan.core.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A two-rank PyTorchJob whose training script is only in its image, run in Podman containers that reach each other
 * over the host's network. The image is busybox plus the script; the host's Python and Debian's torch come in through
 * hostPath volumes (read-only {@code /usr} and {@code /etc/alternatives}, where Debian points BLAS), as a cluster
 * would mount a shared toolchain: a python3+torch image built offline would cost CI minutes and a gigabyte.
 */
class ContainerGangTest {
    @TempDir
    Path dir;
    Testbed bed;
    String image;

    @BeforeEach
    void setUp() throws Exception {
        TorchPython.require();
        TestImages.require();
        image = TestImages.image("torch-ddp", Map.of("/opt/train/ddp_check.py", Files.readString(TorchPython.script(dir, "ddp_check.py"))));
        bed = Testbed.h2(dir);
    }

    @AfterEach
    void tearDown() {
        if (bed != null) bed.close();
    }

    @Test
    void twoRanksInContainersAllReduceOverGloo() throws Exception {
        var out = Files.createDirectories(dir.resolve("out"));
        var pod = """
                {spec: {
                  volumes: [{name: usr, hostPath: {path: /usr}}, {name: alternatives, hostPath: {path: /etc/alternatives}}, {name: out, hostPath: {path: %s}}],
                  containers: [{name: pytorch, image: %s, imagePullPolicy: Never, workingDir: /opt/train,
                    command: [/usr/bin/python3, ddp_check.py, /results],
                    volumeMounts: [{name: usr, mountPath: /usr, readOnly: true}, {name: alternatives, mountPath: /etc/alternatives, readOnly: true},
                                   {name: out, mountPath: /results}]}]}}""".formatted(out, image);
        var job = bed.runToEnd(bed.apply("""
                apiVersion: kubeflow.org/v1
                kind: PyTorchJob
                metadata:
                  name: ddp-in-containers
                  annotations: {capstan.io/execution: container}
                spec:
                  runPolicy: {backoffLimit: 0}
                  pytorchReplicaSpecs:
                    Master: {replicas: 1, restartPolicy: Never, template: %s}
                    Worker: {replicas: 1, restartPolicy: Never, template: %s}
                """.formatted(pod, pod)));

        assertThat(job.status().phase()).as(bed.logs(job)).isEqualTo("Succeeded");
        assertThat(Path.of("/opt/train/ddp_check.py")).doesNotExist();
        for (int rank = 0; rank < 2; rank++) {
            var r = Json.json().readTree(Files.readString(out.resolve("rank-" + rank + ".json")));
            assertThat(r.path("world").asInt()).isEqualTo(2);
            assertThat(r.path("allreduce").asDouble()).isEqualTo(3.0);
            assertThat(r.path("identical").asBoolean()).isTrue();
        }
    }
}
