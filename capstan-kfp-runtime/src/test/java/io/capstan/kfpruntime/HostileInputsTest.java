package io.capstan.kfpruntime;

import static io.capstan.kfpruntime.Steps.executor;
import static io.capstan.kfpruntime.Steps.json;
import static io.capstan.kfpruntime.Steps.run;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad executor inputs fail with one clear line on stderr and exit 1, not with a traceback. */
class HostileInputsTest {
    private static final String FUNCTIONS = "essential/lightweight_python_functions_with_outputs.yaml";

    @TempDir
    static Path installDir;
    static Path runtime;

    @TempDir
    Path work;

    @BeforeAll
    static void install() {
        runtime = KfpRuntime.install(installDir);
    }

    private Steps.Result runWith(Steps.Container c, String executorInput) throws Exception {
        var step = LightweightSteps.rewrite(c.command(), c.args(), runtime, name -> true);
        return run(step, executorInput, work);
    }

    @Test
    void malformedExecutorInputIsReported() throws Exception {
        var result = runWith(executor(FUNCTIONS, "exec-add-numbers"), "{\"inputs\": [");

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.stderr()).startsWith("KFP executor error: --executor_input is not valid JSON")
                .doesNotContain("Traceback");
    }

    @Test
    void executorInputWithoutOutputFileIsReported() throws Exception {
        var result = runWith(executor(FUNCTIONS, "exec-add-numbers"), json(Map.of("inputs", Map.of())));

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.stderr()).contains("KFP executor error: executor input has no \"outputs.outputFile\"");
    }

    @Test
    void unknownFunctionIsReportedWithTheFunctionsThatExist() throws Exception {
        var c = executor(FUNCTIONS, "exec-add-numbers").withFunction("no_such_function");
        var result = runWith(c, json(Map.of("outputs", Map.of("outputFile", work.resolve("o.json").toString()))));

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.stderr()).contains("KFP executor error: function `no_such_function` not found in component"
                + " module").contains("functions defined there: add_numbers").doesNotContain("Traceback");
    }

    @Test
    void parameterOfTheWrongTypeIsReported() throws Exception {
        var result = runWith(executor(FUNCTIONS, "exec-add-numbers"), json(Map.of(
                "inputs", Map.of("parameterValues", Map.of("first", "one", "second", 2)),
                "outputs", Map.of("outputFile", work.resolve("o.json").toString()))));

        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.stderr()).contains("KFP executor error: input parameter \"first\" should be int, got 'one'");
    }

    @Test
    void aComponentThatFailsFailsTheStep() throws Exception {
        var result = runWith(executor("failing/fail_v2.yaml", "exec-fail"),
                json(Map.of("outputs", Map.of("outputFile", work.resolve("o.json").toString()))));

        assertThat(result.exitCode()).isNotZero();
        assertThat(result.stderr()).doesNotContain("KFP executor error");
    }
}
