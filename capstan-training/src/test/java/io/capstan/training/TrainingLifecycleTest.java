package io.capstan.training;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.backend.GpuDetector;
import io.capstan.backend.WorkloadPhase;
import io.capstan.core.Condition;
import io.capstan.core.Resource;
import io.capstan.store.testing.TestDatabases;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Gang launch, restarts, deadlines, suspension and clean-up, with real shell processes as ranks. */
class TrainingLifecycleTest {
    @TempDir
    Path dir;
    Testbed bed;

    @AfterEach
    void tearDown() {
        if (bed != null) bed.close();
    }

    static String pytorchJob(String name, int workers, String command, String extra) {
        return """
                apiVersion: kubeflow.org/v1
                kind: PyTorchJob
                metadata: {name: %s}
                spec:
                %s
                  pytorchReplicaSpecs:
                    Master:
                      replicas: 1
                      template: {spec: {containers: [{name: pytorch, image: x, command: [sh, -c, '%s']}]}}
                    Worker:
                      replicas: %d
                      template: {spec: {containers: [{name: pytorch, image: x, command: [sh, -c, '%s']}]}}
                """.formatted(name, extra, command, workers, command);
    }

    private static boolean is(Resource job, String phase) {
        return job.status().phase().equals(phase);
    }

    private static Condition condition(Resource job, String type) {
        return job.status().condition(type).orElseThrow(() -> new AssertionError("no " + type + " condition in " + job.status()));
    }

    @Test
    void everyProcessGetsTheEnvironmentTorchrunWouldGiveIt() throws IOException {
        bed = Testbed.h2(dir);
        var out = Files.createDirectories(dir.resolve("env"));
        var key = bed.apply(pytorchJob("env", 1, "env | grep -E \"^(WORLD_SIZE|RANK|LOCAL_RANK|LOCAL_WORLD_SIZE|MASTER_ADDR|MASTER_PORT|PET_[A-Z_]+)=\" | sort > "
                + out + "/$RANK", "  nprocPerNode: 2"));
        var job = bed.runToEnd(key);
        assertThat(job.status().phase()).as(bed.logs(job)).isEqualTo("Succeeded");
        int port = job.status().field("port").orElseThrow().asInt();
        for (int rank = 0; rank < 4; rank++) {
            var env = new TreeMap<String, String>();
            for (var line : Files.readAllLines(out.resolve(String.valueOf(rank)))) env.put(line.substring(0, line.indexOf('=')), line.substring(line.indexOf('=') + 1));
            assertThat(env).containsEntry("WORLD_SIZE", "4").containsEntry("RANK", String.valueOf(rank))
                    .containsEntry("LOCAL_RANK", String.valueOf(rank % 2)).containsEntry("LOCAL_WORLD_SIZE", "2")
                    .containsEntry("MASTER_ADDR", "127.0.0.1").containsEntry("MASTER_PORT", String.valueOf(port))
                    .containsEntry("PET_NNODES", "2").containsEntry("PET_NPROC_PER_NODE", "2")
                    .containsEntry("PET_NODE_RANK", String.valueOf(rank / 2)).containsEntry("PET_MASTER_ADDR", "127.0.0.1")
                    .containsEntry("PET_MASTER_PORT", String.valueOf(port));
        }
        assertThat(job.status().field("replicaStatuses").orElseThrow().toString())
                .isEqualTo("{\"Master\":{\"active\":0,\"succeeded\":2,\"failed\":0},\"Worker\":{\"active\":0,\"succeeded\":2,\"failed\":0}}");
        assertThat(condition(job, "Succeeded").status()).isEqualTo(Condition.Status.True);
        assertThat(condition(job, "Created").reason()).isEqualTo("PyTorchJobCreated");
        // (job, replica type, rank) -> workload, as `capstan logs JOB --rank 3` needs it; and workload -> job for on-finish.
        var rank3 = TrainingWorkloads.forRank(job, 3);
        assertThat(rank3).isEqualTo(TrainingWorkloads.workloadId(job.metadata().uid(), 1, 3));
        assertThat(TrainingWorkloads.forReplica(job, "Worker", 1)).isEqualTo(rank3);
        assertThat(bed.controller.findJob(rank3)).contains(key);
        assertThat(bed.controller.findJob("job_other_1")).isEmpty();
        var version = bed.get(key).metadata().resourceVersion();
        bed.reconciler(key).reconcile(key);
        assertThat(bed.get(key).metadata().resourceVersion()).isEqualTo(version);
    }

