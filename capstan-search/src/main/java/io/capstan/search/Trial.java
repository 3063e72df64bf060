package io.capstan.search;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;

/**
 * A trial as algorithms see it.
 *
 * @param name          the trial's name, unique in its experiment
 * @param assignment    parameter name to value, written as Katib writes them ("0.01", "3", "adam")
 * @param state         what became of it
 * @param loss          the final objective, oriented so that lower is better (the caller negates maximised
 *                      objectives); empty while running or when it failed
 * @param intermediates intermediate objective values, also lower-is-better, oldest first
 * @param labels        what the algorithm attached when it suggested the trial (for example a hyperband bracket
 *                      or a PBT parent), handed back unchanged
 */
public record Trial(String name, Map<String, String> assignment, TrialState state, OptionalDouble loss,
                    List<Intermediate> intermediates, Map<String, String> labels) {
    public Trial {
        Objects.requireNonNull(name, "name");
        assignment = Map.copyOf(assignment);
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(loss, "loss");
        intermediates = List.copyOf(intermediates);
        labels = Map.copyOf(labels);
    }

    public static Trial succeeded(String name, Map<String, String> assignment, double loss) {
        return new Trial(name, assignment, TrialState.SUCCEEDED, OptionalDouble.of(loss), List.of(), Map.of());
    }
}
