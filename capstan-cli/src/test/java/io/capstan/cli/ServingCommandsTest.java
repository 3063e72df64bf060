package io.capstan.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.CapstanConfig;
import io.capstan.server.CapstanServer;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code capstan serve}, {@code predict} and {@code get isvc} against a real server and a real ONNX model. */
class ServingCommandsTest {
    @TempDir
    static Path home;
    static CapstanServer server;
    static Path model;

    @BeforeAll
    static void start() throws Exception {
        server = CapstanServer.start(CapstanConfig.fromEnvironment(Map.of("CAPSTAN_HOME", home.toString(), "CAPSTAN_PORT", "0")));
        model = io.capstan.serving.TestModels.identityOnnx(home.resolve("identity.onnx"), 1);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static Cli cli() {
        return Cli.against(server.url()).env("CAPSTAN_HOME", server.config().home().toString());
    }

    @Test
    void servesAModelFilePredictsAndListsIt() {
        var served = cli().run("serve", model.toString(), "--name", "echo");
        assertThat(served.exitCode()).as(served.err()).isZero();
        assertThat(served.out()).contains("inferenceservice.serving.kserve.io/echo created", "echo is ready at http://",
                "capstan predict echo -d '{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,2]");

        var v2 = cli().run("predict", "echo", "-d", "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,2],\"data\":[1.5,-2]}]}");
        assertThat(v2.exitCode()).as(v2.err()).isZero();
        assertThat(v2.out().replaceAll("\\s", "")).contains("\"data\":[1.5,-2.0]");
        var v1 = cli().run("predict", "echo", "-d", "{\"instances\":[[1,2]]}");
        assertThat(v1.out().replaceAll("\\s", "")).contains("\"predictions\":[[1.0,2.0]]");

        var table = cli().run("get", "isvc");
        assertThat(table.out()).contains("URL", "READY", "TRAFFIC", "echo", "True", "00001=100%");
    }

    @Test
    void badRequestsAndUnknownModelsAreClearErrors() {
        assertThat(cli().run("serve", model.toString(), "--name", "bad-requests").exitCode()).isZero();
        var wrongLength = cli().run("predict", "bad-requests", "-d", "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,2],\"data\":[1]}]}");
        assertThat(wrongLength.exitCode()).isEqualTo(5);
        assertThat(wrongLength.err()).contains("shape [1, 2] needs 2 elements");
        var notJson = cli().run("predict", "bad-requests", "-d", "{inputs");
        assertThat(notJson.exitCode()).isEqualTo(5);
        assertThat(notJson.err()).contains("not JSON");
        var unknown = cli().run("predict", "nobody", "-d", "{\"inputs\":[]}");
        assertThat(unknown.exitCode()).isEqualTo(3);
        assertThat(cli().run("serve", home.resolve("missing.onnx").toString(), "--name", "m").exitCode()).isEqualTo(5);
        assertThat(cli().run("serve", model.toString(), "--name", "m", "--format", "sklearn", "--timeout", "60").exitCode()).isEqualTo(1);
    }
}
