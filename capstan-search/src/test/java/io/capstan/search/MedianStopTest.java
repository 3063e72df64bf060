package io.capstan.search;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

import static org.assertj.core.api.Assertions.assertThat;

class MedianStopTest {
    private final EarlyStoppingRule rule = SearchAlgorithms.earlyStopping("medianstop", Map.of("min_trials_required", "3", "start_step", "2"));
    /** Three finished trials whose running averages at step 2 are 1.5, 2.5 and 3.5: median 2.5. */
    private final List<Trial> finished = List.of(done("a", 2, 1), done("b", 3, 2), done("c", 4, 3));

    @Test
    void stopsATrialWhoseBestIsWorseThanTheMedian() {
        assertThat(rule.shouldStop(running("slow", 3.0, 2.8), finished)).isTrue();
    }

    @Test
    void keepsATrialThatIsAsGoodAsTheMedian() {
        assertThat(rule.shouldStop(running("fine", 3.0, 2.4), finished)).isFalse();
    }

    @Test
    void waitsForStartStepAndMinimumTrials() {
        assertThat(rule.shouldStop(running("young", 9.0), finished)).isFalse();
        assertThat(rule.shouldStop(running("slow", 9.0, 9.0), finished.subList(0, 2))).isFalse();
    }

    private static Trial done(String name, double first, double second) {
        return new Trial(name, Map.of(), TrialState.SUCCEEDED, OptionalDouble.of(second),
                List.of(new Intermediate(1, first), new Intermediate(2, second), new Intermediate(3, second - 0.5)), Map.of());
    }

    private static Trial running(String name, double... losses) {
        List<Intermediate> values = new ArrayList<>();
        for (int i = 0; i < losses.length; i++) values.add(new Intermediate(i + 1, losses[i]));
        return new Trial(name, Map.of(), TrialState.RUNNING, OptionalDouble.empty(), values, Map.of());
    }
}
