package io.capstan.tuning;

import java.time.Instant;
import java.util.Objects;

/** One reported value of one metric: the trial said {@code metric=value} at {@code timestamp}, at {@code step}. */
record Observation(String metric, double value, long step, Instant timestamp) {
    Observation {
        Objects.requireNonNull(metric, "metric");
        Objects.requireNonNull(timestamp, "timestamp");
    }
}
