package io.capstan.components;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code register-model} checks its request in the step and writes it as its output artifact's metadata, which the
 * registry acts on once the step succeeded; a bad name, alias or format, or a missing model, fails the step with one
 * sentence naming the parameter.
 */
class RegisterModelTest {
    @TempDir
    Path tmp;

    private Path model() throws Exception {
        var dir = Files.createDirectories(tmp.resolve("model"));
        Files.writeString(dir.resolve("model.onnx"), "onnx bytes");
        return dir;
    }

    private Step step(Path model, String name) {
        return Step.of("register-model", tmp.resolve("out")).input("model", "system.Model", model).param("model_name", name)
                .output("registered_model", "system.Model");
    }

    @Test
    void writesTheRequestForTheRegistry() throws Exception {
        var model = model();
        var result = step(model, "iris").param("model_format", "onnx").param("alias", "champion").param("version_name", "v7")
                .param("description", "trained by the test").run().assertOk();
        var request = result.metadata("registered_model").path(RegisterModel.REQUEST);
        assertThat(request.path("modelName").asText()).isEqualTo("iris");
        assertThat(request.path("versionName").asText()).isEqualTo("v7");
        assertThat(request.path("alias").asText()).isEqualTo("champion");
        assertThat(request.path("modelFormatName").asText()).isEqualTo("onnx");
        assertThat(request.path("description").asText()).isEqualTo("trained by the test");
        assertThat(request.path("sourceUri").asText()).isEqualTo(model.toUri().toString());
        assertThat(Files.isDirectory(result.path("registered_model"))).isTrue();
    }

    @Test
    void theVersionNameAndAliasAreOptional() throws Exception {
        var request = step(model(), "iris").param("model_format", "onnx").run().assertOk().metadata("registered_model").path(RegisterModel.REQUEST);
        assertThat(request.has("versionName")).isFalse();
        assertThat(request.has("alias")).isFalse();
    }

    @Test
    void badInputFailsTheStepNamingTheParameter() throws Exception {
        var model = model();
        String[][] cases = {
                {"model_name", "../etc", "input parameter 'model_name' is '../etc'"},
                {"model_name", "iris@champion", "'model_name' is 'iris@champion'"},
                {"model_name", "a b", "'model_name' is 'a b'"},
                {"model_name", "x".repeat(300), "'model_name' is 'xxxx"},
                {"model_name", "bad\u0000name", "'model_name' is 'bad?name'"},
                {"version_name", "v1/../../x", "'version_name' is 'v1/../../x'"},
                {"alias", "Champion", "'alias' is 'Champion'"},
                {"model_format", "onnx; rm -rf /", "'model_format' is 'onnx; rm -rf /'"},
        };
        for (var c : cases) {
            var s = step(model, c[0].equals("model_name") ? c[1] : "iris").param("model_format", c[0].equals("model_format") ? c[1] : "onnx");
            if (!c[0].equals("model_name") && !c[0].equals("model_format")) s.param(c[0], c[1]);
            var result = s.run();
            assertThat(result.exit()).as(c[1] + ": " + result.err()).isEqualTo(BuiltinMain.FAILED);
            assertThat(result.err().lines().findFirst().orElseThrow()).as(c[1]).startsWith("capstan-component register-model: ").contains(c[2]);
            assertThat(Files.exists(result.dir().resolve("executor_output.json"))).isFalse();
        }
        var noFormat = step(model, "iris").run();
        assertThat(noFormat.exit()).isEqualTo(BuiltinMain.FAILED);
        assertThat(noFormat.err()).contains("'model_format' is missing");
        var noName = Step.of("register-model", tmp.resolve("out2")).input("model", "system.Model", model).param("model_format", "onnx")
                .output("registered_model", "system.Model").run();
        assertThat(noName.err()).contains("input parameter 'model_name' is missing");
        var noModel = step(tmp.resolve("nowhere"), "iris").param("model_format", "onnx").run();
        assertThat(noModel.exit()).isEqualTo(BuiltinMain.FAILED);
        assertThat(noModel.err()).contains("'model'");
    }
}
