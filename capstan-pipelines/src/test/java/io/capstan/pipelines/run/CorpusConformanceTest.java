package io.capstan.pipelines.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.backend.GpuDetector;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.kfpruntime.KfpRuntime;
import io.capstan.kfpruntime.LightweightSteps;
import io.capstan.kfpruntime.PythonImports;
import io.capstan.store.testing.Conformance;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every compiled pipeline in Kubeflow's {@code valid/} corpus (read in place) whose steps can run offline, run
 * through the reconciler with real child processes and the offline KFP Python runtime, as the server runs them:
 * files under {@code failing/} must end Failed, the rest Succeeded. The files that cannot run on this machine are
 * listed, each with its reason, in {@code corpus/offline-exclusions.tsv}; required pipeline parameters are in
 * {@code corpus/parameters.tsv}; {@code corpus/expected-failed.tsv} names the few files outside {@code failing/}
 * that fail by design on Kubeflow too. All runs go at once, so the backend runs their steps side by side, and each
 * case then checks its own outcome. Skips when the corpus is absent.
 */
class CorpusConformanceTest {
    private static final Path VALID = CorpusRunTest.VALID;
    private static final Duration RUN_LIMIT = Duration.ofSeconds(150);
    private static final Map<String, String> EXCLUDED = table("corpus/offline-exclusions.tsv");
    private static final Map<String, String> EXPECTED_FAILED = table("corpus/expected-failed.tsv");
    private static final Map<String, Map<String, String>> PARAMETERS = parameters("corpus/parameters.tsv");

    @TempDir
    static Path dir;
    private static RunFixture fx;
    private static final Map<String, Resource> outcomes = new ConcurrentHashMap<>();
    private static final Map<String, Throwable> errors = new ConcurrentHashMap<>();

    @BeforeAll
    static void runEveryRunnableFile() throws Exception {
        Conformance.require(VALID);
        var runtime = KfpRuntime.install(dir.resolve("python"));
        var imports = PythonImports.create();
        // The machine is declared as big as a Kubeflow node that schedules every corpus step (some ask for 4 CPUs or
        // a GPU, which this machine may lack and would refuse at once); admission counts requests, so the steps,
        // which use next to nothing, still run here. StepResourcesTest covers refusing what cannot fit.
        fx = new RunFixture(dir, step -> {
            var r = LightweightSteps.rewrite(step.command(), step.args(), runtime, imports::isImportable);
            if (!r.isLightweight()) return step;
            var env = new HashMap<>(step.env());
            env.putAll(r.env());
            return new StepCommand(r.command(), r.args(), env);
        }, o -> o.withCapacity(8, 16L << 30).withGpuDetector(GpuDetector.fixed(List.of(0))));
        var keys = new LinkedHashMap<String, ResourceKey>();
        int n = 0;
        for (var file : runnable().toList()) {
            var params = new LinkedHashMap<String, String>();
            PARAMETERS.getOrDefault(file, Map.of()).forEach((k, v) -> params.put(k, v.replace("${dir}", dir.toString())));
            keys.put(file, fx.submit("corpus-" + n++, RunFixture.specOf(Files.readString(VALID.resolve(file)), params)));
        }
        try (var exec = Executors.newVirtualThreadPerTaskExecutor()) {
            var futures = new LinkedHashMap<String, Future<?>>();
            keys.forEach((file, key) -> futures.put(file, exec.submit(() -> {
                try {
                    outcomes.put(file, fx.runUntil(key, r -> false, RUN_LIMIT));
                } catch (Throwable t) {
                    errors.put(file, t);
                }
            })));
            for (var f : futures.values()) f.get(RUN_LIMIT.toSeconds() + 30, TimeUnit.SECONDS);
        }
    }

    @AfterAll
    static void tearDown() {
        if (fx != null) fx.close();
    }

    static Stream<String> runnable() {
        return corpusFiles().filter(f -> !EXCLUDED.containsKey(f));
    }

    @ParameterizedTest
    @MethodSource("runnable")
    void endsAsTheCorpusExpects(String file) {
        Conformance.require(VALID);
        assertThat(errors.get(file)).as(file).isNull();
        var run = outcomes.get(file);
        var expected = file.startsWith("failing/") || EXPECTED_FAILED.containsKey(file) ? "Failed" : "Succeeded";
        assertThat(run.status().phase()).as(() -> file + ": " + run.status().field("message").map(Object::toString).orElse("")
                + stderrOfFailedSteps(run)).isEqualTo(expected);
    }

    /** The last lines of every failed step's log, so that a failure says why without opening the run folder. */
    private static String stderrOfFailedSteps(Resource run) {
        var out = new StringBuilder();
        run.status().field("tasks").ifPresent(tasks -> tasks.properties().forEach(e -> {
            var id = e.getValue().path("workloadId").asText("");
            if (!e.getValue().path("state").asText().equals("FAILED") || id.isEmpty() || fx.backend.find(id).isEmpty()) return;
            out.append("\n  ").append(e.getKey()).append(": ");
            fx.backend.tail(id, 4).forEach(l -> out.append(l.text()).append(" | "));
        }));
        return out.toString();
    }

    @Test
    void everyExclusionNamesACorpusFileAndAReason() {
        Conformance.require(VALID);
        var files = corpusFiles().toList();
        assertThat(files).as("files expected to fail").containsAll(EXPECTED_FAILED.keySet());
        EXCLUDED.forEach((file, reason) -> {
            assertThat(files).as("excluded file").contains(file);
            assertThat(reason).as("reason for " + file).isNotBlank();
        });
    }

    private static Stream<String> corpusFiles() {
        Conformance.require(VALID);
        try (var s = Files.walk(VALID)) {
            return s.filter(Files::isRegularFile)
                    .map(p -> VALID.relativize(p).toString())
                    .filter(f -> f.endsWith(".yaml") || f.endsWith(".yml") || f.endsWith(".json"))
                    .sorted().toList().stream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Tab-separated {@code file<TAB>reason} lines; {@code #} starts a comment. */
    private static Map<String, String> table(String resource) {
        var out = new TreeMap<String, String>();
        for (var line : RunFixture.resource(resource).split("\n")) {
            if (line.isBlank() || line.startsWith("#")) continue;
            var cells = line.split("\t", 2);
            out.put(cells[0].strip(), cells.length > 1 ? cells[1].strip() : "");
        }
        return out;
    }

    /** Tab-separated {@code file<TAB>name<TAB>value} lines, one per parameter. */
    private static Map<String, Map<String, String>> parameters(String resource) {
        var out = new TreeMap<String, Map<String, String>>();
        for (var line : RunFixture.resource(resource).split("\n")) {
            if (line.isBlank() || line.startsWith("#")) continue;
            var cells = line.split("\t", 3);
            out.computeIfAbsent(cells[0].strip(), k -> new LinkedHashMap<>()).put(cells[1].strip(), cells.length > 2 ? cells[2] : "");
        }
        return out;
    }

}
