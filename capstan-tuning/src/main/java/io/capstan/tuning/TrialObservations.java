package io.capstan.tuning;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/** A trial's observations as stored in its status, and Katib's per-metric summary of them (min, max, latest). */
final class TrialObservations {
    /** Most observations kept per trial; beyond it the oldest are dropped, the summary still sees the kept ones. */
    static final int MAX_KEPT = 10_000;

    private TrialObservations() {
    }

    static ArrayNode toJson(List<Observation> observations) {
        var arr = JsonNodeFactory.instance.arrayNode();
        int from = Math.max(0, observations.size() - MAX_KEPT);
        for (var o : observations.subList(from, observations.size())) {
            arr.addObject().put("metric", o.metric()).put("value", o.value()).put("step", o.step()).put("timestamp", o.timestamp().toString());
        }
        return arr;
    }

    static List<Observation> fromJson(JsonNode node) {
        var out = new ArrayList<Observation>();
        if (node == null || !node.isArray()) return out;
        for (var n : node) {
            Instant at;
            try {
                at = Instant.parse(n.path("timestamp").asText());
            } catch (DateTimeParseException e) {
                at = Instant.EPOCH;
            }
            out.add(new Observation(n.path("metric").asText(), n.path("value").asDouble(), n.path("step").asLong(), at));
        }
        return out;
    }

    /** Min, max and latest of one metric. */
    record Summary(double min, double max, double latest) {
        double by(Objective.MetricStrategy strategy) {
            return switch (strategy) {
                case MIN -> min;
                case MAX -> max;
                case LATEST -> latest;
            };
        }
    }

    static Map<String, Summary> summarize(List<Observation> observations) {
        var out = new LinkedHashMap<String, Summary>();
        for (var o : observations) {
            out.merge(o.metric(), new Summary(o.value(), o.value(), o.value()),
                    (a, b) -> new Summary(Math.min(a.min(), b.min()), Math.max(a.max(), b.max()), b.latest()));
        }
        return out;
    }

    /** The objective value of a trial under the experiment's strategy for the objective metric. */
    static OptionalDouble objectiveValue(List<Observation> observations, Objective objective) {
        var summary = summarize(observations).get(objective.metricName());
        return summary == null ? OptionalDouble.empty() : OptionalDouble.of(summary.by(objective.strategyOf(objective.metricName())));
    }

    /** Katib's {@code observation: {metrics: [{name, min, max, latest}]}}, the experiment's metrics in its order. */
    static ObjectNode katibObservation(List<Observation> observations, Objective objective) {
        var node = JsonNodeFactory.instance.objectNode();
        var metrics = node.putArray("metrics");
        var summaries = summarize(observations);
        for (var name : objective.allMetricNames()) {
            var s = summaries.get(name);
            if (s == null) continue;
            metrics.addObject().put("name", name).put("min", Double.toString(s.min())).put("max", Double.toString(s.max()))
                    .put("latest", Double.toString(s.latest()));
        }
        return node;
    }
}
