package io.capstan.pipelines.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.artifacts.LocalArtifactStore;
import io.capstan.artifacts.S3ArtifactStore;
import io.capstan.artifacts.testing.S3TestServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Where a run's artifacts go: S3 when Capstan's store is in S3, and never silently somewhere else. */
class S3PipelineOutputsTest {
    @RegisterExtension
    static final S3TestServer S3 = new S3TestServer();

    @TempDir
    Path dir;
    RunFixture fx;
    S3ArtifactStore capstanBucket;

    @AfterEach
    void tearDown() {
        if (fx != null) fx.close();
        if (capstanBucket != null) capstanBucket.close();
    }

    private S3ArtifactStore capstanBucket() {
        capstanBucket = new S3ArtifactStore(S3.newBucketSettings(), Clock.systemUTC());
        capstanBucket.createBucketIfMissing();
        return capstanBucket;
    }

    private String object(String bucket, String key) {
        return S3.client().getObjectAsBytes(b -> b.bucket(bucket).key(key)).asString(StandardCharsets.UTF_8);
    }

    @Test
    void withS3ConfiguredAStepsOutputLandsInS3AndTheNextStepReadsItBackFromThere() {
        var bucket = capstanBucket().bucket();
        fx = new RunFixture(dir, capstanBucket);

        var run = fx.runToEnd(fx.submit("to-s3", "artifacts.yaml", Map.of()));

        assertThat(run.status().phase()).as(run.status().toString()).isEqualTo("Succeeded");
        var uid = run.metadata().uid();
        var uri = RunFixture.task(run, "root/write").path("outputs").path("artifacts").path("data").get(0).path("uri").asText();
        assertThat(uri).startsWith("s3://" + bucket + "/pipelines/" + uid + "/").endsWith("/data");
        assertThat(run.status().field("pipelineRoot").orElseThrow().asText()).isEqualTo("s3://" + bucket + "/pipelines");
        var key = uri.substring(("s3://" + bucket + "/").length());
        assertThat(object(bucket, key)).isEqualTo("rows: 42\n");
        assertThat(RunFixture.task(run, "root/read").path("inputArtifacts").path("data").get(0).path("uri").asText()).isEqualTo(uri);
        assertThat(RunFixture.task(run, "root/read").path("outputs").path("parameters").path("Output").asText()).isEqualTo("rows: 42");
        // The writer's local copy is gone once uploaded, so what the reader read came down from S3 into its own folder.
        var runDir = dir.resolve("runs").resolve(uid);
        try (var files = Files.walk(runDir)) {
            var local = files.filter(Files::isRegularFile).map(p -> runDir.relativize(p).toString()).toList();
            assertThat(local).noneMatch(p -> p.contains("write") && p.endsWith("/artifacts/data"));
            assertThat(local).anyMatch(p -> p.contains("read") && p.endsWith("/inputs/data/0/data"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        assertThat(fx.metadata.artifactsByUri(uri)).as("the lineage names the S3 object").hasSize(1);
    }

    @Test
    void aRunsOwnS3PipelineRootInAnotherBucketIsWrittenThere() {
        fx = new RunFixture(dir, capstanBucket());
        var other = S3.newBucketSettings().bucket();
        S3.client().createBucket(b -> b.bucket(other));
        var spec = RunFixture.specOf(RunFixture.resource("runs/artifacts.yaml"), Map.of());
        spec.put("pipelineRoot", "s3://" + other + "/team/runs/");

        var run = fx.runToEnd(fx.submit("elsewhere", spec));

        assertThat(run.status().phase()).as(run.status().toString()).isEqualTo("Succeeded");
        var uri = RunFixture.task(run, "root/write").path("outputs").path("artifacts").path("data").get(0).path("uri").asText();
        assertThat(uri).startsWith("s3://" + other + "/team/runs/" + run.metadata().uid() + "/");
        assertThat(object(other, uri.substring(("s3://" + other + "/").length()))).isEqualTo("rows: 42\n");
        assertThat(RunFixture.task(run, "root/read").path("outputs").path("parameters").path("Output").asText()).isEqualTo("rows: 42");
    }

    @Test
    void anS3PipelineRootWithoutS3ConfiguredFailsTheRunNamingTheFieldAndRunsNothing() {
        fx = new RunFixture(dir, new LocalArtifactStore(dir.resolve("artifacts"), Clock.systemUTC()));
        var spec = RunFixture.specOf(RunFixture.resource("runs/artifacts.yaml"), Map.of());
        spec.put("pipelineRoot", "s3://somewhere/runs");

        var run = fx.runToEnd(fx.submit("no-s3", spec));

        assertThat(run.status().phase()).isEqualTo("Failed");
        assertThat(run.status().field("message").orElseThrow().asText()).contains("spec.pipelineRoot").contains("no S3 configured")
                .contains("CAPSTAN_S3_BUCKET");
        assertThat(fx.backend.list()).isEmpty();
    }

    @Test
    void withoutS3ConfiguredOutputsStayInTheRunFolder() {
        fx = new RunFixture(dir, new LocalArtifactStore(dir.resolve("artifacts"), Clock.systemUTC()));

        var run = fx.runToEnd(fx.submit("local", "artifacts.yaml", Map.of()));

        assertThat(run.status().phase()).isEqualTo("Succeeded");
        var uri = RunFixture.task(run, "root/write").path("outputs").path("artifacts").path("data").get(0).path("uri").asText();
        assertThat(uri).startsWith("file://" + dir.resolve("runs").resolve(run.metadata().uid()).resolve("artifacts"));
        assertThat(RunLayout.localPath(uri)).satisfies(p -> assertThat(Path.of(p)).hasContent("rows: 42"));
    }

    /** artifacts.yaml with caching on for both tasks. */
    private io.capstan.core.Resource cachedRun(String name) {
        var text = RunFixture.resource("runs/artifacts.yaml")
                .replace("        componentRef: {name: comp-", "        cachingOptions: {enableCache: true}\n        componentRef: {name: comp-");
        return fx.runToEnd(fx.submit(name, RunFixture.specOf(text, Map.of())));
    }

    private static String writerOutput(io.capstan.core.Resource run) {
        return RunFixture.task(run, "root/write").path("outputs").path("artifacts").path("data").get(0).path("uri").asText();
    }

    @Test
    void aCacheHitOnS3OutputsChecksTheObjectsAreStillThereAndUnchanged() {
        var bucket = capstanBucket().bucket();
        fx = new RunFixture(dir, capstanBucket);
        var first = cachedRun("first");
        assertThat(RunFixture.state(first, "root/write")).isEqualTo("SUCCEEDED");
        assertThat(RunFixture.state(cachedRun("untouched"), "root/write")).as("an untouched S3 output is reused").isEqualTo("CACHED");

        var uri = writerOutput(first);
        S3.client().deleteObject(b -> b.bucket(bucket).key(uri.substring(("s3://" + bucket + "/").length())));
        var afterDelete = cachedRun("after-delete");

        assertThat(afterDelete.status().phase()).isEqualTo("Succeeded");
        assertThat(RunFixture.state(afterDelete, "root/write")).isEqualTo("SUCCEEDED");
        assertThat(RunFixture.task(afterDelete, "root/write").path("message").asText())
                .isEqualTo("cache entry discarded: output 'data' at " + uri + " is missing; running the step again");

        var rewritten = writerOutput(afterDelete);
        S3.client().putObject(b -> b.bucket(bucket).key(rewritten.substring(("s3://" + bucket + "/").length())),
                software.amazon.awssdk.core.sync.RequestBody.fromString("rows: 7\n"));
        var afterRewrite = cachedRun("after-rewrite");

        assertThat(RunFixture.state(afterRewrite, "root/write")).isEqualTo("SUCCEEDED");
        assertThat(RunFixture.task(afterRewrite, "root/write").path("message").asText())
                .startsWith("cache entry discarded: output 'data' at " + rewritten + " changed since it was cached");
        assertThat(RunFixture.task(afterRewrite, "root/read").path("outputs").path("parameters").path("Output").asText()).isEqualTo("rows: 42");
    }
}
