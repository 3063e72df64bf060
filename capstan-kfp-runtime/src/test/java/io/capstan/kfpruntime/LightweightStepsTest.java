package io.capstan.kfpruntime;

import static io.capstan.kfpruntime.Steps.executor;
import static io.capstan.kfpruntime.Steps.json;
import static io.capstan.kfpruntime.Steps.run;
import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.Json;
import io.capstan.store.testing.Conformance;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class LightweightStepsTest {
    private static final String FUNCTIONS = "essential/lightweight_python_functions_with_outputs.yaml";
    private static final String MISSING = "package definitely-not-installed-pkg is not installed and cannot be fetched"
            + " (no network); install it on this machine (e.g. apt-get install python3-definitely-not-installed-pkg)"
            + " or remove it from packages_to_install";

    @TempDir
    static Path installDir;
    static Path runtime;

    @TempDir
    Path work;

    @BeforeAll
    static void install() {
        runtime = KfpRuntime.install(installDir);
    }

    @Test
    void dropsThePreambleAndIgnoresKfpItself() throws Exception {
        var c = executor(FUNCTIONS, "exec-add-numbers");
        var asked = new ArrayList<String>();
        var step = LightweightSteps.rewrite(c.command(), c.args(), runtime, name -> asked.add(name));

        assertThat(asked).isEmpty(); // kfp is provided, typing-extensions only applies below Python 3.9
        assertThat(step.command()).isEqualTo(c.command().subList(3, c.command().size()));
        assertThat(step.command().subList(0, 2)).containsExactly("sh", "-ec");
        assertThat(step.args()).isEqualTo(c.args());
        assertThat(step.env()).containsEntry("PYTHONUNBUFFERED", "1");
        assertThat(step.env().get("PYTHONPATH")).startsWith(runtime.toAbsolutePath().toString());
        assertThat(step.missingPackages()).isEmpty();
        assertThat(step.failure()).isEmpty();
    }

    @Test
    void packagesToInstallAreCheckedByProjectName() throws Exception {
        var c = executor("metrics_visualization_v2.yaml", "exec-digit-classification");
        var asked = new ArrayList<String>();
        var step = LightweightSteps.rewrite(c.command(), c.args(), runtime, name -> asked.add(name));

        assertThat(asked).containsExactly("scikit-learn");
        assertThat(step.missingPackages()).isEmpty();
        assertThat(step.command().get(0)).isEqualTo("sh");
        assertThat(step.command().get(1)).isEqualTo("-ec");
    }

    @Test
    void aMissingPackageFailsWithTheExactMessage() throws Exception {
        var c = executor(FUNCTIONS, "exec-add-numbers");
        var preamble = c.command().get(2).replace("python3 -m pip install",
                "python3 -m pip install --quiet --no-warn-script-location 'definitely-not-installed-pkg' 'sqlite3' "
                        + "&& python3 -m pip install");
        var withPackage = c.withPreamble(preamble);

        var step = LightweightSteps.rewrite(withPackage.command(), withPackage.args(), runtime,
                PythonImports.create()::isImportable);

        assertThat(step.missingPackages()).containsExactly("definitely-not-installed-pkg");
        assertThat(step.failure()).contains(MISSING);
        assertThat(LightweightSteps.missingPackageMessage("definitely-not-installed-pkg")).isEqualTo(MISSING);
        var result = run(step, "{}", work);
        assertThat(result.exitCode()).isEqualTo(1);
        assertThat(result.stderr().strip()).isEqualTo(MISSING);
    }

    @Test
    void aCommandThatIsNotALightweightStepPassesThroughUnchanged() throws Exception {
        var c = executor("two_step_pipeline.yaml", "exec-write-to-gcs");
        var step = LightweightSteps.rewrite(c.command(), c.args(), runtime, name -> false);

        assertThat(step.command()).isEqualTo(c.command());
        assertThat(step.args()).isEqualTo(c.args());
        assertThat(step.env()).isEmpty();
        assertThat(step.isLightweight()).isFalse();

        var echo = LightweightSteps.rewrite(List.of("echo"), List.of("hello world"), runtime, name -> false);
        assertThat(echo.command()).containsExactly("echo");
        assertThat(echo.args()).containsExactly("hello world");
        assertThat(echo.env()).isEmpty();
    }

    @Test
    void requirementsAreReadFromEveryPipInstallOfThePreamble() {
        var script = """
                PIP_DISABLE_PIP_VERSION_CHECK=1 python3 -m pip install --quiet --index-url https://pypi.org/simple \
                --trusted-host https://pypi.org/simple 'yapf'  &&  python3 -m pip install 'kfp==2.14.3' '--no-deps' \
                'typing-extensions>=3.7.4,<5; python_version<"3.9"' "pandas[parquet]==2.2.0" git+https://x/y.git \
                && "$0" "$@"
                """;
        var names = PipInstallScript.requirements(script).stream()
                .filter(r -> !r.isKfp() && r.appliesToSupportedPython())
                .map(PipInstallScript.Requirement::displayName).toList();
        assertThat(names).containsExactly("yapf", "pandas", "git+https://x/y.git");
    }

    @Test
    void pythonImportsMapsProjectNamesToModules() {
        assertThat(PythonImports.moduleName("scikit-learn")).isEqualTo("sklearn");
        assertThat(PythonImports.moduleName("Pillow")).isEqualTo("PIL");
        assertThat(PythonImports.moduleName("PyYAML")).isEqualTo("yaml");
        assertThat(PythonImports.moduleName("opencv-python")).isEqualTo("cv2");
        assertThat(PythonImports.moduleName("typing_extensions")).isEqualTo("typing_extensions");
        var imports = PythonImports.create();
        assertThat(imports.isImportable("sqlite3")).isTrue();
        assertThat(imports.isImportable("definitely-not-installed-pkg")).isFalse();
        assertThat(imports.isImportable("os; import shutil")).isFalse();
    }

    static Stream<String> corpusExecutors() throws Exception {
        Conformance.require(Steps.CORPUS);
        var found = new ArrayList<String>();
        try (var files = Files.walk(Steps.CORPUS)) {
            for (var file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                var text = Files.readString(file);
                if (!text.contains("executor_main")) {
                    continue;
                }
                for (var doc : Json.yaml().readerFor(Map.class).readValues(text).readAll()) {
                    var executors = Json.yaml().valueToTree(doc).path("deploymentSpec").path("executors");
                    executors.fields().forEachRemaining(e -> {
                        if (e.getValue().has("container")) {
                            found.add(Steps.CORPUS.relativize(file) + "#" + e.getKey());
                        }
                    });
                }
            }
        }
        return found.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpusExecutors")
    void everyCorpusExecutorIsRecognisedAndKfpIsNeverMissing(String ref) throws Exception {
        var parts = ref.split("#");
        var c = executor(parts[0], parts[1]);
        var step = LightweightSteps.rewrite(c.command(), c.args(), runtime, name -> false);
        boolean runsExecutorMain = String.join(" ", c.command()).contains("kfp.dsl.executor_main");

        assertThat(step.isLightweight()).isEqualTo(runsExecutorMain);
        assertThat(step.missingPackages()).doesNotContain("kfp", "typing-extensions");
        if (runsExecutorMain && step.missingPackages().isEmpty()) {
            assertThat(String.join(" ", step.command())).doesNotContain("pip install");
        }
    }
}
