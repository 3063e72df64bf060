package io.capstan.pipelines.run;

import static io.capstan.pipelines.run.RunFixture.state;
import static io.capstan.pipelines.run.RunFixture.task;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A cache hit reuses outputs only while they are still there and unchanged. */
class OutputCacheTest {
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

    /** artifacts.yaml with caching on for both tasks. */
    private io.capstan.core.Resource run(String name) {
        var text = RunFixture.resource("runs/artifacts.yaml")
                .replace("        componentRef: {name: comp-", "        cachingOptions: {enableCache: true}\n        componentRef: {name: comp-");
        return fx.runToEnd(fx.submit(name, RunFixture.specOf(text, Map.of())));
    }

    /** Runs the pipeline once and returns the local path of the writer's output. */
    private Path firstRun() {
        var run = run("first");
        assertThat(state(run, "root/write")).isEqualTo("SUCCEEDED");
        return Path.of(RunLayout.localPath(uri(run)));
    }

    private static String uri(io.capstan.core.Resource run) {
        return task(run, "root/write").path("outputs").path("artifacts").path("data").get(0).path("uri").asText();
    }

    @Test
    void anUntouchedOutputIsReusedFromTheCache() {
        firstRun();

        var second = run("second");

        assertThat(state(second, "root/write")).isEqualTo("CACHED");
        assertThat(state(second, "root/read")).isEqualTo("CACHED");
    }

    @Test
    void aDeletedOutputDiscardsTheEntryAndTheStepRunsAgainSayingWhy() throws IOException {
        var output = firstRun();
        Files.delete(output);

        var second = run("second");

        assertThat(second.status().phase()).isEqualTo("Succeeded");
        assertThat(state(second, "root/write")).isEqualTo("SUCCEEDED");
        assertThat(task(second, "root/write").path("message").asText())
                .isEqualTo("cache entry discarded: output 'data' at file://" + output + " is missing; running the step again");
        assertThat(task(second, "root/read").path("outputs").path("parameters").path("Output").asText()).isEqualTo("rows: 42");
        assertThat(Files.readString(Path.of(RunLayout.localPath(uri(second))))).isEqualTo("rows: 42\n");

        var third = run("third");
        assertThat(state(third, "root/write")).as("the re-run's outputs are the new entry").isEqualTo("CACHED");
    }

    @Test
    void aModifiedOutputDiscardsTheEntryAndTheStepRunsAgainSayingWhy() throws IOException {
        var output = firstRun();
        Files.writeString(output, "rows: 41\n");

        var second = run("second");

        assertThat(state(second, "root/write")).isEqualTo("SUCCEEDED");
        assertThat(task(second, "root/write").path("message").asText())
                .startsWith("cache entry discarded: output 'data' at file://" + output + " changed since it was cached (digest sha256:")
                .endsWith("; running the step again");
        assertThat(task(second, "root/read").path("outputs").path("parameters").path("Output").asText()).isEqualTo("rows: 42");
    }

    @Test
    void aCacheHitsOutputsCheckedAgainstTheirDigestsAreReportedAndAChangedOneIsAnIntegrityFailure() throws IOException {
        fx.close();
        var checks = new java.util.concurrent.CopyOnWriteArrayList<String>();
        var locator = io.capstan.artifacts.ArtifactLocator.of(new io.capstan.artifacts.LocalArtifactStore(dir.resolve("store"), java.time.Clock.systemUTC()))
                .withIntegrityListener((check, ok) -> checks.add(check + ":" + ok));
        fx = new RunFixture(dir, locator);
        var output = firstRun();
        assertThat(checks).as("nothing cached yet").isEmpty();

        run("second");
        assertThat(checks).as("both tasks hit the cache with unchanged outputs").containsExactly("cache:true", "cache:true");

        checks.clear();
        Files.writeString(output, "rows: 41\n");
        var third = run("third");
        assertThat(state(third, "root/write")).isEqualTo("SUCCEEDED");
        assertThat(checks).as("the writer's changed output is an integrity failure").startsWith("cache:false");

        checks.clear();
        Files.delete(Path.of(RunLayout.localPath(uri(third))));
        run("fourth");
        assertThat(checks).as("a deleted output is stale, not corrupt").doesNotContain("cache:false");
    }
}
