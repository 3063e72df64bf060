package io.capstan.search;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Behaviour every sampling algorithm shares: reproducibility, valid values, no repeats. */
class SamplingAlgorithmsTest {
    private static final SearchSpace MIXED = new SearchSpace(List.of(
            new Parameter("lr", ParameterType.DOUBLE, 1e-5, 1e-1, OptionalDouble.empty(), List.of(), Distribution.LOG_UNIFORM),
            Parameter.ofInt("epochs", 1, 10),
            new Parameter("dropout", ParameterType.DOUBLE, 0, 0.5, OptionalDouble.of(0.1), List.of(), Distribution.UNIFORM),
            new Parameter("batch", ParameterType.DISCRETE, 0, 0, OptionalDouble.empty(), List.of("16", "32", "64"), Distribution.UNIFORM),
            Parameter.ofCategorical("optimizer", List.of("sgd", "adam", "rmsprop"))));

    @ParameterizedTest
    @ValueSource(strings = {"random", "sobol", "tpe", "multivariate-tpe", "bayesianoptimization", "cmaes"})
    void sameSeedSameSuggestions(String name) {
        var first = Runs.run(SearchAlgorithms.create(name, Map.of("random_state", "7"), MIXED), MIXED, 14, SamplingAlgorithmsTest::loss);
        var second = Runs.run(SearchAlgorithms.create(name, Map.of("random_state", "7"), MIXED), MIXED, 14, SamplingAlgorithmsTest::loss);

        assertThat(second).extracting(Trial::assignment).containsExactlyElementsOf(first.stream().map(Trial::assignment).toList());
    }

    @ParameterizedTest
    @ValueSource(strings = {"random", "tpe", "multivariate-tpe", "bayesianoptimization", "cmaes"})
    void otherSeedOtherSuggestions(String name) {
        var first = Runs.run(SearchAlgorithms.create(name, Map.of("random_state", "1"), MIXED), MIXED, 12, SamplingAlgorithmsTest::loss);
        var second = Runs.run(SearchAlgorithms.create(name, Map.of("random_state", "2"), MIXED), MIXED, 12, SamplingAlgorithmsTest::loss);

        assertThat(second.stream().map(Trial::assignment).toList()).isNotEqualTo(first.stream().map(Trial::assignment).toList());
    }

    @ParameterizedTest
    @ValueSource(strings = {"random", "sobol", "tpe", "multivariate-tpe", "bayesianoptimization", "cmaes"})
    void valuesRespectBoundsStepsAndTypes(String name) {
        var history = Runs.run(SearchAlgorithms.create(name, Map.of(), MIXED), MIXED, 20, SamplingAlgorithmsTest::loss);

        assertThat(history).hasSize(20).allSatisfy(t -> {
            Map<String, String> a = t.assignment();
            assertThat(a.get("lr")).doesNotContain("E").matches("\\d+\\.\\d+");
            assertThat(Double.parseDouble(a.get("lr"))).isBetween(1e-5, 1e-1);
            assertThat(a.get("epochs")).matches("\\d+");
            assertThat(Integer.parseInt(a.get("epochs"))).isBetween(1, 10);
            assertThat(a.get("dropout")).isIn("0.0", "0.1", "0.2", "0.3", "0.4", "0.5");
            assertThat(a.get("batch")).isIn("16", "32", "64");
            assertThat(a.get("optimizer")).isIn("sgd", "adam", "rmsprop");
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"random", "sobol", "tpe", "multivariate-tpe", "bayesianoptimization", "cmaes", "grid"})
    void runningAndFinishedTrialsAreNotSuggestedAgain(String name) {
        SearchSpace small = new SearchSpace(List.of(Parameter.ofInt("layers", 1, 3), Parameter.ofCategorical("act", List.of("relu", "tanh"))));
        var history = new java.util.ArrayList<Trial>();
        int i = 0;
        for (String layers : List.of("1", "2", "3")) {
            for (String act : List.of("relu", "tanh")) {
                if (layers.equals("2") && act.equals("tanh")) continue;
                var assignment = Map.of("layers", layers, "act", act);
                history.add(i % 2 == 0 ? Runs.running("t" + i, assignment) : Trial.succeeded("t" + i, assignment, i));
                i++;
            }
        }

        List<Suggestion> next = SearchAlgorithms.create(name, Map.of(), small).suggest(small, history, 3);

        assertThat(next).extracting(Suggestion::assignment).containsExactly(Map.of("layers", "2", "act", "tanh"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"random", "tpe", "multivariate-tpe", "bayesianoptimization", "cmaes"})
    void parallelSuggestionsAreDistinct(String name) {
        var history = new java.util.ArrayList<>(Runs.run(SearchAlgorithms.create(name, Map.of(), MIXED), MIXED, 12, SamplingAlgorithmsTest::loss));
        history.add(Runs.running("r1", history.get(3).assignment().entrySet().stream()
                .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, e -> e.getKey().equals("optimizer") ? "sgd" : e.getValue()))));

        List<Suggestion> next = SearchAlgorithms.create(name, Map.of(), MIXED).suggest(MIXED, history, 4);

        Set<Map<String, String>> tried = new HashSet<>();
        history.forEach(t -> tried.add(t.assignment()));
        assertThat(next).hasSize(4).extracting(Suggestion::assignment).doesNotHaveDuplicates().noneMatch(tried::contains);
    }

    private static double loss(Map<String, String> a) {
        double lr = Math.log10(Double.parseDouble(a.get("lr")));
        return (lr + 2.5) * (lr + 2.5) + Math.abs(Integer.parseInt(a.get("epochs")) - 7) * 0.1
                + Double.parseDouble(a.get("dropout")) + (a.get("optimizer").equals("adam") ? 0 : 0.5)
                + (a.get("batch").equals("32") ? 0 : 0.2);
    }
}
