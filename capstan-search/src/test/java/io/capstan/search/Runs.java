package io.capstan.search;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.function.ToDoubleFunction;

/** Drives an algorithm through sequential trials, as an experiment with one trial at a time would. */
final class Runs {
    private Runs() {
    }

    static List<Trial> run(SearchAlgorithm algorithm, SearchSpace space, int trials, ToDoubleFunction<Map<String, String>> loss) {
        List<Trial> history = new ArrayList<>();
        for (int i = 0; i < trials; i++) {
            List<Suggestion> next = algorithm.suggest(space, history, 1);
            if (next.isEmpty()) break;
            Suggestion s = next.get(0);
            history.add(new Trial("t" + i, s.assignment(), TrialState.SUCCEEDED, OptionalDouble.of(loss.applyAsDouble(s.assignment())),
                    List.of(), s.labels()));
        }
        return history;
    }

    static Trial running(String name, Map<String, String> assignment) {
        return new Trial(name, assignment, TrialState.RUNNING, OptionalDouble.empty(), List.of(), Map.of());
    }

    static double best(List<Trial> history) {
        return history.stream().mapToDouble(t -> t.loss().orElseThrow()).min().orElseThrow();
    }
}
