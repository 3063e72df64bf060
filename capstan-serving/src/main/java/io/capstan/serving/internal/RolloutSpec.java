package io.capstan.serving.internal;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import io.capstan.core.Problems;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The {@value #ANNOTATION} annotation of an InferenceService: how a new revision is analysed against the stable one
 * and promoted or rolled back, step by step. Written as JSON, for example
 * {@code {"stepWeights":[5,10,25,50],"interval":"30s","minSamples":50,"failureLimit":2,"manualGate":false,
 * "checks":{"errorRate":{"max":0.01},"p99Latency":{"maxMs":1000},"latencyShift":{"maxMs":5,"alpha":0.01},
 * "predictions":{"alpha":0.001}}}}; without {@code checks}, all four run with these thresholds. Two more run when named:
 * {@code "inputDrift":{"alpha":0.001}} and {@code "agreement":{"min":0.95,"mirrorPercent":100}} (see {@link #optionalChecks}).
 *
 * <p>An annotation rather than a Rollout resource: the analysis belongs to the InferenceService whose revisions it
 * judges, so it is applied with it, under the same access rules, and its progress is kept in the same status as the
 * revisions and the traffic split; no new kind for the store, the CLI and the followers to learn, and nothing to keep
 * consistent between two resources when one is deleted.
 *
 * @param stepWeights the canary's share of traffic at each step, increasing, each at most 50: the stable revision's
 *                    baseline cohort takes as much again, so that the two are compared on equal traffic
 * @param minSamples requests each of canary and baseline must answer in a step before it is judged
 * @param failureLimit failed analyses of non-critical checks (over the whole rollout) that roll back
 * @param manualGate wait, after the last step passes, for {@value #APPROVE_ANNOTATION} naming the revision
 */
record RolloutSpec(List<Integer> stepWeights, Duration interval, int minSamples, int failureLimit, boolean manualGate,
                   List<Check> checks) {
    static final String ANNOTATION = "serving.capstan.io/rollout";
    static final String APPROVE_ANNOTATION = "serving.capstan.io/rollout-approve";
    private static final String NAMES = "errorRate, p99Latency, latencyShift, predictions, inputDrift, agreement";

    enum Kind { ERROR_RATE, P99_LATENCY, LATENCY_SHIFT, PREDICTIONS, INPUT_DRIFT, AGREEMENT }

    /**
     * One check. {@code threshold}: the highest error share (ERROR_RATE), p99 in ms (P99_LATENCY), the Hodges–Lehmann
     * shift in ms (LATENCY_SHIFT) or the lowest agreement share (AGREEMENT) that passes; unused by PREDICTIONS and
     * INPUT_DRIFT. {@code alpha}: the p-value under which the canary differs (LATENCY_SHIFT, PREDICTIONS, and
     * INPUT_DRIFT per input column, Bonferroni-corrected). {@code share}: the percentage of the baseline cohort's
     * requests mirrored to the canary (AGREEMENT). A failed critical check rolls back at once.
     */
    record Check(Kind kind, double threshold, double alpha, boolean critical, double share) {
        Check(Kind kind, double threshold, double alpha, boolean critical) {
            this(kind, threshold, alpha, critical, 0);
        }

        String name() {
            return switch (kind) {
                case ERROR_RATE -> "errorRate";
                case P99_LATENCY -> "p99Latency";
                case LATENCY_SHIFT -> "latencyShift";
                case PREDICTIONS -> "predictions";
                case INPUT_DRIFT -> "inputDrift";
                case AGREEMENT -> "agreement";
            };
        }
    }

    /**
     * The checks that run only when named: the canary's input drift (two-sample KS per input column against the
     * ModelMonitor's reference, else the baseline cohort's inputs) and the agreement rate of canary and baseline on
     * identical requests (a share of the baseline's requests is mirrored to the canary, whose answers are compared
     * and discarded). The second costs a canary call per mirrored request, so neither is a default.
     */
    static List<Check> optionalChecks() {
        return List.of(new Check(Kind.INPUT_DRIFT, 0, 0.001, true), new Check(Kind.AGREEMENT, 0.95, 0, true, 100));
    }

    private static List<Check> knownChecks() {
        var all = new ArrayList<>(defaultChecks());
        all.addAll(optionalChecks());
        return all;
    }

    /**
     * The defaults. The prediction check is critical and judged at every step, so its alpha is low: at 0.01 a good
     * canary was rolled back by chance in about one rollout in thirty of the tests' (several analyses each).
     */
    static List<Check> defaultChecks() {
        return List.of(new Check(Kind.ERROR_RATE, 0.01, 0, true), new Check(Kind.P99_LATENCY, 1000, 0, false),
                new Check(Kind.LATENCY_SHIFT, 5, 0.01, false), new Check(Kind.PREDICTIONS, 0, 0.001, true));
    }

    /** The annotation's rollout; empty with the problems (paths under the annotation) when it is not one. */
    static Optional<RolloutSpec> parse(String text, Problems problems) {
        var at = "metadata.annotations[" + ANNOTATION + "]";
        JsonNode node;
        try {
            node = Json.json().readTree(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            problems.add(at, "is not JSON: " + e.getOriginalMessage());
            return Optional.empty();
        }
        if (node == null || !node.isObject()) {
            problems.add(at, "must be a JSON object such as {\"stepWeights\":[5,10,25,50],\"interval\":\"30s\"}");
            return Optional.empty();
        }
        int before = problems.errors().size();
        for (var name : (Iterable<String>) node::fieldNames) {
            if (!List.of("stepWeights", "interval", "minSamples", "failureLimit", "manualGate", "checks").contains(name)) {
                problems.add(at + "." + name, "is not a rollout field (stepWeights, interval, minSamples, failureLimit, manualGate, checks)");
            }
        }
        var weights = new ArrayList<Integer>();
        var w = node.path("stepWeights");
        if (!w.isArray() || w.isEmpty()) {
            problems.add(at + ".stepWeights", "must be a non-empty list of percentages such as [5, 10, 25, 50]");
        } else {
            for (int i = 0; i < w.size(); i++) {
                var item = w.get(i);
                if (!item.canConvertToInt() || !item.isIntegralNumber() || item.asInt() < 1 || item.asInt() > 50) {
                    problems.add(at + ".stepWeights[" + i + "]", "must be a whole percentage from 1 to 50 (the baseline cohort takes as much again)");
                } else if (!weights.isEmpty() && item.asInt() <= weights.getLast()) {
                    problems.add(at + ".stepWeights[" + i + "]", "must be larger than the step before it");
                } else {
                    weights.add(item.asInt());
                }
            }
        }
        var interval = Duration.ofSeconds(60);
        if (node.has("interval")) {
            var p = new Problems();
            var parsed = node.get("interval").isTextual() ? DurationText.parse(node.get("interval").asText(), p) : Optional.<Duration>empty();
            if (parsed.isEmpty() || parsed.get().isZero()) problems.add(at + ".interval", "must be a duration such as 500ms, 30s or 5m");
            else interval = parsed.get();
        }
        int minSamples = intField(node, "minSamples", 50, 1, problems, at);
        int failureLimit = intField(node, "failureLimit", 2, 1, problems, at);
        boolean manualGate = false;
        if (node.has("manualGate")) {
            if (!node.get("manualGate").isBoolean()) problems.add(at + ".manualGate", "must be true or false");
            else manualGate = node.get("manualGate").asBoolean();
        }
        var checks = node.has("checks") ? checks(node.get("checks"), problems, at + ".checks") : defaultChecks();
        if (problems.errors().size() > before) return Optional.empty();
        return Optional.of(new RolloutSpec(List.copyOf(weights), interval, minSamples, failureLimit, manualGate, checks));
    }

    private static List<Check> checks(JsonNode node, Problems problems, String at) {
        var out = new ArrayList<Check>();
        if (!node.isObject() || node.isEmpty()) {
            problems.add(at, "must name at least one of " + NAMES);
            return out;
        }
        for (var d : knownChecks()) {
            var c = node.get(d.name());
            if (c == null) continue;
            if (!c.isObject()) {
                problems.add(at + "." + d.name(), "must be an object such as {} for the defaults");
                continue;
            }
            String thresholdField = switch (d.kind()) {
                case ERROR_RATE -> "max";
                case P99_LATENCY, LATENCY_SHIFT -> "maxMs";
                case PREDICTIONS, INPUT_DRIFT -> null;
                case AGREEMENT -> "min";
            };
            double threshold = d.threshold();
            double alpha = d.alpha();
            boolean critical = d.critical();
            double share = d.share();
            for (var name : (Iterable<String>) c::fieldNames) {
                var value = c.get(name);
                var path = at + "." + d.name() + "." + name;
                if (name.equals(thresholdField)) {
                    boolean isShare = d.kind() == Kind.ERROR_RATE || d.kind() == Kind.AGREEMENT;
                    if (!value.isNumber() || value.asDouble() < 0 || (isShare && value.asDouble() > 1)) {
                        problems.add(path, isShare ? "must be a share from 0 to 1" : "must be a number of milliseconds, 0 or more");
                    } else {
                        threshold = value.asDouble();
                    }
                } else if (name.equals("mirrorPercent") && d.kind() == Kind.AGREEMENT) {
                    if (!value.isIntegralNumber() || value.asInt() < 1 || value.asInt() > 100) problems.add(path, "must be a whole percentage from 1 to 100");
                    else share = value.asInt();
                } else if (name.equals("alpha") && (d.kind() == Kind.LATENCY_SHIFT || d.kind() == Kind.PREDICTIONS || d.kind() == Kind.INPUT_DRIFT)) {
                    if (!value.isNumber() || value.asDouble() <= 0 || value.asDouble() >= 1) problems.add(path, "must be a p-value between 0 and 1");
                    else alpha = value.asDouble();
                } else if (name.equals("critical")) {
                    if (!value.isBoolean()) problems.add(path, "must be true or false");
                    else critical = value.asBoolean();
                } else {
                    problems.add(path, "is not a field of this check");
                }
            }
            out.add(new Check(d.kind(), threshold, alpha, critical, share));
        }
        for (var name : (Iterable<String>) node::fieldNames) {
            if (knownChecks().stream().noneMatch(d -> d.name().equals(name))) {
                problems.add(at + "." + name, "is not a check (" + NAMES + ")");
            }
        }
        return out;
    }

    private static int intField(JsonNode node, String name, int fallback, int min, Problems problems, String at) {
        if (!node.has(name)) return fallback;
        var value = node.get(name);
        if (!value.isIntegralNumber() || !value.canConvertToInt() || value.asInt() < min) {
            problems.add(at + "." + name, "must be a whole number, " + min + " or more");
            return fallback;
        }
        return value.asInt();
    }
}
