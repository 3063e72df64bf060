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
                .contains("Registered the model as iris v1 in the model registry, alias champion; serving model-registry://iris@champion.")
                .contains("serves as InferenceService iris at http://")
                .contains("is predicted virginica")
                .contains("curl -s -H 'Content-Type: application/json'");
        assertThat(home.resolve("examples/iris/iris.csv")).exists();
        // The web UI's link logs in with the admin token (the server turns ?token= into a session cookie).
        var token = io.capstan.security.AdminToken.read(home).orElseThrow();
        assertThat(run.out()).containsPattern("Open the web UI.*\\n  http://[^ ]+/runs\\?token=" + java.util.regex.Pattern.quote(token) + "\\n");
    }
}
