package io.capstan.training;

import io.capstan.artifacts.LocalArtifactStore;
import io.capstan.artifacts.S3ArtifactStore;
import io.capstan.artifacts.testing.S3TestServer;
import io.capstan.backend.GpuDetector;
import io.capstan.core.Resource;
import io.capstan.store.testing.TestDatabases;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;

import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** s3://bucket/key initializers read the bucket they name, through the configured S3 server, or are refused. */
class S3InitializersTest {
    @RegisterExtension
    static final S3TestServer S3 = new S3TestServer();

    @TempDir
    Path dir;
    Testbed bed;
    S3ArtifactStore capstanBucket;

    @AfterEach
    void tearDown() {
        if (bed != null) bed.close();
        if (capstanBucket != null) capstanBucket.close();
    }

    @Test
    void anS3InitializerIsCopiedFromTheBucketItNamesNotFromCapstansOwn() {
        var settings = S3.newBucketSettings();
        capstanBucket = new S3ArtifactStore(settings, Clock.systemUTC());
        capstanBucket.createBucketIfMissing();
        // Capstan's own bucket has an object under the same key, which must not be what the job reads.
        capstanBucket.put("datasets/iris/part-0.csv", new java.io.ByteArrayInputStream("wrong\n".getBytes()));
        var dataBucket = S3.newBucketSettings().bucket();
        S3.client().createBucket(b -> b.bucket(dataBucket));
        // Put there by another tool: no digest recorded.
        S3.client().putObject(b -> b.bucket(dataBucket).key("datasets/iris/part-0.csv"), RequestBody.fromString("a,b\n1,2\n"));
        S3.client().putObject(b -> b.bucket(dataBucket).key("datasets/iris/part-1.csv"), RequestBody.fromString("a,b\n3,4\n"));
        bed = Testbed.open(dir, Testbed.migrated(TestDatabases.h2()), GpuDetector.none(), ModelLineage.NONE, Optional.of(capstanBucket));

        var job = bed.runToEnd(bed.apply("""
                apiVersion: trainer.kubeflow.org/v1alpha1
                kind: TrainJob
                metadata: {name: from-s3}
                spec:
                  runtimeRef: {name: torch-distributed}
                  trainer: {command: [sh, -c, 'cat "$CAPSTAN_DATASET_PATH"/part-*.csv']}
                  initializer: {dataset: {storageUri: 's3://%s/datasets/iris'}}
                """.formatted(dataBucket)));

        assertThat(job.status().phase()).as(bed.logs(job)).isEqualTo("Succeeded");
        assertThat(bed.log(TrainingWorkloads.forRank(job, 0)).strip()).isEqualTo("a,b\n1,2\na,b\n3,4");
    }

    @Test
    void anS3InitializerWithoutS3ConfiguredIsRefusedNamingTheField() {
        var local = new LocalArtifactStore(dir.resolve("artifacts"), Clock.systemUTC());
        // The local store has the key, which an s3:// URI must never be read from.
        local.put("iris.csv", new java.io.ByteArrayInputStream("a,b\n1,2\n".getBytes()));
        bed = Testbed.open(dir, Testbed.migrated(TestDatabases.h2()), GpuDetector.none(), ModelLineage.NONE, Optional.of(local));

        var job = bed.runToEnd(bed.apply("""
                apiVersion: trainer.kubeflow.org/v1alpha1
                kind: TrainJob
                metadata: {name: no-s3}
                spec:
                  runtimeRef: {name: torch-distributed}
                  trainer: {command: [sh, -c, 'exit 0']}
                  initializer: {dataset: {storageUri: 's3://datasets/iris.csv'}}
                """));

        var failed = condition(job, "Failed");
        assertThat(failed.reason()).isEqualTo("InitializerFailed");
        assertThat(failed.message()).contains("spec.initializer.dataset.storageUri").contains("no S3 configured").contains("CAPSTAN_S3_BUCKET");
        assertThat(bed.backend.list()).isEmpty();
    }

    private static io.capstan.core.Condition condition(Resource job, String type) {
        return job.status().condition(type).orElseThrow(() -> new AssertionError("no " + type + " condition in " + job.status()));
    }
}
