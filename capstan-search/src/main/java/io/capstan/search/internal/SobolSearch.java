package io.capstan.search.internal;

import io.capstan.search.SearchAlgorithm;
import io.capstan.search.SearchSpace;
import io.capstan.search.Suggestion;
import io.capstan.search.Trial;
import org.apache.commons.math3.random.SobolSequenceGenerator;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Katib's {@code sobol}: the Sobol sequence (Joe-Kuo direction numbers) without its all-zero first point; the
 * {@code n}th trial of an experiment gets point {@code n + 1}, so the history size says where the sequence is.
 * With a {@code random_state}, the whole sequence is shifted by a random vector modulo 1 (Cranley-Patterson
 * rotation), which keeps it evenly spread.
 */
public final class SobolSearch implements SearchAlgorithm {
    private static final int MAX_SKIPPED_DUPLICATES = 1000;

    private final OptionalLong seed;

    public SobolSearch(OptionalLong seed) {
        this.seed = seed;
    }

    @Override
    public List<Suggestion> suggest(SearchSpace searchSpace, List<Trial> history, int count) {
        UnitSpace space = UnitSpace.of(searchSpace);
        Set<Map<String, String>> seen = new HashSet<>();
        for (Trial t : history) seen.add(space.key(t.assignment()));
        List<Suggestion> suggestions = new ArrayList<>();
        double[] shift = new double[space.size()];
        if (seed.isPresent()) {
            var random = Seeds.forCall(seed.getAsLong(), -1);
            for (int d = 0; d < shift.length; d++) shift[d] = random.nextDouble();
        }
        for (double[] u : points(space.size(), history.size() + 1, count + MAX_SKIPPED_DUPLICATES)) {
            if (suggestions.size() == count) break;
            for (int d = 0; d < u.length; d++) u[d] = (u[d] + shift[d]) % 1.0;
            Map<String, String> assignment = space.assignment(u);
            if (seen.add(assignment)) suggestions.add(Suggestion.of(assignment));
        }
        return suggestions;
    }

    /** {@code count} points of the {@code dimensions}-dimensional sequence from index {@code first}. */
    public static List<double[]> points(int dimensions, int first, int count) {
        SobolSequenceGenerator generator = new SobolSequenceGenerator(dimensions);
        generator.skipTo(first);
        List<double[]> points = new ArrayList<>(count);
        for (int i = 0; i < count; i++) points.add(generator.nextVector());
        return points;
    }
}
