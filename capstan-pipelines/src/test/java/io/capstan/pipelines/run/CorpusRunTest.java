package io.capstan.pipelines.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.store.testing.Conformance;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Kubeflow's own compiled pipelines whose steps are plain shell or {@code echo}, read in place from the shared
 * corpus, run to Succeeded. Skips when the corpus is absent.
 */
class CorpusRunTest {
    static final Path VALID = Conformance.path("kubeflow-pipelines/test_data/sdk_compiled_pipelines/valid");

    @TempDir
    Path dir;
    RunFixture fx;

    @BeforeEach
    void setUp() {
        fx = new RunFixture(dir);
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "hello_world.yaml",
            "essential/container_no_input.yaml",
            "essential/pipeline_with_after.yaml",
            "essential/placeholder_with_if_placeholder_none_input_value.yaml",
            "pipeline_with_task_final_status_yaml.yaml"})
    void runsToSucceeded(String file) throws IOException {
        var path = VALID.resolve(file);
        Conformance.require(path);
        var run = fx.runToEnd(fx.submit("corpus", RunFixture.specOf(Files.readString(path), Map.of())));
        assertThat(run.status().phase()).as(file + ": " + run.status()).isEqualTo("Succeeded");
    }
}
