package io.capstan.serving.internal;

import java.util.List;

/**
 * Where a model's traffic goes: ready revisions with their percentages (summing to 100), and an
 * optional shadow revision that gets a copy of {@code shadowPercent} of requests, its answers
 * logged, never returned.
 */
public record Route(List<Target> targets, Revision shadow, int shadowPercent, PayloadLogger logger) {

    public static final Route NONE = new Route(List.of(), null, 0, PayloadLogger.NONE);

    public Route {
        targets = List.copyOf(targets);
        logger = logger == null ? PayloadLogger.NONE : logger;
        int total = targets.stream().mapToInt(Target::percent).sum();
        if (!targets.isEmpty() && total != 100) throw new IllegalArgumentException("traffic percentages sum to " + total);
    }

    public static Route allTo(Revision revision, PayloadLogger logger) {
        return new Route(List.of(new Target(revision, 100)), null, 0, logger);
    }

    public record Target(Revision revision, int percent) {
    }
}
