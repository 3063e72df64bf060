package io.capstan.components;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class ClassificationScoresTest {
    @Test
    void aucCountsTiesAsHalf() {
        // sklearn.metrics.roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
        assertThat(ClassificationScores.auc(new double[]{0.1, 0.4, 0.35, 0.8}, new Boolean[]{false, false, true, true}))
                .isCloseTo(0.75, within(1e-12));
        assertThat(ClassificationScores.auc(new double[]{0.5, 0.5}, new Boolean[]{false, true})).isCloseTo(0.5, within(1e-12));
    }

    @Test
    void binaryScores() {
        var probabilities = new double[][]{{0.9, 0.1}, {0.6, 0.4}, {0.3, 0.7}, {0.2, 0.8}};
        var scores = ClassificationScores.of(List.of("no", "yes"), probabilities, new int[]{0, 1, 1, 1});
        assertThat(scores.accuracy()).isEqualTo(0.75);
        assertThat(scores.auc()).isCloseTo(1.0, within(1e-12));
        // -(ln 0.9 + ln 0.4 + ln 0.7 + ln 0.8) / 4
        assertThat(scores.logLoss()).isCloseTo(0.40037, within(1e-5));
        assertThat(scores.confusion()).isDeepEqualTo(new int[][]{{1, 0}, {1, 2}});
    }

    @Test
    void aucLeavesOutClassesWithoutBothSides() {
        var scores = ClassificationScores.of(List.of("a", "b", "c"), new double[][]{{1, 0, 0}, {1, 0, 0}}, new int[]{0, 0});
        assertThat(scores.auc()).isNaN();
        assertThat(scores.metricsMetadata()).containsOnlyKeys("accuracy", "log_loss");
    }
}
