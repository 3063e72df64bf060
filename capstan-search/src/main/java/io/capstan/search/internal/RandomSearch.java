package io.capstan.search.internal;

import io.capstan.search.SearchAlgorithm;
import io.capstan.search.SearchSpace;
import io.capstan.search.Suggestion;
import io.capstan.search.Trial;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/** Katib's {@code random}: independent draws, uniform on the unit cube (or centred for normal distributions). */
public final class RandomSearch implements SearchAlgorithm {
    private static final int DRAWS_PER_NEW_POINT = 200;

    private final long seed;

    public RandomSearch(long seed) {
        this.seed = seed;
    }

    @Override
    public List<Suggestion> suggest(SearchSpace searchSpace, List<Trial> history, int count) {
        UnitSpace space = UnitSpace.of(searchSpace);
        SplittableRandom random = Seeds.forCall(seed, history.size());
        Set<Map<String, String>> seen = new HashSet<>();
        for (Trial t : history) seen.add(space.key(t.assignment()));
        List<Suggestion> suggestions = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            var fresh = freshPoint(space, random, seen);
            if (fresh == null) break;
            seen.add(fresh);
            suggestions.add(Suggestion.of(fresh));
        }
        return suggestions;
    }

    /** A new assignment not in {@code seen}, or null when repeated draws find none (a small space used up). */
    static Map<String, String> freshPoint(UnitSpace space, SplittableRandom random, Set<Map<String, String>> seen) {
        for (int attempt = 0; attempt < DRAWS_PER_NEW_POINT; attempt++) {
            Map<String, String> assignment = space.assignment(draw(space, random));
            if (!seen.contains(assignment)) return assignment;
        }
        return null;
    }

    static double[] draw(UnitSpace space, SplittableRandom random) {
        double[] u = new double[space.size()];
        for (int d = 0; d < u.length; d++) {
            u[d] = space.dimension(d) instanceof Dimension.Continuous c && c.normal() ? centred(random) : random.nextDouble();
        }
        return u;
    }

    /** A normal draw around the middle with six standard deviations across the range, truncated to it. */
    private static double centred(SplittableRandom random) {
        for (;;) {
            double u = 0.5 + Seeds.gaussian(random) / 6.0;
            if (u >= 0 && u <= 1) return u;
        }
    }
}
