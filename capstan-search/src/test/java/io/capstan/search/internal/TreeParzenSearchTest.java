package io.capstan.search.internal;

import io.capstan.search.Parameter;
import io.capstan.search.SearchAlgorithms;
import io.capstan.search.SearchSpace;
import io.capstan.search.Suggestion;
import io.capstan.search.Trial;
import io.capstan.search.TrialState;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class TreeParzenSearchTest {
    private static final SearchSpace LINE = new SearchSpace(List.of(Parameter.ofDouble("x", 0, 1)));

    @Test
    void univariateStartupTrialsAreAShiftedSobolSequence() {
        var algorithm = SearchAlgorithms.create("tpe", Map.of("random_state", "11"), LINE);
        List<Trial> history = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            Suggestion s = algorithm.suggest(LINE, history, 1).get(0);
            history.add(new Trial("t" + i, s.assignment(), TrialState.SUCCEEDED, OptionalDouble.of(1.0), List.of(), s.labels()));
        }

        // Points 1 to 7 of the sequence are 4/8, 6/8, 2/8, 3/8, 7/8, 5/8, 1/8: shifted modulo 1 they still fall in
        // seven different eighths (independent draws would do so about once in fifty runs).
        assertThat(history.stream().map(t -> (int) (8 * Double.parseDouble(t.assignment().get("x")))).distinct()).hasSize(7);
    }

    @Test
    void univariateKernelsAreNarrowerThanTheNeighbourGapDownToAFractionOfOptunasClip() {
        UnitSpace space = UnitSpace.of(LINE);
        double[][] points = {{0.2}, {0.3}, {0.6}, {0.9}};
        ParzenEstimator estimator = new ParzenEstimator(space, points, new double[] {1, 1, 1, 1}, 1.0, false);

        // Sorted centres with the prior's 0.5: 0.2, 0.3, 0.5, 0.6, 0.9; Optuna's width at 0.6 is max(0.1, 0.3).
        assertThat(estimator.width(0, 2)).isCloseTo(ParzenEstimator.NEIGHBOUR_BANDWIDTH_FACTOR * 0.3, within(1e-12));
        // At 0.3 the gaps are 0.1 and 0.2: 0.6 * 0.2 = 0.12, above the clip 0.4 / 6.
        assertThat(estimator.width(0, 1)).isCloseTo(ParzenEstimator.NEIGHBOUR_BANDWIDTH_FACTOR * 0.2, within(1e-12));
        // The prior kernel spans the range.
        assertThat(estimator.width(0, 4)).isEqualTo(1.0);

        double[][] crowded = {{0.50}, {0.501}, {0.502}};
        ParzenEstimator tight = new ParzenEstimator(space, crowded, new double[] {1, 1, 1}, 1.0, false);
        assertThat(tight.width(0, 1)).isCloseTo(ParzenEstimator.MAGIC_CLIP_FACTOR / 5, within(1e-12));
    }

    @Test
    void multivariateKernelsKeepScottsRuleAndOptunasClip() {
        UnitSpace space = UnitSpace.of(new SearchSpace(List.of(Parameter.ofDouble("x", 0, 1), Parameter.ofDouble("y", 0, 1))));
        double[][] points = {{0.1, 0.1}, {0.2, 0.8}, {0.7, 0.4}};
        ParzenEstimator estimator = new ParzenEstimator(space, points, new double[] {1, 1, 1}, 1.0, true);

        double scott = 0.2 * Math.pow(3, -1.0 / 6);
        assertThat(estimator.width(0, 0)).isCloseTo(Math.max(scott, 1.0 / 5), within(1e-12));
    }
}
