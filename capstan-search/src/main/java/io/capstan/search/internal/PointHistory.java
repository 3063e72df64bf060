package io.capstan.search.internal;

import io.capstan.search.Intermediate;
import io.capstan.search.Trial;
import io.capstan.search.TrialState;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;

/**
 * A history read as points of a {@link UnitSpace}: finished points with their loss, points still running, and
 * every assignment already tried (so none is suggested twice).
 */
public record PointHistory(List<double[]> points, double[] losses, List<double[]> pending, Set<Map<String, String>> seen) {

    public static PointHistory of(UnitSpace space, List<Trial> history) {
        List<double[]> points = new ArrayList<>();
        List<Double> losses = new ArrayList<>();
        List<double[]> pending = new ArrayList<>();
        Set<Map<String, String>> seen = new HashSet<>();
        for (Trial trial : history) {
            seen.add(space.key(trial.assignment()));
            var point = space.point(trial.assignment());
            if (point.isEmpty()) continue;
            if (trial.state() == TrialState.RUNNING) {
                pending.add(point.get());
                continue;
            }
            OptionalDouble loss = loss(trial);
            if (loss.isPresent()) {
                points.add(point.get());
                losses.add(loss.getAsDouble());
            }
        }
        return new PointHistory(List.copyOf(points), losses.stream().mapToDouble(Double::doubleValue).toArray(),
                List.copyOf(pending), Set.copyOf(seen));
    }

    /** The final loss of a finished trial; an early-stopped trial without one counts with its last reported value. */
    public static OptionalDouble loss(Trial trial) {
        if (trial.state() == TrialState.RUNNING || trial.state() == TrialState.FAILED) return OptionalDouble.empty();
        OptionalDouble loss = trial.loss();
        if (loss.isEmpty() && trial.state() == TrialState.EARLY_STOPPED && !trial.intermediates().isEmpty()) {
            List<Intermediate> values = trial.intermediates();
            loss = OptionalDouble.of(values.get(values.size() - 1).loss());
        }
        return loss.isPresent() && Double.isFinite(loss.getAsDouble()) ? loss : OptionalDouble.empty();
    }

    /** The finished trials from the {@code first}th on (same pending points and seen assignments). */
    public PointHistory since(int first) {
        if (first == 0) return this;
        return new PointHistory(points.subList(first, points.size()), Arrays.copyOfRange(losses, first, losses.length),
                pending, seen);
    }

    public int size() {
        return points.size();
    }

    public int bestIndex() {
        int best = -1;
        for (int i = 0; i < losses.length; i++) if (best < 0 || losses[i] < losses[best]) best = i;
        return best;
    }
}
