package io.capstan.components;

import io.capstan.core.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** BuiltinMain as the run engine starts it: a separate JVM, the executor input as an argument, the exit status as the verdict. */
class ProcessContractTest {
    @TempDir
    Path tmp;

    private record Outcome(int exit, String stdout, String stderr) {
    }

    private Outcome launch(Path workingDir, String... args) throws Exception {
        var command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), BuiltinMain.class.getName()));
        command.addAll(List.of(args));
        var stdout = tmp.resolve("stdout-" + System.nanoTime());
        var stderr = tmp.resolve("stderr-" + System.nanoTime());
        var process = new ProcessBuilder(command).directory(workingDir.toFile())
                .redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            throw new AssertionError("BuiltinMain did not exit within 60 s");
        }
        return new Outcome(process.exitValue(), Files.readString(stdout, StandardCharsets.UTF_8), Files.readString(stderr, StandardCharsets.UTF_8));
    }

    @Test
    void ingestRunsAsAChildProcess() throws Exception {
        var step = Step.of("csv-ingest", tmp.resolve("ingest")).param("source", "examples/iris/iris.csv")
                .output("dataset", "system.Dataset");
        var outcome = launch(Step.REPO, "csv-ingest", "--executor_input", step.json());
        assertThat(outcome.exit()).as(outcome.stderr()).isZero();
        assertThat(outcome.stdout()).contains("csv-ingest: succeeded");
        var output = Json.json().readTree(tmp.resolve("ingest/executor_output.json").toFile());
        assertThat(output.path("artifacts").path("dataset").path("artifacts").get(0).path("metadata").path("rows").asInt())
                .isEqualTo(150);
        assertThat(Files.readString(tmp.resolve("ingest/dataset"))).isEqualTo(Files.readString(Step.IRIS));
    }

    @Test
    void failuresAndUsageAreExitStatuses() throws Exception {
        var bad = launch(tmp, "csv-ingest", "--executor_input", "not json");
        assertThat(bad.exit()).isEqualTo(1);
        assertThat(bad.stderr().lines().findFirst().orElseThrow()).contains("not valid JSON");
        var unknown = launch(tmp, "no-such-component", "--executor_input", "{}");
        assertThat(unknown.exit()).isEqualTo(2);
        assertThat(unknown.stderr()).contains("unknown component 'no-such-component'");
        assertThat(launch(tmp).exit()).isEqualTo(2);
    }
}
