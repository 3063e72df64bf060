package io.capstan.tuning;

import static io.capstan.core.SpecFields.object;
import static io.capstan.core.SpecFields.requiredObject;
import static io.capstan.core.SpecFields.name;
import static io.capstan.core.SpecFields.number;
import static io.capstan.core.SpecFields.integerOrString;
import static io.capstan.core.SpecFields.describe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import io.capstan.core.Problems;
import io.capstan.search.SearchSpace;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * Reads and validates a Katib Experiment spec tree, reporting every bad field with its path under {@code spec}.
 * Algorithms and their settings are checked by building them, so that admission refuses what would fail later.
 */
final class ExperimentSpecReader {
    static final int MAX_PARAMETERS = 100;
    static final int MAX_TRIAL_COUNT = 1_000_000;

    private final SearchCatalog catalog;

    ExperimentSpecReader(SearchCatalog catalog) {
        this.catalog = catalog;
    }

    /** Reads a valid spec; {@link InvalidSpecException} lists every problem otherwise. */
    ExperimentSpec read(ObjectNode spec) {
        var problems = new Problems();
        var read = read(spec, problems);
        problems.throwIfAny();
        return read;
    }

    ExperimentSpec read(ObjectNode spec, Problems problems) {
        int before = problems.errors().size();
        var objective = objective(spec.get("objective"), problems);
        var nas = spec.get("nasConfig");
        var space = nas != null && !nas.isNull() && !spec.has("parameters") ? null : ParameterReader.parameters(spec.get("parameters"), problems);
        if (nas != null && !nas.isNull()) {
            problems.add("spec.nasConfig", "neural-architecture search (nasConfig, with the enas and darts algorithms) is not supported:"
                    + " it needs a supernet or a generated architecture per trial in a purpose-built image; tune hyperparameters with spec.parameters");
        }
        var algorithm = algorithm(spec.get("algorithm"), "spec.algorithm", true, problems);
        var earlyStopping = Optional.<ExperimentSpec.Algorithm>empty();
        var es = spec.get("earlyStopping");
        if (es != null && !es.isNull()) earlyStopping = Optional.ofNullable(algorithm(es, "spec.earlyStopping", true, problems));

        int parallel = integerOrString(spec.get("parallelTrialCount"), "spec.parallelTrialCount", 1, MAX_TRIAL_COUNT, problems).orElse(3);
        var maxTrials = integerOrString(spec.get("maxTrialCount"), "spec.maxTrialCount", 1, MAX_TRIAL_COUNT, problems);
        var maxFailed = integerOrString(spec.get("maxFailedTrialCount"), "spec.maxFailedTrialCount", 0, MAX_TRIAL_COUNT, problems);
        if (maxTrials.isPresent() && parallel > maxTrials.getAsInt()) {
            problems.add("spec.parallelTrialCount", "is " + parallel + ", more than maxTrialCount " + maxTrials.getAsInt()
                    + "; lower it or raise maxTrialCount");
        }
        var resume = ExperimentSpec.ResumePolicy.NEVER;
        var rp = spec.get("resumePolicy");
        if (rp != null && !rp.isNull()) {
            var parsed = rp.isTextual() ? ExperimentSpec.ResumePolicy.ofWire(rp.asText()) : Optional.<ExperimentSpec.ResumePolicy>empty();
            if (parsed.isEmpty()) problems.add("spec.resumePolicy", "expected Never, LongRunning or FromVolume, got " + describe(rp));
            else resume = parsed.get();
        }
        var collector = CollectorReader.collector(spec.get("metricsCollectorSpec"), problems);
        var template = TrialTemplateReader.trialTemplate(spec.get("trialTemplate"), space, problems);
        var timeout = template == null ? Optional.<Duration>empty() : TrialTemplateReader.trialTimeout(spec.path("trialTemplate"), problems);

        if (problems.errors().size() == before && space != null) {
            checkWithCatalog(algorithm, earlyStopping, space, problems);
        }
        if (problems.errors().size() != before) return null;
        return new ExperimentSpec(objective, algorithm, earlyStopping, space, parallel, maxTrials, maxFailed, resume, template,
                collector, timeout);
    }

    private void checkWithCatalog(ExperimentSpec.Algorithm algorithm, Optional<ExperimentSpec.Algorithm> earlyStopping,
                                  SearchSpace space, Problems problems) {
        try {
            catalog.create(algorithm.name(), algorithm.settings(), space);
        } catch (InvalidSpecException e) {
            e.errors().forEach(err -> problems.add(specPath(err.path(), "spec.algorithm"), err.message()));
        }
        earlyStopping.ifPresent(rule -> {
            try {
                catalog.earlyStopping(rule.name(), rule.settings());
            } catch (InvalidSpecException e) {
                e.errors().forEach(err -> problems.add(specPath(err.path(), "spec.earlyStopping"), err.message()));
            }
        });
    }

    private static String specPath(String path, String fallback) {
        if (path.isEmpty()) return fallback;
        return path.startsWith("spec.") ? path : "spec." + path;
    }

