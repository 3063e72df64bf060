package io.capstan.monitoring.slo;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import java.time.Duration;
import java.util.Locale;

/**
 * The Prometheus recording and alerting rules equivalent to what Capstan computes for a ServiceLevelObjective, laid
 * out as Sloth lays them out: one group of SLI error-ratio recordings per window, one of meta recordings (objective,
 * budget, burn rates, budget remaining), and one with the page and ticket alerts of the workbook's four window pairs.
 * Availability and latency read serving's own metrics, drift rate the monitor's {@code capstan_drift_windows_total};
 * pipeline and training SLIs read {@code capstan_slo_events_total},
 * which Capstan exports for them.
 */
public final class PrometheusRules {
    private static final YAMLMapper YAML = YAMLMapper.builder().disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES).enable(YAMLGenerator.Feature.LITERAL_BLOCK_STYLE).build();

    private PrometheusRules() {
    }

    /** The rules file (YAML) for the objective {@code name} in {@code namespace}. */
    public static String render(String namespace, String name, ServiceLevelObjectiveSpec spec) {
        var id = namespace + "-" + name;
        var selector = "capstan_slo=\"" + name + "\",capstan_namespace=\"" + namespace + "\"";
        var groups = JsonNodeFactory.instance.arrayNode();
        var recordings = group(groups, "capstan-slo-sli-recordings-" + id);
        for (var w : BurnRateAlert.WINDOWS) {
            record(recordings, "slo:sli_error:ratio_rate" + BurnRateAlert.promDuration(w), errorRatio(namespace, name, spec, BurnRateAlert.promDuration(w)),
                    namespace, name, BurnRateAlert.promDuration(w));
        }
        var period = BurnRateAlert.promDuration(spec.period());
        record(recordings, "slo:sli_error:ratio_rate" + period,
                "sum_over_time(slo:sli_error:ratio_rate5m{" + selector + "}[" + period + "])\n/ ignoring (capstan_window)\ncount_over_time(slo:sli_error:ratio_rate5m{"
                        + selector + "}[" + period + "])\n", namespace, name, period);
        var meta = group(groups, "capstan-slo-meta-recordings-" + id);
        record(meta, "slo:objective:ratio", "vector(" + number(spec.objective()) + ")", namespace, name, null);
        record(meta, "slo:error_budget:ratio", "vector(1 - " + number(spec.objective()) + ")", namespace, name, null);
        record(meta, "slo:time_period:days", "vector(" + number(spec.period().toSeconds() / 86400.0) + ")", namespace, name, null);
        record(meta, "slo:current_burn_rate:ratio", "slo:sli_error:ratio_rate5m{" + selector + "}\n/ on (capstan_slo, capstan_namespace) group_left\nslo:error_budget:ratio{"
                + selector + "}\n", namespace, name, null);
        record(meta, "slo:period_burn_rate:ratio", "slo:sli_error:ratio_rate" + period + "{" + selector
                + "}\n/ on (capstan_slo, capstan_namespace) group_left\nslo:error_budget:ratio{" + selector + "}\n", namespace, name, null);
        record(meta, "slo:period_error_budget_remaining:ratio", "1 - slo:period_burn_rate:ratio{" + selector + "}", namespace, name, null);
        var alerts = group(groups, "capstan-slo-alerts-" + id);
        var camel = camel(name);
        for (var severity : BurnRateAlert.Severity.values()) {
            var expr = new StringBuilder();
            for (var a : BurnRateAlert.WORKBOOK) {
                if (a.severity() != severity) continue;
                if (!expr.isEmpty()) expr.append("or\n");
                var limit = "(" + number(a.burnRate()) + " * " + number(spec.errorBudget()) + ")";
                expr.append("(\n  max(slo:sli_error:ratio_rate").append(BurnRateAlert.promDuration(a.shortWindow())).append('{').append(selector)
                        .append("} > ").append(limit).append(") without (capstan_window)\n  and\n  max(slo:sli_error:ratio_rate")
                        .append(BurnRateAlert.promDuration(a.longWindow())).append('{').append(selector).append("} > ").append(limit)
                        .append(") without (capstan_window)\n)\n");
            }
            var rule = JsonNodeFactory.instance.objectNode();
            rule.put("alert", camel + (severity == BurnRateAlert.Severity.PAGE ? "HighErrorBudgetBurn" : "ErrorBudgetBurn"));
            rule.put("expr", expr.toString());
            rule.putObject("labels").put("severity", severity.wireName()).put("capstan_slo", name).put("capstan_namespace", namespace);
            rule.putObject("annotations").put("summary", "SLO " + namespace + "/" + name + " is burning its error budget too fast ("
                    + severity.wireName() + ")");
            ((ArrayNode) alerts.get("rules")).add(rule);
        }
        var root = JsonNodeFactory.instance.objectNode();
        root.set("groups", groups);
        try {
            return YAML.writeValueAsString(root);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot write rules YAML", e);
        }
    }

    /** The SLI's error ratio over {@code window} in PromQL. */
    static String errorRatio(String namespace, String name, ServiceLevelObjectiveSpec spec, String window) {
        return switch (spec.sli()) {
            case ServiceLevelObjectiveSpec.Availability a -> {
                var series = "capstan_serving_requests_total{namespace=\"" + namespace + "\",model=\"" + a.inferenceService() + "\"";
                yield "(sum(rate(" + series + ",outcome=~\"model_failed|not_ready\"}[" + window + "])) or vector(0))\n/\nsum(rate(" + series + "}[" + window + "]))\n";
            }
            case ServiceLevelObjectiveSpec.Latency l -> {
                var labels = "namespace=\"" + namespace + "\",model=\"" + l.inferenceService() + "\"";
                var count = "sum(rate(capstan_serving_request_duration_seconds_count{" + labels + "}[" + window + "]))";
                yield "(" + count + "\n- sum(rate(capstan_serving_request_duration_seconds_bucket{" + labels + ",le=\"" + le(l.threshold()) + "\"}["
                        + window + "])))\n/\n" + count + "\n";
            }
            case ServiceLevelObjectiveSpec.DriftRate d -> {
                var series = "capstan_drift_windows_total{namespace=\"" + namespace + "\",monitor=\"" + d.monitor() + "\"";
                yield "(sum(rate(" + series + ",outcome=\"drifted\"}[" + window + "])) or vector(0))\n/\nsum(rate(" + series + "}[" + window + "]))\n";
            }
            case ServiceLevelObjectiveSpec.ArtifactIntegrity i -> "(sum(rate(capstan_artifact_integrity_checks_total{outcome=\"failed\"}[" + window
                    + "])) or vector(0))\n/\nsum(rate(capstan_artifact_integrity_checks_total[" + window + "]))\n";
            case ServiceLevelObjectiveSpec.PipelineRuns p -> events(namespace, name, window);
            case ServiceLevelObjectiveSpec.TrainingJobs t -> events(namespace, name, window);
        };
    }

    private static String events(String namespace, String name, String window) {
        var series = "capstan_slo_events_total{namespace=\"" + namespace + "\",slo=\"" + name + "\"";
        return "(sum(rate(" + series + ",outcome=\"bad\"}[" + window + "])) or vector(0))\n/\nsum(rate(" + series + "}[" + window + "]))\n";
    }

    /**
     * The {@code le} label of serving's latency histogram bucket that the threshold is read at: the largest bucket
     * boundary not above it, among the buckets Micrometer publishes for serving's timer (1 ms to 30 s).
     */
    public static String le(Duration threshold) {
        var config = DistributionStatisticConfig.builder().percentilesHistogram(true).minimumExpectedValue((double) Duration.ofMillis(1).toNanos())
                .maximumExpectedValue((double) Duration.ofSeconds(30).toNanos()).build().merge(DistributionStatisticConfig.DEFAULT);
        double chosen = Double.NaN;
        for (double b : config.getHistogramBuckets(true)) if (b <= threshold.toNanos()) chosen = b;
        if (Double.isNaN(chosen)) return "0.0";
        return Double.toString(chosen / 1e9);
    }

    private static ObjectNode group(ArrayNode groups, String name) {
        var g = groups.addObject();
        g.put("name", name);
        g.putArray("rules");
        return g;
    }

    private static void record(ObjectNode group, String record, String expr, String namespace, String name, String window) {
        var rule = ((ArrayNode) group.get("rules")).addObject();
        rule.put("record", record);
        rule.put("expr", expr);
        var labels = rule.putObject("labels").put("capstan_slo", name).put("capstan_namespace", namespace);
        if (window != null) labels.put("capstan_window", window);
    }

    private static String number(double v) {
        var s = String.format(Locale.ROOT, "%.12f", v).replaceAll("0+$", "");
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }

    private static String camel(String name) {
        var out = new StringBuilder("Capstan");
        boolean up = true;
        for (char c : name.toCharArray()) {
            if (!Character.isLetterOrDigit(c)) {
                up = true;
                continue;
            }
            out.append(up ? Character.toUpperCase(c) : c);
            up = false;
        }
        return out.toString();
    }
}