    @Test
    void aFailingRankRestartsTheWholeJobUntilBackoffLimitThenFails() {
        bed = Testbed.h2(dir);
        var key = bed.apply(pytorchJob("flaky", 1, "exit 7", "  runPolicy: {backoffLimit: 1}"));
        var job = bed.runToEnd(key);
        assertThat(job.status().phase()).isEqualTo("Failed");
        assertThat(job.status().field("restarts").orElseThrow().asInt()).isEqualTo(1);
        assertThat(job.status().field("attempt").orElseThrow().asInt()).isEqualTo(2);
        var failed = condition(job, "Failed");
        assertThat(failed.reason()).isEqualTo("BackoffLimitExceeded");
        assertThat(failed.message()).contains("exited with code 7").contains("backoffLimit 1");
    }

    @Test
    void activeDeadlineEndsTheJobAndStopsItsProcesses() {
        bed = Testbed.h2(dir);
        var key = bed.apply(pytorchJob("slow", 1, "sleep 120", "  runPolicy: {activeDeadlineSeconds: 2}"));
        var job = bed.runToEnd(key);
        assertThat(condition(job, "Failed").reason()).isEqualTo("DeadlineExceeded");
        for (var m : TrainingWorkloads.members(job)) {
            var state = bed.backend.find(m.workloadId()).orElseThrow();
            assertThat(state.phase()).isIn(WorkloadPhase.CANCELLED, WorkloadPhase.RUNNING);
        }
        bed.runUntil(key, Duration.ofSeconds(30), "processes to stop", j -> TrainingWorkloads.members(j).stream()
                .allMatch(m -> bed.backend.find(m.workloadId()).orElseThrow().phase().isTerminal()));
    }

    @Test
    void cleanPodPolicyDecidesWhatIsStoppedWhenTheMasterFinishes() {
        bed = Testbed.h2(dir);
        var command = "if [ \"$CAPSTAN_REPLICA_TYPE\" = Master ]; then exit 0; else sleep 120; fi";
        var running = bed.runToEnd(bed.apply(pytorchJob("clean", 1, command, "  runPolicy: {cleanPodPolicy: Running}")));
        assertThat(running.status().phase()).isEqualTo("Succeeded");
        var worker = TrainingWorkloads.forReplica(running, "Worker", 0);
        bed.runUntil(running.key(), Duration.ofSeconds(30), "the worker to be stopped", j -> bed.backend.find(worker).orElseThrow().phase() == WorkloadPhase.CANCELLED);
        // The stopped worker is gone, as a deleted pod is: neither active nor failed in the final counts.
        assertThat(running.status().field("replicaStatuses").orElseThrow().path("Worker").toString())
                .isEqualTo("{\"active\":0,\"succeeded\":0,\"failed\":0}");

        var kept = bed.runToEnd(bed.apply(pytorchJob("keep", 1, command, "  runPolicy: {cleanPodPolicy: None}")));
        assertThat(kept.status().phase()).isEqualTo("Succeeded");
        assertThat(bed.backend.find(TrainingWorkloads.forReplica(kept, "Worker", 0)).orElseThrow().phase()).isEqualTo(WorkloadPhase.RUNNING);
        assertThat(kept.status().field("replicaStatuses").orElseThrow().path("Worker").path("active").asInt()).isEqualTo(1);
    }

