package io.capstan.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The newcomer's first command, for real: a server on embedded storage, the example job, then the iris pipeline. */
class QuickstartEndToEndTest {
    @TempDir
    Path home;

    @Test
    void runsTheExampleJobTheIrisPipelineAndServesItsModel() {
        var run = new Cli().run("quickstart", "--home", home.toString(), "--port", "0", "--exit");
        assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
        assertThat(run.out())
                .contains("The example job succeeded")
                .contains("run iris-quickstart: Succeeded")
                .contains("XGBoost test accuracy: 0.9")
                .contains("logistic regression test accuracy: 0.9")
                .contains("/apis/capstan/v1/lineage/pipelineruns/")
                .contains("The pipeline registered the model as iris v1 in the model registry (from ")
                .contains("alias champion; serving model-registry://iris@champion.")
                .contains("serves as InferenceService iris at http://")
                .contains("is predicted virginica")
                .contains("curl -s -H 'Content-Type: application/json'");
        // The lineage from data to endpoint, in order: the dataset, the run and its steps, the version, the serving revision.
        var out = run.out();
        var lineage = out.substring(out.indexOf("Its lineage, from data to endpoint"));
        assertThat(lineage).containsPattern("\\n  dataset +\\S+")
                .containsPattern("\\n  pipeline run +iris-quickstart \\(uid [0-9a-f-]+\\)")
                .contains("\n    step           csv-ingest").contains("\n    step           export-onnx")
                .containsPattern("\\n  model version +iris/v1 \\(id [0-9]+\\)")
                .containsPattern("\\n  endpoint +InferenceService iris, revision \\S+, serving it");
        var order = java.util.stream.Stream.of("\n  dataset", "\n  pipeline run", "\n    step           csv-ingest", "\n    step           export-onnx",
                "\n  model version", "\n  endpoint").map(lineage::indexOf).toList();
        assertThat(order).doesNotContain(-1).isSorted();
        assertThat(home.resolve("examples/iris/iris.csv")).exists();
        // The web UI's link logs in with the admin token (the server turns ?token= into a session cookie).
        var token = io.capstan.security.AdminToken.read(home).orElseThrow();
        assertThat(run.out()).containsPattern("Open the web UI.*\\n  http://[^ ]+/runs\\?token=" + java.util.regex.Pattern.quote(token) + "\\n");
    }
}
