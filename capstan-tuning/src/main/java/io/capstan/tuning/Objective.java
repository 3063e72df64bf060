package io.capstan.tuning;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;

/**
 * What an experiment optimises: {@code spec.objective}.
 *
 * @param strategies how each metric's observations fold into one value; every metric has one
 */
record Objective(ObjectiveType type, OptionalDouble goal, String metricName, List<String> additionalMetricNames,
                 Map<String, MetricStrategy> strategies) {
    Objective {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(goal, "goal");
        Objects.requireNonNull(metricName, "metricName");
        additionalMetricNames = List.copyOf(additionalMetricNames);
        strategies = Map.copyOf(strategies);
    }

    /** The objective metric first, then the additional ones. */
    List<String> allMetricNames() {
        var all = new java.util.ArrayList<String>();
        all.add(metricName);
        all.addAll(additionalMetricNames);
        return all;
    }

    MetricStrategy strategyOf(String metric) {
        return strategies.getOrDefault(metric, type == ObjectiveType.MINIMIZE ? MetricStrategy.MIN : MetricStrategy.MAX);
    }

    /** The value oriented so that lower is better, as the search algorithms want it. */
    double loss(double value) {
        return type == ObjectiveType.MINIMIZE ? value : -value;
    }

    boolean isBetter(double candidate, double incumbent) {
        return type == ObjectiveType.MINIMIZE ? candidate < incumbent : candidate > incumbent;
    }

    boolean reachesGoal(double value) {
        if (goal.isEmpty()) return false;
        return type == ObjectiveType.MINIMIZE ? value <= goal.getAsDouble() : value >= goal.getAsDouble();
    }

    enum ObjectiveType {
        MINIMIZE("minimize"), MAXIMIZE("maximize");

        final String wire;

        ObjectiveType(String wire) {
            this.wire = wire;
        }
    }

    /** Katib's metric strategies: which observation of a metric stands for the trial. */
    enum MetricStrategy {
        MIN("min"), MAX("max"), LATEST("latest");

        final String wire;

        MetricStrategy(String wire) {
            this.wire = wire;
        }

        static java.util.Optional<MetricStrategy> ofWire(String text) {
            for (var s : values()) if (s.wire.equals(text)) return java.util.Optional.of(s);
            return java.util.Optional.empty();
        }
    }
}
