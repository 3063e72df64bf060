package io.capstan.search;

import io.capstan.search.bench.TestFunctions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Model-based algorithms must beat random search on Branin: compared by the median gap over a few seeds. */
class OptimisationQualityTest {
    private static final int TRIALS = 60;
    private static final int SEEDS = 5;
    private static final double RANDOM_GAP = medianGap("random", TRIALS);

    @ParameterizedTest
    @ValueSource(strings = {"tpe", "multivariate-tpe", "bayesianoptimization", "cmaes"})
    void beatsRandomSearchOnBranin(String name) {
        assertThat(medianGap(name, TRIALS)).isLessThan(0.5 * RANDOM_GAP);
    }

    @org.junit.jupiter.api.Test
    void bayesianOptimisationGetsCloseToTheOptimum() {
        assertThat(medianGap("bayesianoptimization", 30)).isLessThan(0.01);
    }

    private static double medianGap(String name, int trials) {
        TestFunctions branin = TestFunctions.BRANIN;
        double[] gaps = new double[SEEDS];
        for (int seed = 0; seed < SEEDS; seed++) {
            SearchAlgorithm algorithm = SearchAlgorithms.create(name, Map.of("random_state", Integer.toString(seed)), branin.space());
            gaps[seed] = Runs.best(Runs.run(algorithm, branin.space(), trials, branin::evaluate)) - branin.optimum();
        }
        java.util.Arrays.sort(gaps);
        return gaps[SEEDS / 2];
    }
}