    @Test
    void aSuspendedJobRunsNothingUntilResumed() {
        bed = Testbed.h2(dir);
        var key = bed.apply(pytorchJob("later", 1, "exit 0", "  runPolicy: {suspend: true}"));
        var suspended = bed.runUntil(key, Duration.ofSeconds(30), "Suspended", j -> is(j, "Suspended"));
        assertThat(condition(suspended, "Suspended").status()).isEqualTo(Condition.Status.True);
        assertThat(bed.backend.list()).isEmpty();

        var resumed = bed.get(key);
        var spec = resumed.spec();
        ((com.fasterxml.jackson.databind.node.ObjectNode) spec.get("runPolicy")).put("suspend", false);
        bed.store.update(resumed.withSpec(spec));
        var done = bed.runToEnd(key);
        assertThat(done.status().phase()).isEqualTo("Succeeded");
        assertThat(condition(done, "Suspended").status()).isEqualTo(Condition.Status.False);
    }

    @Test
    void gpusAreDisjointAndAGangThatCannotFitWaitsWithoutStarting() throws IOException {
        bed = Testbed.open(dir, Testbed.migrated(TestDatabases.h2()), GpuDetector.fixed(List.of(0, 1)), ModelLineage.NONE);
        var out = Files.createDirectories(dir.resolve("gpus"));
        var gpuJob = """
                apiVersion: kubeflow.org/v1
                kind: PyTorchJob
                metadata: {name: %s}
                spec:
                  pytorchReplicaSpecs:
                    Worker:
                      replicas: %d
                      template: {spec: {containers: [{name: pytorch, image: x, resources: {limits: {nvidia.com/gpu: 1}},
                        command: [sh, -c, 'echo $CUDA_VISIBLE_DEVICES > %s/$RANK; sleep %s']}]}}
                """;
        var tooBig = bed.apply(gpuJob.formatted("big", 3, out, "0"));
        var waiting = bed.runUntil(tooBig, Duration.ofSeconds(30), "Unschedulable", j -> condition(j, "Running").reason().equals("Unschedulable"));
        assertThat(condition(waiting, "Running").message()).contains("3 GPUs").contains("has 2");
        assertThat(bed.backend.list()).isEmpty();

        var first = bed.apply(gpuJob.formatted("first", 2, out, "3"));
        bed.runUntil(first, Duration.ofSeconds(60), "first to run", j -> is(j, "Running"));
        var second = bed.apply(gpuJob.formatted("second", 1, dir.resolve("second"), "0"));
        var queued = bed.runUntil(second, Duration.ofSeconds(30), "second to wait", j -> condition(j, "Running").reason().equals("WaitingForResources"));
        assertThat(condition(queued, "Running").message()).contains("other training jobs hold");
        assertThat(TrainingWorkloads.members(queued)).isEmpty();

        assertThat(bed.runToEnd(first).status().phase()).isEqualTo("Succeeded");
        var seen = new HashSet<String>();
        for (var rank : List.of("0", "1")) seen.add(Files.readString(out.resolve(rank)).trim());
        assertThat(seen).containsExactlyInAnyOrder("0", "1");
        Files.createDirectories(dir.resolve("second"));
        assertThat(bed.runToEnd(second).status().phase()).isEqualTo("Succeeded");
    }

