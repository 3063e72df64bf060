package io.capstan.tuning;

import io.capstan.search.SearchSpace;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A Katib {@code Experiment} spec as Capstan runs it, read from the resource's spec tree by
 * {@link ExperimentSpecReader}; unknown fields stay in the stored resource.
 *
 * @param maxTrialCount       empty: no limit, the experiment runs until its goal or the end of the search
 * @param maxFailedTrialCount empty: no limit
 * @param trialTimeout        Capstan's own per-trial limit ({@code capstan.io/trial-timeout-seconds} is not a
 *                            Katib field, so it is read from the Job's {@code activeDeadlineSeconds})
 */
record ExperimentSpec(Objective objective, Algorithm algorithm, Optional<Algorithm> earlyStopping, SearchSpace space,
                      int parallelTrialCount, OptionalInt maxTrialCount, OptionalInt maxFailedTrialCount,
                      ResumePolicy resumePolicy, TrialTemplate trialTemplate, MetricsCollectorSpec collector,
                      Optional<Duration> trialTimeout) {
    ExperimentSpec {
        Objects.requireNonNull(objective, "objective");
        Objects.requireNonNull(algorithm, "algorithm");
        Objects.requireNonNull(earlyStopping, "earlyStopping");
        Objects.requireNonNull(space, "space");
        Objects.requireNonNull(maxTrialCount, "maxTrialCount");
        Objects.requireNonNull(maxFailedTrialCount, "maxFailedTrialCount");
        Objects.requireNonNull(resumePolicy, "resumePolicy");
        Objects.requireNonNull(trialTemplate, "trialTemplate");
        Objects.requireNonNull(collector, "collector");
        Objects.requireNonNull(trialTimeout, "trialTimeout");
    }

    record Algorithm(String name, Map<String, String> settings) {
        Algorithm {
            Objects.requireNonNull(name, "name");
            settings = Map.copyOf(settings);
        }
    }

    enum ResumePolicy {
        NEVER("Never"), LONG_RUNNING("LongRunning"), FROM_VOLUME("FromVolume");

        final String wire;

        ResumePolicy(String wire) {
            this.wire = wire;
        }

        static Optional<ResumePolicy> ofWire(String text) {
            for (var p : values()) if (p.wire.equals(text)) return Optional.of(p);
            return Optional.empty();
        }
    }
}
