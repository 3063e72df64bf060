package io.capstan.search;

import java.util.Map;

/**
 * A new trial to run.
 *
 * @param assignment parameter name to value, as text
 * @param labels     state the algorithm needs back with the trial's result (see {@link Trial#labels})
 */
public record Suggestion(Map<String, String> assignment, Map<String, String> labels) {
    public Suggestion {
        assignment = Map.copyOf(assignment);
        labels = Map.copyOf(labels);
    }

    public static Suggestion of(Map<String, String> assignment) {
        return new Suggestion(assignment, Map.of());
    }
}
