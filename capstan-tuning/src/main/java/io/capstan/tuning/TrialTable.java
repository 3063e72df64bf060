package io.capstan.tuning;

import io.capstan.core.Resource;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.OptionalDouble;

/**
 * Text views of an experiment's trials for the CLI: the trial table of {@code capstan experiments get NAME}, and the
 * one-line reports of {@code capstan tune --watch}. Pure functions of the resources; thread-safe.
 *
 * <pre>
 * TRIAL       STATUS     accuracy  loss   lr     momentum
 * iris-3      Succeeded  0.973     0.081  0.021  0.62
 * iris-1      Succeeded  0.947     -      0.013  0.55
 * </pre>
 */
public final class TrialTable {
    /** How the rows are ordered. */
    public enum Order {
        /** Oldest trial first. */
        CREATED,
        /** Best objective first (lowest for minimize, highest for maximize); trials without a value last. */
        OBJECTIVE
    }

    private TrialTable() {
    }

    /**
     * The table: one row per trial with its phase, each metric of the experiment (folded by its metric strategy)
     * and each parameter.
     *
     * @throws io.capstan.core.InvalidSpecException if the experiment's spec is not a valid Experiment
     */
    public static String render(Resource experiment, List<Resource> trials, Order order) {
        Objects.requireNonNull(order, "order");
        var spec = spec(experiment);
        var objective = spec.objective();
        var rows = new ArrayList<>(trials);
        if (order == Order.OBJECTIVE) {
            Comparator<Resource> byValue = Comparator.comparingDouble(t -> {
                var v = objectiveOf(t, objective);
                return v.isEmpty() ? Double.POSITIVE_INFINITY : objective.loss(v.getAsDouble());
            });
            rows.sort(byValue);
        }
        var header = new ArrayList<String>(List.of("TRIAL", "STATUS"));
        header.addAll(objective.allMetricNames());
        spec.space().parameters().forEach(p -> header.add(p.name()));
        var cells = new ArrayList<List<String>>();
        cells.add(header);
        for (var t : rows) {
            var row = new ArrayList<String>();
            row.add(t.metadata().name());
            row.add(t.status().phase().isEmpty() ? "Pending" : t.status().phase());
            var summaries = TrialObservations.summarize(TrialRunner.observationsOf(t));
            for (var m : objective.allMetricNames()) {
                var s = summaries.get(m);
                row.add(s == null ? "-" : number(s.by(objective.strategyOf(m))));
            }
            var assignment = TrialSpec.of(t.spec()).assignment();
            spec.space().parameters().forEach(p -> row.add(assignment.getOrDefault(p.name(), "-")));
            cells.add(row);
        }
        return align(cells);
    }

    /** One line for a trial that just finished: {@code iris-3 Succeeded accuracy=0.973 (lr=0.021, momentum=0.62)}. */
    public static String trialLine(Resource experiment, Resource trial) {
        var objective = spec(experiment).objective();
        var sb = new StringBuilder(trial.metadata().name()).append(' ').append(trial.status().phase().isEmpty() ? "Pending" : trial.status().phase());
        var value = objectiveOf(trial, objective);
        if (value.isPresent()) sb.append(' ').append(objective.metricName()).append('=').append(number(value.getAsDouble()));
        sb.append(" (").append(assignments(TrialSpec.of(trial.spec()).assignment())).append(')');
        trial.status().field("message").filter(m -> !TrialPhase.ofStatus(trial.status().phase()).equals(TrialPhase.Succeeded))
                .ifPresent(m -> sb.append(": ").append(m.asText()));
        return sb.toString();
    }

    /**
     * The best trial so far from the experiment's status, as {@code best: iris-3 accuracy=0.973 (lr=0.021, momentum=0.62)},
     * or {@code best: none yet}.
     */
    public static String bestSoFar(Resource experiment) {
        var objective = spec(experiment).objective();
        var optimal = experiment.status().field("currentOptimalTrial");
        if (optimal.isEmpty() || !optimal.get().hasNonNull("bestTrialName")) return "best: none yet";
        var o = optimal.get();
        var sb = new StringBuilder("best: ").append(o.path("bestTrialName").asText());
        for (var m : o.path("observation").path("metrics")) {
            if (!m.path("name").asText().equals(objective.metricName())) continue;
            var strategy = objective.strategyOf(objective.metricName()).wire;
            sb.append(' ').append(objective.metricName()).append('=').append(number(m.path(strategy).asDouble()));
        }
        var assignment = new java.util.LinkedHashMap<String, String>();
        o.path("parameterAssignments").forEach(p -> assignment.put(p.path("name").asText(), p.path("value").asText()));
        return sb.append(" (").append(assignments(assignment)).append(')').toString();
    }

    private static ExperimentSpec spec(Resource experiment) {
        return new ExperimentSpecReader(SearchCatalog.UNCHECKED).read(experiment.spec());
    }

    private static OptionalDouble objectiveOf(Resource trial, Objective objective) {
        return TrialObservations.objectiveValue(TrialRunner.observationsOf(trial), objective);
    }

    private static String assignments(java.util.Map<String, String> assignment) {
        var parts = new ArrayList<String>();
        assignment.forEach((k, v) -> parts.add(k + "=" + v));
        return String.join(", ", parts);
    }

    /** Six significant digits, without trailing zeros or exponent for everyday magnitudes. */
    static String number(double v) {
        if (!Double.isFinite(v)) return Double.toString(v);
        var d = new BigDecimal(v).round(new MathContext(6)).stripTrailingZeros();
        return Math.abs(v) >= 1e-4 && Math.abs(v) < 1e9 || v == 0 ? d.toPlainString() : d.toString();
    }

    private static String align(List<List<String>> rows) {
        int columns = rows.getFirst().size();
        var widths = new int[columns];
        for (var row : rows) for (int i = 0; i < columns; i++) widths[i] = Math.max(widths[i], row.get(i).length());
        var sb = new StringBuilder();
        for (var row : rows) {
            var line = new StringBuilder();
            for (int i = 0; i < columns; i++) {
                line.append(row.get(i));
                if (i < columns - 1) line.append(" ".repeat(widths[i] - row.get(i).length() + 2));
            }
            sb.append(line.toString().stripTrailing()).append('\n');
        }
        return sb.toString();
    }
}