    private static Objective objective(JsonNode node, Problems problems) {
        if (requiredObject(node, "spec.objective", problems).isEmpty()) return null;
        Objective.ObjectiveType type = null;
        var t = node.get("type");
        if (t == null || t.isNull()) problems.add("spec.objective.type", "required: minimize or maximize");
        else if ("minimize".equals(t.asText()) && t.isTextual()) type = Objective.ObjectiveType.MINIMIZE;
        else if ("maximize".equals(t.asText()) && t.isTextual()) type = Objective.ObjectiveType.MAXIMIZE;
        else problems.add("spec.objective.type", "expected minimize or maximize, got " + describe(t));

        var goal = OptionalDouble.empty();
        var g = node.get("goal");
        if (g != null && !g.isNull()) goal = number(g, "spec.objective.goal", problems);

        var metric = name(node.get("objectiveMetricName"), "spec.objective.objectiveMetricName", problems).orElse(null);
        var additional = new ArrayList<String>();
        var add = node.get("additionalMetricNames");
        if (add != null && !add.isNull()) {
            if (!add.isArray()) problems.add("spec.objective.additionalMetricNames", "expected a list of metric names, got " + describe(add));
            else if (add.size() > MAX_PARAMETERS) problems.add("spec.objective.additionalMetricNames", "has " + add.size() + " names; the limit is " + MAX_PARAMETERS);
            else for (int i = 0; i < add.size(); i++) {
                var path = "spec.objective.additionalMetricNames[" + i + "]";
                var n = name(add.get(i), path, problems).orElse(null);
                if (n == null) continue;
                if (n.equals(metric)) problems.add(path, "'" + Names.printable(n) + "' is already the objectiveMetricName; a metric is either the objective or additional, not both");
                else if (additional.contains(n)) problems.add(path, "'" + Names.printable(n) + "' is listed twice");
                else additional.add(n);
            }
        }
        var strategies = new LinkedHashMap<String, Objective.MetricStrategy>();
        var ms = node.get("metricStrategies");
        if (ms != null && !ms.isNull()) {
            if (!ms.isArray()) problems.add("spec.objective.metricStrategies", "expected a list of {name, value}, got " + describe(ms));
            else if (ms.size() > MAX_PARAMETERS + 1) problems.add("spec.objective.metricStrategies", "has " + ms.size() + " entries; the limit is " + (MAX_PARAMETERS + 1));
            else for (int i = 0; i < ms.size(); i++) {
                var path = "spec.objective.metricStrategies[" + i + "]";
                var item = ms.get(i);
                if (requiredObject(item, path, problems).isEmpty()) continue;
                var n = name(item.get("name"), path + ".name", problems).orElse(null);
                var v = item.get("value");
                var strategy = v != null && v.isTextual() ? Objective.MetricStrategy.ofWire(v.asText()) : Optional.<Objective.MetricStrategy>empty();
                if (strategy.isEmpty()) problems.add(path + ".value", "expected min, max or latest, got " + describe(v));
                if (n == null || strategy.isEmpty()) continue;
                if (!n.equals(metric) && !additional.contains(n)) {
                    problems.add(path + ".name", "'" + Names.printable(n) + "' is neither the objectiveMetricName nor one of additionalMetricNames");
                } else if (strategies.putIfAbsent(n, strategy.get()) != null) {
                    problems.add(path + ".name", "'" + Names.printable(n) + "' has a strategy already");
                }
            }
        }
        if (type == null || metric == null) return null;
        return new Objective(type, goal, metric, additional, strategies);
    }

    private static ExperimentSpec.Algorithm algorithm(JsonNode node, String path, boolean required, Problems problems) {
        if ((required ? requiredObject(node, path, problems) : object(node, path, problems)).isEmpty()) return null;
        var name = name(node.get("algorithmName"), path + ".algorithmName", problems).orElse(null);
        var settings = new LinkedHashMap<String, String>();
        var s = node.get("algorithmSettings");
        if (s != null && !s.isNull()) {
            if (!s.isArray()) problems.add(path + ".algorithmSettings", "expected a list of {name, value}, got " + describe(s));
            else if (s.size() > MAX_PARAMETERS) problems.add(path + ".algorithmSettings", "has " + s.size() + " settings; the limit is " + MAX_PARAMETERS);
            else for (int i = 0; i < s.size(); i++) {
                var itemPath = path + ".algorithmSettings[" + i + "]";
                var item = s.get(i);
                if (requiredObject(item, itemPath, problems).isEmpty()) continue;
                var n = name(item.get("name"), itemPath + ".name", problems).orElse(null);
                var v = item.get("value");
                if (v != null && !v.isNull() && !v.isValueNode()) {
                    problems.add(itemPath + ".value", "expected a string, got " + describe(v));
                    continue;
                }
                if (n != null && settings.putIfAbsent(n, v == null || v.isNull() ? "" : v.asText()) != null) {
                    problems.add(itemPath + ".name", "'" + Names.printable(n) + "' is set twice");
                }
            }
        }
        return name == null ? null : new ExperimentSpec.Algorithm(name, settings);
    }
}
