package io.capstan.search.internal;

import io.capstan.core.InvalidSpecException;
import io.capstan.search.SearchAlgorithm;
import io.capstan.search.SearchSpace;
import io.capstan.search.Suggestion;
import io.capstan.search.Trial;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Katib's {@code grid}: every combination of listed values (steps for numbers), the last parameter varying fastest,
 * each suggested once; an empty answer means the grid is done.
 */
public final class GridSearch implements SearchAlgorithm {

    /** @throws InvalidSpecException naming the step of a continuous parameter that has none */
    public static void check(UnitSpace space) {
        for (int i = 0; i < space.size(); i++) {
            if (space.dimension(i).levels().isEmpty()) {
                throw InvalidSpecException.of("spec.parameters[" + i + "].feasibleSpace.step",
                        "grid search needs a finite set of values, but parameter '%s' has none; give it a step"
                                .formatted(space.dimension(i).name()));
            }
        }
    }

    @Override
    public List<Suggestion> suggest(SearchSpace searchSpace, List<Trial> history, int count) {
        UnitSpace space = UnitSpace.of(searchSpace);
        check(space);
        Set<Map<String, String>> seen = new HashSet<>();
        for (Trial t : history) seen.add(space.key(t.assignment()));
        int[] sizes = space.dimensions().stream().mapToInt(d -> d.levels().orElseThrow()).toArray();
        int[] index = new int[sizes.length];
        List<Suggestion> suggestions = new ArrayList<>();
        while (suggestions.size() < count) {
            double[] u = new double[sizes.length];
            for (int d = 0; d < u.length; d++) u[d] = (index[d] + 0.5) / sizes[d];
            Map<String, String> assignment = space.assignment(u);
            if (seen.add(assignment)) suggestions.add(Suggestion.of(assignment));
            if (!increment(index, sizes)) break;
        }
        return suggestions;
    }

    private static boolean increment(int[] index, int[] sizes) {
        for (int d = index.length - 1; d >= 0; d--) {
            if (++index[d] < sizes[d]) return true;
            index[d] = 0;
        }
        return false;
    }
}
