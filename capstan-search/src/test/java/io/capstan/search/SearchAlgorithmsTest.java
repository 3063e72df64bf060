package io.capstan.search;

import io.capstan.core.FieldError;
import io.capstan.core.InvalidSpecException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SearchAlgorithmsTest {
    private static final SearchSpace SPACE = new SearchSpace(List.of(Parameter.ofDouble("lr", 0.001, 0.1), Parameter.ofInt("epochs", 1, 27)));

    @ParameterizedTest
    @ValueSource(strings = {"random", "grid", "sobol", "tpe", "multivariate-tpe", "bayesianoptimization", "cmaes", "pbt"})
    void everyKatibAlgorithmIsCreatedAndSuggests(String name) {
        SearchSpace space = new SearchSpace(List.of(stepped("lr", 0.01, 0.05, 0.01), Parameter.ofInt("epochs", 1, 27)));

        List<Suggestion> suggestions = SearchAlgorithms.create(name, Map.of(), space).suggest(space, List.of(), 2);

        assertThat(suggestions).hasSize(2).allSatisfy(s -> assertThat(s.assignment()).containsOnlyKeys("lr", "epochs"));
    }

    @Test
    void hyperbandIsCreatedWithItsResource() {
        SearchAlgorithm hyperband = SearchAlgorithms.create("hyperband", Map.of("resource_name", "epochs", "r_l", "27"), SPACE);

        assertThat(hyperband.suggest(SPACE, List.of(), 1)).hasSize(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"enas", "darts"})
    void neuralArchitectureSearchIsRefusedWithAReason(String name) {
        assertThatThrownBy(() -> SearchAlgorithms.create(name, Map.of(), SPACE))
                .isInstanceOf(InvalidSpecException.class)
                .satisfies(e -> assertThat(paths(e)).containsExactly("algorithm.algorithmName"))
                .hasMessageContaining("neural-architecture");
    }

    @Test
    void unknownAlgorithmIsRejected() {
        assertThatThrownBy(() -> SearchAlgorithms.create("simulated-annealing", Map.of(), SPACE))
                .isInstanceOf(InvalidSpecException.class)
                .satisfies(e -> assertThat(paths(e)).containsExactly("algorithm.algorithmName"))
                .hasMessageContaining("simulated-annealing");
    }

    @ParameterizedTest
    @CsvSource({
            "random, seed, 1",
            "random, random_state, abc",
            "grid, random_state, 1",
            "tpe, n_startup_trials, -1",
            "tpe, gamma, 1.5",
            "multivariate-tpe, n_ei_candidates, 0",
            "bayesianoptimization, acq_func, magic",
            "bayesianoptimization, base_estimator, RF",
            "bayesianoptimization, n_initial_points, 0",
            "cmaes, sigma, 0",
            "cmaes, restart_strategy, lipop",
            "hyperband, eta, 1",
            "hyperband, resource_name, depth",
            "pbt, n_population, 2",
            "pbt, truncation_threshold, 0",
            "pbt, resample_probability, 2",
    })
    void badSettingIsRejectedNamingIt(String algorithm, String setting, String value) {
        Map<String, String> settings = algorithm.equals("hyperband") && !setting.equals("resource_name")
                ? Map.of("resource_name", "epochs", setting, value) : Map.of(setting, value);

        assertThatThrownBy(() -> SearchAlgorithms.create(algorithm, settings, SPACE))
                .isInstanceOf(InvalidSpecException.class)
                .satisfies(e -> assertThat(paths(e)).containsExactly("algorithm.algorithmSettings." + setting));
    }

    @Test
    void hyperbandNeedsAResourceName() {
        assertThatThrownBy(() -> SearchAlgorithms.create("hyperband", Map.of("eta", "3"), SPACE))
                .isInstanceOf(InvalidSpecException.class)
                .satisfies(e -> assertThat(paths(e)).containsExactly("algorithm.algorithmSettings.resource_name"));
    }

    @Test
    void gridRejectsAContinuousParameterWithoutStep() {
        assertThatThrownBy(() -> SearchAlgorithms.create("grid", Map.of(), SPACE))
                .isInstanceOf(InvalidSpecException.class)
                .satisfies(e -> assertThat(paths(e)).containsExactly("spec.parameters[0].feasibleSpace.step"));
    }

    @Test
    void logParameterNeedsAPositiveMinimum() {
        var space = new SearchSpace(List.of(new Parameter("lr", ParameterType.DOUBLE, 0, 1, OptionalDouble.empty(), List.of(),
                Distribution.LOG_UNIFORM)));

        assertThatThrownBy(() -> SearchAlgorithms.create("random", Map.of(), space))
                .isInstanceOf(InvalidSpecException.class)
                .satisfies(e -> assertThat(paths(e)).containsExactly("spec.parameters[0].feasibleSpace.min"));
    }

    @Test
    void medianStopSettingsAreChecked() {
        assertThat(SearchAlgorithms.earlyStopping("medianstop", Map.of("min_trials_required", "2", "start_step", "1"))).isNotNull();
        assertThatThrownBy(() -> SearchAlgorithms.earlyStopping("medianstop", Map.of("start_step", "zero")))
                .isInstanceOf(InvalidSpecException.class)
                .satisfies(e -> assertThat(paths(e)).containsExactly("earlyStopping.algorithmSettings.start_step"));
        assertThatThrownBy(() -> SearchAlgorithms.earlyStopping("medianstop", Map.of("patience", "3")))
                .isInstanceOf(InvalidSpecException.class)
                .satisfies(e -> assertThat(paths(e)).containsExactly("earlyStopping.algorithmSettings.patience"));
        assertThatThrownBy(() -> SearchAlgorithms.earlyStopping("hyperband", Map.of()))
                .isInstanceOf(InvalidSpecException.class)
                .satisfies(e -> assertThat(paths(e)).containsExactly("earlyStopping.algorithmName"));
    }

    static Parameter stepped(String name, double min, double max, double step) {
        return new Parameter(name, ParameterType.DOUBLE, min, max, OptionalDouble.of(step), List.of(), Distribution.UNIFORM);
    }

    private static List<String> paths(Throwable e) {
        return ((InvalidSpecException) e).errors().stream().map(FieldError::path).toList();
    }
}
