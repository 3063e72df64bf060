package io.capstan.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.CapstanConfig;
import io.capstan.server.CapstanServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code capstan models ...} against a real server's Model Registry. */
class ModelsCommandTest {
    @TempDir
    static Path home;
    static CapstanServer server;

    @BeforeAll
    static void start() {
        server = CapstanServer.start(CapstanConfig.fromEnvironment(Map.of("CAPSTAN_HOME", home.toString(), "CAPSTAN_PORT", "0")));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static Cli cli() {
        return Cli.against(server.url()).env("CAPSTAN_HOME", server.config().home().toString());
    }

    private static Cli.Run ok(String... args) {
        var r = cli().run(args);
        assertThat(r.exitCode()).as(String.join(" ", args) + ": " + r.err()).isZero();
        return r;
    }

    @Test
    void registerListAliasDeployAndDelete() throws Exception {
        var v1 = Files.createDirectories(home.resolve("iris-v1"));
        ok("models", "register", v1.toString(), "--name", "iris", "--version", "v1", "--format", "onnx", "--author", "ann",
                "--property", "accuracy=0.91", "--property", "epochs=10");
        ok("models", "register", "s3://models/iris/v2.onnx", "--name", "iris", "--version", "v2", "--format", "onnx", "--property", "accuracy=0.97");
        assertThat(ok("models", "list").out()).contains("iris").contains("LIVE");
        assertThat(ok("models", "versions", "iris").out()).contains("v1").contains("v2").contains("ann");
        assertThat(ok("models", "versions", "iris", "--filter", "accuracy.double_value > 0.95").out()).contains("v2").doesNotContain(" v1 ");
        var dup = cli().run("models", "register", "s3://x", "--name", "iris", "--version", "v1", "--format", "onnx");
        assertThat(dup.exitCode()).isNotZero();
        assertThat(dup.err()).contains("v1").contains("already exists");

        assertThat(ok("models", "alias", "iris", "champion", "v1").out()).contains("alias champion of iris -> version v1");
        assertThat(ok("models", "get", "iris").out()).contains("alias champion").contains("champion");
        var deployed = ok("models", "deploy", "iris", "--alias", "champion").out();
        assertThat(deployed).contains("inference service iris serves iris").contains("file://" + v1).contains("follows alias champion");
        var moved = ok("models", "alias", "iris", "champion", "v2").out();
        assertThat(moved).contains("inference service iris now serves version v2");
        var isvc = Cli.against(server.url()).env("CAPSTAN_HOME", server.config().home().toString()).run("get", "inferenceservice", "iris", "-o", "yaml");
        assertThat(isvc.out()).contains("s3://models/iris/v2.onnx");

        var refused = cli().run("models", "delete", "iris", "--version", "v2");
        assertThat(refused.exitCode()).isNotZero();
        assertThat(refused.err()).contains("deployed").contains("force");
        ok("models", "delete", "iris", "--version", "v1");
        assertThat(ok("models", "versions", "iris").out()).doesNotContain(" v1 ");
        ok("models", "delete", "iris", "--force");
        assertThat(ok("models", "list").out()).doesNotContain("iris");
        var missing = cli().run("models", "get", "iris");
        assertThat(missing.exitCode()).isNotZero();
        assertThat(missing.err()).contains("no registered model 'iris'");
    }

    /**
     * {@code models register FILE} uploads the file: stored by digest, the ONNX signature recorded and printed; the
     * deployed version serves it, and a request that does not fit the signature is refused with a 400 naming the input.
     */
    @Test
    void registerUploadsAFileAndServingEnforcesItsSignature() throws Exception {
        var onnx = io.capstan.serving.TestModels.irisOnnx(home.resolve("upload-iris"));
        var sha = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(onnx)));
        var registered = ok("models", "register", onnx.toString(), "--name", "flower", "--version", "v1", "--property", "accuracy=0.93").out();
        assertThat(registered).contains("model flower version v1 registered").contains("capstan://artifacts/registry/sha256/" + sha + "/model.onnx")
                .contains("input input FP32 [-1,4]").contains("output probabilities FP32 [-1,3]");
        assertThat(ok("models", "versions", "flower", "--filter", "accuracy.double_value > 0.9").out()).contains("v1");
        var notOnnx = Files.writeString(home.resolve("bad.onnx"), "not a model");
        var refused = cli().run("models", "register", notOnnx.toString(), "--name", "flower", "--version", "v2");
        assertThat(refused.exitCode()).isNotZero();
        assertThat(refused.err()).contains("'bad.onnx' is not an ONNX model");
        var noFormat = cli().run("models", "register", Files.writeString(home.resolve("model.bin"), "x").toString(), "--name", "flower", "--version", "v2");
        assertThat(noFormat.err()).contains("modelFormatName: required for 'model.bin'");

        ok("models", "deploy", "flower", "--version", "v1");
        var deadline = System.nanoTime() + java.time.Duration.ofSeconds(90).toNanos();
        Cli.Run answer;
        do {
            answer = cli().run("predict", "flower", "-d", "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,4],\"data\":[5.1,3.5,1.4,0.2]}]}");
            if (answer.exitCode() == 0) break;
            Thread.sleep(250);
        } while (System.nanoTime() < deadline);
        assertThat(answer.exitCode()).as(answer.err()).isZero();
        assertThat(answer.out()).contains("probabilities");
        var wrongName = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(server.url()
                        + "/serving/default/v2/models/flower/infer"))
                .header("Authorization", "Bearer " + io.capstan.security.AdminToken.read(server.config().home()).orElseThrow())
                .header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[1,4],\"data\":[5.1,3.5,1.4,0.2]}]}"))
                .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(wrongName.statusCode()).as(wrongName.body()).isEqualTo(400);
        assertThat(wrongName.body()).contains("inputs[0].name: the model has no input 'features'");
        var wrongShape = cli().run("predict", "flower", "-d", "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3],\"data\":[5.1,3.5,1.4]}]}");
        assertThat(wrongShape.exitCode()).isNotZero();
        assertThat(wrongShape.err()).contains("inputs[0].shape: input 'input' takes shape");
        ok("models", "delete", "flower", "--force");
    }
}
