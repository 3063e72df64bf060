package io.capstan.pipelines.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.artifacts.S3ArtifactStore;
import io.capstan.artifacts.testing.S3TestServer;
import io.capstan.core.CapstanConfig;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.PermanentFailureException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A step's attempt folder crossing to a pod and back through the real S3 test server: the server's side
 * ({@link StepStage}) and the pod's ({@link StepLauncher}, what {@code capstan step-io} runs), each in its own folder.
 */
class StepStageTest {
    @RegisterExtension
    static final S3TestServer S3 = new S3TestServer();

    @TempDir
    Path server;
    @TempDir
    Path pod;
    CapstanConfig.S3Settings settings;
    S3ArtifactStore bucket;

    @BeforeEach
    void bucket() {
        settings = S3.newBucketSettings();
        bucket = new S3ArtifactStore(settings, Clock.systemUTC());
        bucket.createBucketIfMissing();
    }

    @AfterEach
    void close() {
        bucket.close();
    }

    Map<String, String> podEnv(StepStage stage) {
        var env = new HashMap<String, String>();
        env.put(StepStage.STAGE_ENV, stage.uri());
        env.put(StepStage.DIR_ENV, pod.toString());
        env.put("CAPSTAN_S3_BUCKET", settings.bucket());
        env.put("CAPSTAN_S3_ENDPOINT", settings.endpoint());
        env.put("CAPSTAN_S3_ACCESS_KEY", settings.accessKey());
        env.put("CAPSTAN_S3_SECRET_KEY", settings.secretKey());
        return env;
    }

    @Test
    void anAttemptFolderGoesToThePodAndWhatTheStepWroteComesBack() throws Exception {
        // The server's prepared attempt: a downloaded input and the empty folders the outputs go to.
        Files.createDirectories(server.resolve("inputs/data/0"));
        Files.writeString(server.resolve("inputs/data/0/rows.csv"), "a,b\n1,2\n");
        Files.createDirectories(server.resolve("outputs/Output"));
        Files.createDirectories(server.resolve("artifacts"));
        var stage = StepStage.of(bucket, settings.bucket(), "pr_u1_ab_1");
        assertThat(stage.uri()).isEqualTo("s3://" + settings.bucket() + "/pipeline-steps/pr_u1_ab_1");
        stage.pushInputs(server);

        var env = podEnv(stage);
        assertThat(StepLauncher.run("pull", false, env, Clock.systemUTC())).startsWith("pulled");
        assertThat(Files.readString(pod.resolve("inputs/data/0/rows.csv"))).isEqualTo("a,b\n1,2\n");
        assertThat(pod.resolve("outputs/Output")).isEmptyDirectory();
        assertThat(pod.resolve("artifacts")).isEmptyDirectory();

        // The step runs in the pod and writes its outputs; the sidecar waits for its exit code.
        Files.writeString(pod.resolve("outputs/Output/data"), "hello");
        Files.createDirectories(pod.resolve("artifacts/model"));
        Files.writeString(pod.resolve("artifacts/model/model.onnx"), "onnx");
        Files.writeString(pod.resolve("executor_output.json"), "{}");
        Files.writeString(pod.resolve("scratch.tmp"), "not an output");
        var pusher = Thread.ofVirtual().start(() -> {
            try {
                StepLauncher.run("push", true, env, Clock.systemUTC());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Thread.sleep(300);
        assertThat(pusher.isAlive()).as("push --wait waits for the step's exit code").isTrue();
        assertThat(bucket.list("pipeline-steps/pr_u1_ab_1/out/")).isEmpty();
        Files.writeString(pod.resolve(StepLauncher.EXIT_FILE), "0\n");
        pusher.join();

        stage.pullOutputs(server);
        assertThat(Files.readString(server.resolve("outputs/Output/data"))).isEqualTo("hello");
        assertThat(Files.readString(server.resolve("artifacts/model/model.onnx"))).isEqualTo("onnx");
        assertThat(Files.readString(server.resolve("executor_output.json"))).isEqualTo("{}");
        assertThat(server.resolve("scratch.tmp")).doesNotExist();
        // Pulling again (a reconcile repeated after a crash) changes nothing.
        stage.pullOutputs(server);
        assertThat(Files.readString(server.resolve("outputs/Output/data"))).isEqualTo("hello");
    }

    @Test
    void aStepThatFailedPushesNothing() throws Exception {
        var stage = StepStage.of(bucket, settings.bucket(), "pr_u1_ab_2");
        Files.createDirectories(pod.resolve("outputs/Output"));
        Files.writeString(pod.resolve("outputs/Output/data"), "half written");
        Files.writeString(pod.resolve(StepLauncher.EXIT_FILE), "3\n");
        assertThat(StepLauncher.run("push", true, podEnv(stage), Clock.systemUTC())).contains("exited with code 3").contains("nothing pushed");
        assertThat(bucket.list("pipeline-steps/pr_u1_ab_2/")).isEmpty();
    }

    @Test
    void badInputIsRefusedNamingWhatIsWrong() {
        var stage = StepStage.of(bucket, settings.bucket(), "pr_u1_ab_3");
        var env = podEnv(stage);
        env.remove(StepStage.STAGE_ENV);
        assertThatThrownBy(() -> StepLauncher.run("pull", false, env, Clock.systemUTC())).isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining(StepStage.STAGE_ENV);
        var relative = podEnv(stage);
        relative.put(StepStage.DIR_ENV, "attempt-1");
        assertThatThrownBy(() -> StepLauncher.run("pull", false, relative, Clock.systemUTC())).isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining(StepStage.DIR_ENV);
        var noS3 = podEnv(stage);
        noS3.remove("CAPSTAN_S3_BUCKET");
        assertThatThrownBy(() -> StepLauncher.run("pull", false, noS3, Clock.systemUTC())).isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("CAPSTAN_S3_BUCKET");
        assertThatThrownBy(() -> StepLauncher.run("sync", false, podEnv(stage), Clock.systemUTC())).isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("pull or push");
        var notS3 = podEnv(stage);
        notS3.put(StepStage.STAGE_ENV, "file:///tmp/stage");
        assertThatThrownBy(() -> StepLauncher.run("pull", false, notS3, Clock.systemUTC())).isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining(StepStage.STAGE_ENV).hasMessageContaining("file:///tmp/stage");
        // A stage whose folder list climbs out of the attempt folder (written by hand) is refused, and nothing is written outside.
        bucket.put("pipeline-steps/pr_u1_ab_3/in/" + StepStage.FOLDERS, new ByteArrayInputStream("../../escaped\n".getBytes(StandardCharsets.UTF_8)));
        assertThatThrownBy(() -> StepLauncher.run("pull", false, podEnv(stage), Clock.systemUTC())).isInstanceOf(PermanentFailureException.class)
                .hasMessageContaining("outside the attempt folder");
        assertThat(pod.resolveSibling("escaped")).doesNotExist();
        assertThat(pod.getParent().resolveSibling("escaped")).doesNotExist();
    }
}
