package io.capstan.serving.internal;

import java.util.List;

/**
 * Where a model's traffic goes: ready revisions with their percentages (summing to 100), and an
 * optional shadow revision that gets a copy of {@code shadowPercent} of requests, its answers
 * logged, never returned. While a canary is analysed, its target and the stable revision's baseline target (the
 * same revision as the stable one, with the canary's share) carry a cohort, and {@code cohorts} records what each answered.
 */
public record Route(List<Target> targets, Revision shadow, int shadowPercent, PayloadLogger logger, CanaryCohorts cohorts) {

    public static final Route NONE = new Route(List.of(), null, 0, PayloadLogger.NONE);

    public Route(List<Target> targets, Revision shadow, int shadowPercent, PayloadLogger logger) {
        this(targets, shadow, shadowPercent, logger, null);
    }

    public Route {
        targets = List.copyOf(targets);
        logger = logger == null ? PayloadLogger.NONE : logger;
        int total = targets.stream().mapToInt(Target::percent).sum();
        if (!targets.isEmpty() && total != 100) throw new IllegalArgumentException("traffic percentages sum to " + total);
    }

    public static Route allTo(Revision revision, PayloadLogger logger) {
        return new Route(List.of(new Target(revision, 100)), null, 0, logger);
    }

    /** @param cohort the analysis cohort its requests count towards; null outside a canary analysis */
    public record Target(Revision revision, int percent, CanaryCohorts.Cohort cohort) {
        public Target(Revision revision, int percent) {
            this(revision, percent, null);
        }
    }
}
