package io.capstan.training;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.backend.GpuDetector;
import io.capstan.metadata.MetadataStore;
import io.capstan.store.testing.TestDatabases;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The same controller on PostgreSQL: a two-node TrainJob runs, and the model it leaves is recorded in lineage. */
class PostgresTrainingTest {
    @TempDir
    Path dir;

    @Test
    void aTrainJobRunsAndItsModelIsRecordedOnPostgres() {
        var db = Testbed.migrated(TestDatabases.postgres());
        db.migrate("metadata");
        var metadata = new MetadataStore(db, Clock.systemUTC());
        try (var bed = Testbed.open(dir, db, GpuDetector.none(), new MetadataModelLineage(metadata))) {
            var key = bed.apply("""
                    apiVersion: trainer.kubeflow.org/v1alpha1
                    kind: TrainJob
                    metadata: {name: pg}
                    spec:
                      runtimeRef: {name: torch-distributed}
                      trainer:
                        numNodes: 2
                        command: [sh, -c, 'if [ "$RANK" = 0 ]; then echo weights > "$CAPSTAN_MODEL_DIR/model.bin"; fi']
                    """);
            var job = bed.runToEnd(key);
            assertThat(job.status().phase()).as(bed.logs(job)).isEqualTo("Succeeded");
            var uri = job.status().field("modelUri").orElseThrow().asText();
            assertThat(metadata.artifactsByUri(uri)).singleElement().satisfies(a -> assertThat(a.type()).isEqualTo(MetadataModelLineage.MODEL_TYPE));
            assertThat(new MetadataModelLineage(metadata).recordModel(job, Path.of(java.net.URI.create(uri)))).contains(uri);
            assertThat(metadata.artifactsByUri(uri)).hasSize(1);
        }
    }
}