    @Test
    void jobsThatCannotRunLocallyFailWithTheReason() {
        bed = Testbed.h2(dir);
        var tf = bed.runToEnd(bed.apply("""
                apiVersion: kubeflow.org/v1
                kind: TFJob
                metadata: {name: tf}
                spec: {tfReplicaSpecs: {Worker: {replicas: 2, template: {spec: {containers: [{name: tensorflow, image: t, command: [python, a.py]}]}}}}}
                """));
        assertThat(condition(tf, "Failed").reason()).isEqualTo("Unsupported");
        assertThat(condition(tf, "Failed").message()).contains("TFJob");
        var hf = bed.runToEnd(bed.apply("""
                apiVersion: trainer.kubeflow.org/v1alpha1
                kind: TrainJob
                metadata: {name: hf}
                spec:
                  runtimeRef: {name: torch-distributed}
                  trainer: {command: [sh, -c, 'exit 0']}
                  initializer: {model: {storageUri: 'hf://meta-llama/Llama-3.2-1B'}}
                """));
        assertThat(condition(hf, "Failed").message()).contains("spec.initializer.model.storageUri").contains("offline");
        var noStore = bed.runToEnd(bed.apply("""
                apiVersion: trainer.kubeflow.org/v1alpha1
                kind: TrainJob
                metadata: {name: s3}
                spec:
                  runtimeRef: {name: torch-distributed}
                  trainer: {command: [sh, -c, 'exit 0']}
                  initializer: {dataset: {storageUri: 's3://bucket/iris.csv'}}
                """));
        assertThat(condition(noStore, "Failed").reason()).isEqualTo("InitializerFailed");
        assertThat(bed.backend.list()).isEmpty();
    }

    @Test
    void aTrainJobOnAUserRuntimeRunsAndIsDeletedAfterItsTtl() throws IOException {
        bed = Testbed.h2(dir);
        bed.apply("""
                apiVersion: trainer.kubeflow.org/v1alpha1
                kind: TrainingRuntime
                metadata: {name: shell}
                spec:
                  mlPolicy: {numNodes: 2, torch: {numProcPerNode: 1}}
                  template:
                    spec:
                      replicatedJobs:
                        - name: node
                          template: {spec: {template: {spec: {containers: [{name: node, image: busybox, command: [sh, -c, 'echo $PET_NODE_RANK of $PET_NNODES']}]}}}}
                """);
        var key = bed.apply("""
                apiVersion: trainer.kubeflow.org/v1alpha1
                kind: TrainJob
                metadata: {name: on-shell}
                spec:
                  runtimeRef: {name: shell, kind: TrainingRuntime}
                """);
        var job = bed.runToEnd(key);
        assertThat(job.status().phase()).as(bed.logs(job)).isEqualTo("Succeeded");
        assertThat(bed.log(TrainingWorkloads.forReplica(job, "node", 1))).contains("1 of 2");
        assertThat(job.status().field("replicaStatuses").orElseThrow().path("node").path("succeeded").asInt()).isEqualTo(2);

        var ttl = bed.apply(pytorchJob("short-lived", 1, "exit 0", "  runPolicy: {ttlSecondsAfterFinished: 1}"));
        bed.runUntil(ttl, Duration.ofSeconds(60), "deletion after the TTL", j -> j == null);
        assertThat(bed.store.find(ttl)).isEmpty();
        assertThat(Map.of("left", bed.backend.list().stream().filter(w -> w.id().contains(job.metadata().uid())).count())).containsEntry("left", 2L);
    }

