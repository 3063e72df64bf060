package io.capstan.search;

import io.capstan.search.internal.BayesianOptimization;
import io.capstan.search.internal.CmaEs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** CMA-ES restart strategies (ipop, bipop) and Bayesian optimisation's gp_hedge portfolio. */
class RestartsAndPortfolioTest {
    private static final SearchSpace SQUARE = new SearchSpace(List.of(Parameter.ofDouble("x", 0, 1), Parameter.ofDouble("y", 0, 1)));

    @Test
    void ipopRestartsAStagnatedRunWithTwiceThePopulation() {
        // A flat objective: the run stagnates after 10 + ceil(30 * 2 / 6) = 20 generations and is restarted.
        List<Trial> history = Runs.run(SearchAlgorithms.create("cmaes", Map.of("restart_strategy", "ipop", "random_state", "1"), SQUARE),
                SQUARE, 200, a -> 1.0);

        assertThat(history).hasSize(200);
        List<Trial> restarted = history.stream().filter(t -> "1".equals(t.labels().get(CmaEs.RESTART))).toList();
        assertThat(restarted).isNotEmpty();
        int firstRestarted = history.indexOf(restarted.get(0));
        assertThat(firstRestarted % 6).isZero();
        assertThat(firstRestarted).isGreaterThan(20 * 6);
        assertThat(restarted.stream().filter(t -> t.labels().get(CmaEs.GENERATION).equals("0"))).hasSize(12);
        assertThat(history.stream().map(Trial::assignment).distinct()).hasSize(200);
    }

    @Test
    void withoutARestartStrategyTheRunGoesOn() {
        List<Trial> history = Runs.run(SearchAlgorithms.create("cmaes", Map.of("random_state", "1"), SQUARE), SQUARE, 200, a -> 1.0);

        assertThat(history).noneMatch(t -> t.labels().containsKey(CmaEs.RESTART));
    }

    @ParameterizedTest
    @ValueSource(strings = {"ipop", "bipop"})
    void restartedRunsStillFindTheMinimum(String strategy) {
        List<Trial> history = Runs.run(SearchAlgorithms.create("cmaes", Map.of("restart_strategy", strategy, "random_state", "2"), SQUARE),
                SQUARE, 300, a -> Math.pow(Double.parseDouble(a.get("x")) - 0.3, 2) + Math.pow(Double.parseDouble(a.get("y")) - 0.7, 2));

        assertThat(Runs.best(history)).isLessThan(1e-4);
    }

    @Test
    void gpHedgeRecordsEachFunctionsNomineeAndPicksOneOfThem() {
        List<Trial> history = Runs.run(SearchAlgorithms.create("bayesianoptimization", Map.of("random_state", "3"), SQUARE), SQUARE, 14,
                a -> Math.pow(Double.parseDouble(a.get("x")) - 0.3, 2) + Math.pow(Double.parseDouble(a.get("y")) - 0.7, 2));

        assertThat(history.subList(0, 10)).allMatch(t -> t.labels().isEmpty());
        for (Trial t : history.subList(10, 14)) {
            String[] nominees = t.labels().get(BayesianOptimization.NOMINEES).split(";");
            assertThat(nominees).hasSize(3);
            double x = Double.parseDouble(t.assignment().get("x"));
            assertThat(nominees).anySatisfy(n -> assertThat(Double.parseDouble(n.split(",")[0])).isCloseTo(x, org.assertj.core.data.Offset.offset(1e-6)));
        }
    }

    @Test
    void aSingleAcquisitionFunctionNeedsNoLabels() {
        List<Trial> history = Runs.run(SearchAlgorithms.create("bayesianoptimization", Map.of("acq_func", "EI", "random_state", "3"), SQUARE),
                SQUARE, 12, a -> Double.parseDouble(a.get("x")));

        assertThat(history).allMatch(t -> t.labels().isEmpty());
    }
}
