package io.capstan.pipelines;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import io.capstan.core.InvalidSpecException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Kubeflow's own compiled pipelines, read in place: every valid one plans, every invalid one is refused for its problem. */
class KfpConformanceTest {
    /** What each invalid file gets wrong, as a word the rejection must contain. */
    private static final Map<String, String> INVALID_KEYWORDS = Map.of(
            "empty_file.yaml", "empty",
            "invalid_yaml.yaml", "components_1",
            "no_name.yaml", "pipelineInfo.name");

    private static final PipelineParser PARSER = new PipelineParser();
    private static final PipelinePlanner PLANNER = new PipelinePlanner(new PipelineValidator());

    static Stream<Path> validPipelines() {
        var valid = Corpus.pipelines(Corpus.COMPILED.resolve("valid")).stream();
        // The kubernetes_platform snapshots are compiled pipelines too, each with a platform spec.
        var platform = Corpus.pipelines(Corpus.KFP.resolve("kubernetes_platform/python/test/snapshot/data")).stream()
                .filter(p -> !p.getFileName().toString().equals("corpus-absent"));
        return Stream.concat(valid, platform);
    }

    static List<Path> invalidPipelines() {
        return Corpus.pipelines(Corpus.COMPILED.resolve("invalid"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("validPipelines")
    void validPipelineParsesValidatesAndPlans(Path file) {
        Corpus.require();
        var parsed = PARSER.parse(file.getFileName().toString(), Corpus.read(file));
        var plan = PLANNER.plan(parsed);

        assertThat(plan.root().order()).hasSameSizeAs(parsed.spec().root().body() instanceof ComponentSpec.DagBody d
                ? d.dag().tasks().values() : List.of());
        plan.dags().values().forEach(dag -> dag.order().forEach(task -> {
            var position = dag.order().indexOf(task);
            task.upstream().forEach(up -> assertThat(dag.order().indexOf(dag.task(up))).isLessThan(position));
        }));
        // Every executor setting of the platform spec is either applied locally or reported, never dropped.
        parsed.platform().raw().path("platforms").path("kubernetes").path("deploymentSpec").path("executors").properties().forEach(exec ->
                exec.getValue().fieldNames().forEachRemaining(setting -> {
                    if (PlatformSpec.APPLIED_LOCALLY.contains(setting)) return;
                    assertThat(parsed.warnings()).extracting(PipelineWarning::path)
                            .contains("platforms.kubernetes.deploymentSpec.executors." + exec.getKey() + "." + setting);
                }));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidPipelines")
    void invalidPipelineIsRejectedNamingItsProblem(Path file) {
        Corpus.require();
        var name = file.getFileName().toString();
        var error = assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> PLANNER.plan(PARSER.parse(name, Corpus.read(file))))
                .actual();
        assertThat(error.errors()).isNotEmpty();
        assertThat(error.getMessage()).startsWith(name);
        var keyword = INVALID_KEYWORDS.get(name);
        if (keyword != null) assertThat(error.getMessage()).contains(keyword);
    }
}
