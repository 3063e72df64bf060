package io.capstan.pipelines.run;

import static io.capstan.pipelines.run.RunFixture.state;
import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.Json;
import io.capstan.core.ObjectMeta;
import io.capstan.core.Resource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Run-level placeholders and the exit handler's final status, valued as KFP's driver values them. */
class RunPlaceholdersTest {
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

    @Test
    void placeholdersResolveAsKfpsDriverResolvesThemAndASucceededProducerIsComplete() throws Exception {
        var spec = RunFixture.specOf(RunFixture.resource("runs/placeholders.yaml"), Map.of("dir", dir.toString()));
        var meta = new ObjectMeta("nightly-7", "default", "", Map.of(),
                Map.of(PipelineRunReconciler.DISPLAY_NAME_ANNOTATION, "Nightly training"), null, 0, "", List.of());
        var key = fx.store.create(Resource.of(PipelineRuns.RESOURCE_KIND.apiVersion(), PipelineRuns.KIND, meta, spec)).key();
        var run = fx.runToEnd(key);

        assertThat(run.status().phase()).isEqualTo("Succeeded");
        assertThat(state(run, "root/notify")).isEqualTo("SUCCEEDED");
        var uid = run.metadata().uid();
        var created = run.metadata().created().orElseThrow().truncatedTo(ChronoUnit.SECONDS).toString();
        assertThat(created).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ");
        assertThat(Files.readAllLines(dir.resolve("placeholders.txt"))).containsExactly(
                "Nightly training", "nightly-7", uid, "show", StepInvocation.taskUuid(uid, "root/exit-handler-1/show"),
                created, created, "Nightly training", created);

        var status = Json.json().readTree(Files.readString(dir.resolve("status.json")));
        assertThat(status.path("state").asText()).isEqualTo("COMPLETE");
        assertThat(status.path("pipelineJobResourceName").asText()).isEqualTo("nightly-7");
        assertThat(status.path("pipelineTaskName").asText()).isEqualTo("exit-handler-1");
        assertThat(status.path("error").isEmpty()).isTrue();
    }
}
