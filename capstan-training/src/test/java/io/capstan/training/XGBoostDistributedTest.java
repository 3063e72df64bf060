package io.capstan.training;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.backend.GpuDetector;
import io.capstan.core.Json;
import io.capstan.core.Resource;
import io.capstan.metadata.MetadataStore;
import io.capstan.store.testing.TestDatabases;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built-in xgboost-distributed runtime: xgboost4j's collective across worker JVMs, a tracker run as a workload,
 * each worker reading its shard of the shipped iris dataset; the model lands in lineage.
 */
class XGBoostDistributedTest {
    /** Accuracy of 3 workers may differ from 1 worker's by at most this much, on the 150 iris rows. */
    static final double TOLERANCE = 0.05;
    static final Path IRIS = Path.of("../examples/iris/iris.csv").toAbsolutePath().normalize();

    @TempDir
    Path dir;
    Testbed bed;
    MetadataStore metadata;

    @BeforeEach
    void setUp() {
        assertThat(IRIS).as("the shipped dataset").exists();
        var db = Testbed.migrated(TestDatabases.h2());
        db.migrate("metadata");
        metadata = new MetadataStore(db, Clock.systemUTC());
        bed = Testbed.open(dir, db, GpuDetector.none(), new MetadataModelLineage(metadata));
    }

    @AfterEach
    void tearDown() {
        bed.close();
    }

    private Resource train(String name, int workers) {
        var key = bed.apply("""
                apiVersion: trainer.kubeflow.org/v1alpha1
                kind: TrainJob
                metadata: {name: %s}
                spec:
                  runtimeRef: {name: xgboost-distributed}
                  trainer:
                    numNodes: %d
                    args: [--rounds, '20', --param, 'max_depth=3']
                  initializer:
                    dataset: {storageUri: 'file://%s'}
                """.formatted(name, workers, IRIS));
        var job = bed.runToEnd(key);
        assertThat(job.status().phase()).as(bed.logs(job)).isEqualTo("Succeeded");
        return job;
    }

    private double accuracy(Resource job) throws Exception {
        var modelDir = Path.of(java.net.URI.create(job.status().field("modelUri").orElseThrow().asText()));
        assertThat(modelDir.resolve("model.json")).exists();
        var metrics = Json.json().readTree(Files.readString(modelDir.resolve("metrics.json")));
        return metrics.path("accuracy").asDouble();
    }

    @Test
    void threeWorkersReachTheQualityOfOneAndTheModelIsInLineage() throws Exception {
        var single = train("xgb-1", 1);
        var three = train("xgb-3", 3);
        double one = accuracy(single);
        double distributed = accuracy(three);
        System.out.printf("iris accuracy: 1 worker %.4f, 3 workers %.4f%n", one, distributed);
        assertThat(one).isGreaterThan(0.9);
        assertThat(distributed).isCloseTo(one, org.assertj.core.data.Offset.offset(TOLERANCE));

        assertThat(three.status().field("replicaStatuses").orElseThrow().path("node").path("succeeded").asInt()).isEqualTo(3);
        for (int rank = 0; rank < 3; rank++) {
            assertThat(bed.log(TrainingWorkloads.forRank(three, rank))).contains("worker " + rank + " of 3 trained on 50 rows");
        }
        assertThat(bed.log(TrainingWorkloads.forReplica(three, "tracker", 0))).contains("tracker finished");

        var models = metadata.artifactsByType(MetadataModelLineage.MODEL_TYPE);
        assertThat(models).extracting(a -> a.uri()).contains(three.status().field("modelUri").orElseThrow().asText());
        assertThat(metadata.findExecution(MetadataModelLineage.EXECUTION_TYPE, three.metadata().uid())).isPresent();
    }

    /** An XGBoostJob (v1) whose Master and Worker run the Java worker: the DMLC tracker contract, tracker included. */
    @Test
    void anXGBoostJobGetsTheTrackerEnvironmentAndTrainsAcrossMasterAndWorker() {
        var command = new java.util.ArrayList<>(JavaCommand.of(io.capstan.training.xgboost.XGBoostWorker.class));
        command.addAll(java.util.List.of("--data", IRIS.toString(), "--rounds", "10"));
        var yamlCommand = command.stream().map(c -> "'" + c.replace("'", "''") + "'").collect(java.util.stream.Collectors.joining(", ", "[", "]"));
        var key = bed.apply("""
                apiVersion: kubeflow.org/v1
                kind: XGBoostJob
                metadata: {name: xgb-v1}
                spec:
                  runPolicy: {backoffLimit: 0}
                  xgbReplicaSpecs:
                    Master: {replicas: 1, restartPolicy: Never, template: {spec: {containers: [{name: xgboost, image: local, command: %s}]}}}
                    Worker: {replicas: 1, restartPolicy: Never, template: {spec: {containers: [{name: xgboost, image: local, command: %s}]}}}
                """.formatted(yamlCommand, yamlCommand));
        var job = bed.runToEnd(key);
        assertThat(job.status().phase()).as(bed.logs(job)).isEqualTo("Succeeded");
        assertThat(bed.log(TrainingWorkloads.forReplica(job, "Worker", 0))).contains("worker 1 of 2 trained on 75 rows");
        assertThat(job.status().field("replicaStatuses").orElseThrow().path("Master").path("succeeded").asInt()).isEqualTo(1);
    }
}