    @Test
    void artifactStoreInitializersAreCopiedIntoTheJobBeforeItStarts() throws IOException {
        var artifacts = new io.capstan.artifacts.LocalArtifactStore(dir.resolve("artifacts"), java.time.Clock.systemUTC());
        artifacts.put("datasets/iris/part-0.csv", new java.io.ByteArrayInputStream("a,b\n1,2\n".getBytes()));
        artifacts.put("datasets/iris/part-1.csv", new java.io.ByteArrayInputStream("a,b\n3,4\n".getBytes()));
        bed = Testbed.open(dir, Testbed.migrated(TestDatabases.h2()), GpuDetector.none(), ModelLineage.NONE, java.util.Optional.of(artifacts));
        var key = bed.apply("""
                apiVersion: trainer.kubeflow.org/v1alpha1
                kind: TrainJob
                metadata: {name: fetched}
                spec:
                  runtimeRef: {name: torch-distributed}
                  trainer: {numNodes: 2, command: [sh, -c, 'cat "$CAPSTAN_DATASET_PATH"/part-*.csv | wc -l']}
                  initializer: {dataset: {storageUri: '%s'}}
                """.formatted("capstan://artifacts/datasets/iris"));
        var job = bed.runToEnd(key);
        assertThat(job.status().phase()).as(bed.logs(job)).isEqualTo("Succeeded");
        assertThat(bed.log(TrainingWorkloads.forRank(job, 1)).trim()).isEqualTo("4");
        var missing = bed.runToEnd(bed.apply("""
                apiVersion: trainer.kubeflow.org/v1alpha1
                kind: TrainJob
                metadata: {name: missing}
                spec:
                  runtimeRef: {name: torch-distributed}
                  trainer: {command: [sh, -c, 'exit 0']}
                  initializer: {model: {storageUri: '%s'}}
                """.formatted("capstan://artifacts/models/none")));
        assertThat(condition(missing, "Failed").reason()).isEqualTo("InitializerFailed");
        assertThat(condition(missing, "Failed").message()).contains("nothing stored at");
    }

    @Test
    void replicasGetSecretsAndConfigMapsAsEnvironmentAndAMissingKeyFailsTheJobNamingIt() {
        bed = Testbed.h2(dir);
        var secret = io.capstan.core.Json.json().createObjectNode();
        secret.putObject("stringData").put("token", "tok-xyz");
        bed.store.create(Resource.of("v1", "Secret", io.capstan.core.ObjectMeta.named("default", "hub"), secret));
        var config = io.capstan.core.Json.json().createObjectNode();
        config.putObject("data").put("EPOCHS", "4");
        bed.store.create(Resource.of("v1", "ConfigMap", io.capstan.core.ObjectMeta.named("default", "train"), config));
        var containers = "[{name: pytorch, image: x, command: [sh, -c, 'echo \"$HF_TOKEN $TRAIN_EPOCHS $(cat /var/run/hub/token)\"'], "
                + "env: [{name: HF_TOKEN, valueFrom: {secretKeyRef: {name: hub, key: token}}}], envFrom: [{configMapRef: {name: train}, prefix: TRAIN_}], "
                + "volumeMounts: [{name: hub, mountPath: /var/run/hub}]}], volumes: [{name: hub, secret: {secretName: hub}}]";
        var yaml = """
                apiVersion: kubeflow.org/v1
                kind: PyTorchJob
                metadata: {name: NAME}
                spec:
                  pytorchReplicaSpecs:
                    Master:
                      replicas: 1
                      template: {spec: {containers: CONTAINERS}}
                """.replace("CONTAINERS", containers);
        var job = bed.runToEnd(bed.apply(yaml.replace("NAME", "uses-secrets")));

        assertThat(job.status().phase()).as(job.status().toString()).isEqualTo("Succeeded");
        assertThat(bed.logs(job)).contains("tok-xyz 4 tok-xyz");
        assertThat(job.status().field("warnings").map(Object::toString).orElse("")).doesNotContain("valueFrom", "volumes");
        var volumes = dir.resolve("training/default").resolve("uses-secrets-" + job.metadata().uid()).resolve(".volumes");
        bed.runUntil(job.key(), Duration.ofSeconds(30), "the secret files to be removed", j -> !Files.exists(volumes));

        var missing = bed.runToEnd(bed.apply(yaml.replace("NAME", "missing").replace("key: token", "key: nope")));
        assertThat(missing.status().phase()).isEqualTo("Failed");
        assertThat(condition(missing, "Failed").reason()).isEqualTo("CreateContainerConfigError");
        assertThat(condition(missing, "Failed").message()).contains("secret 'hub'", "no key 'nope'", "HF_TOKEN").doesNotContain("tok-xyz");
    }
}
