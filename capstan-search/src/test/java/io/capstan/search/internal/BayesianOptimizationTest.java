package io.capstan.search.internal;

import io.capstan.search.Parameter;
import io.capstan.search.SearchAlgorithms;
import io.capstan.search.SearchSpace;
import io.capstan.search.Suggestion;
import io.capstan.search.Trial;
import io.capstan.search.TrialState;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

import static org.assertj.core.api.Assertions.assertThat;

class BayesianOptimizationTest {
    private static final SearchSpace SQUARE = new SearchSpace(List.of(Parameter.ofDouble("x", 0, 1), Parameter.ofDouble("y", 0, 1)));

    @Test
    void aPhaseThatKeepsImprovingGoesOn() {
        double[] losses = new double[60];
        for (int t = 0; t < losses.length; t++) losses[t] = -0.02 * t;

        assertThat(BayesianOptimization.phaseStart(losses, 0.01, 10, 40)).isZero();
    }

    @Test
    void aStalledPhaseEndsAfterThePatienceOnceItIsLongEnough() {
        double[] losses = new double[100];
        for (int t = 0; t < 20; t++) losses[t] = -0.1 * t; // last real gain at trial 19
        Arrays.fill(losses, 20, 100, -1.9);
        for (int t = 20; t < 100; t++) losses[t] -= 0.001 * (t - 19) / 100; // gains below the tolerance

        // Trial 29 is ten trials past the last gain, but the phase must run 40 trials: it ends after trial 39.
        assertThat(BayesianOptimization.phaseStart(Arrays.copyOf(losses, 35), 0.01, 10, 40)).isZero();
        assertThat(BayesianOptimization.phaseStart(Arrays.copyOf(losses, 40), 0.01, 10, 40)).isEqualTo(40);
        // The second phase starts its own count: still flat, it ends after another 40 trials.
        assertThat(BayesianOptimization.phaseStart(Arrays.copyOf(losses, 79), 0.01, 10, 40)).isEqualTo(40);
        assertThat(BayesianOptimization.phaseStart(losses, 0.01, 10, 40)).isEqualTo(80);
    }

    @Test
    void smallGainsAddUpToProgress() {
        double[] losses = new double[50];
        for (int t = 0; t < losses.length; t++) losses[t] = -0.004 * t; // each gain under 0.01, every third step adds up

        assertThat(BayesianOptimization.phaseStart(losses, 0.01, 10, 10)).isZero();
    }

    @Test
    void aStalledSearchStartsAFreshDesignAndThenModelsAgain() {
        var algorithm = SearchAlgorithms.create("bayesianoptimization", Map.of("random_state", "4", "n_initial_points", "5"), SQUARE);
        List<Trial> history = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            Suggestion s = algorithm.suggest(SQUARE, history, 1).get(0);
            history.add(new Trial("t" + i, s.assignment(), TrialState.SUCCEEDED, OptionalDouble.of(1.0), List.of(), s.labels()));
        }

        // A flat objective never improves: the first phase runs 4 * 5 = 20 trials, the second opens with 5 design points.
        assertThat(history.subList(0, 5)).allMatch(t -> t.labels().isEmpty());
        assertThat(history.subList(5, 20)).allMatch(t -> t.labels().containsKey(BayesianOptimization.NOMINEES));
        assertThat(history.subList(20, 25)).allMatch(t -> t.labels().isEmpty());
        assertThat(history.subList(25, 30)).allMatch(t -> t.labels().containsKey(BayesianOptimization.NOMINEES));
        assertThat(history.stream().map(Trial::assignment).distinct()).hasSize(30);
    }
}
