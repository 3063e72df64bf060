package io.capstan.monitoring.drift;

import java.util.OptionalDouble;

/**
 * One test's outcome: the statistic or distance, its p-value where the test has one, and the threshold it was
 * judged against. A test with a p-value drifts when p &lt; threshold; a distance drifts when it is ≥ threshold.
 */
public record Statistic(DriftTest test, double statistic, OptionalDouble pValue, double threshold) {
    public Statistic {
        java.util.Objects.requireNonNull(test, "test");
        java.util.Objects.requireNonNull(pValue, "pValue");
    }

    public boolean drifted() {
        return pValue.isPresent() ? pValue.getAsDouble() < threshold : statistic >= threshold;
    }
}
