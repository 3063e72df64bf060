package io.capstan.tuning;

import static io.capstan.core.SpecFields.object;
import static io.capstan.core.SpecFields.requiredObject;
import static io.capstan.core.SpecFields.name;
import static io.capstan.core.SpecFields.integerOrString;
import static io.capstan.core.SpecFields.describe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.Json;
import io.capstan.core.Names;
import io.capstan.core.Problems;
import io.capstan.search.SearchSpace;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads {@code spec.trialTemplate}: the trial spec or config map, the trial parameters and their placeholders. */
final class TrialTemplateReader {
    static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{trialParameters\\.([^}]*)}");
    static final Pattern METADATA_REFERENCE = Pattern.compile("\\$\\{trialSpec\\.(Name|Namespace|Kind|APIVersion|(Labels|Annotations)\\[[^\\]]+])}");

    private TrialTemplateReader() {
    }

    static TrialTemplate trialTemplate(JsonNode node, SearchSpace space, Problems problems) {
        var path = "spec.trialTemplate";
        if (requiredObject(node, path, problems).isEmpty()) return null;
        int before = problems.errors().size();
        var ts = node.get("trialSpec");
        var cm = node.get("configMap");
        Optional<ObjectNode> trialSpec = Optional.empty();
        Optional<TrialTemplate.ConfigMapRef> configMap = Optional.empty();
        boolean hasSpec = ts != null && !ts.isNull();
        boolean hasMap = cm != null && !cm.isNull();
        if (hasSpec == hasMap) {
            problems.add(path, hasSpec ? "give either trialSpec or configMap, not both" : "required: trialSpec (the Job to run per trial) or configMap");
        } else if (hasSpec) {
            if (!ts.isObject()) problems.add(path + ".trialSpec", "expected an object such as a batch/v1 Job, got " + describe(ts));
            else trialSpec = Optional.of((ObjectNode) ts);
        } else if (requiredObject(cm, path + ".configMap", problems).isPresent()) {
            var name = name(cm.get("configMapName"), path + ".configMap.configMapName", problems).orElse(null);
            var ns = cm.get("configMapNamespace");
            var namespace = ns == null || ns.isNull() ? "" : name(ns, path + ".configMap.configMapNamespace", problems).orElse(null);
            var tp = name(cm.get("templatePath"), path + ".configMap.templatePath", problems).orElse(null);
            if (tp != null && (tp.contains("/") || tp.contains("\\") || tp.startsWith("."))) {
                problems.add(path + ".configMap.templatePath", "must be a key of the config map, without '/' or a leading '.'");
            }
            if (name != null && tp != null && namespace != null) configMap = Optional.of(new TrialTemplate.ConfigMapRef(name, namespace, tp));
        }
        var declared = new LinkedHashMap<String, TrialTemplate.TrialParameter>();
        var tpNode = node.get("trialParameters");
        if (tpNode != null && !tpNode.isNull()) {
            if (!tpNode.isArray()) problems.add(path + ".trialParameters", "expected a list of {name, reference}, got " + describe(tpNode));
            else if (tpNode.size() > ExperimentSpecReader.MAX_PARAMETERS) problems.add(path + ".trialParameters", "has " + tpNode.size() + " entries; the limit is " + ExperimentSpecReader.MAX_PARAMETERS);
            else for (int i = 0; i < tpNode.size(); i++) {
                var itemPath = path + ".trialParameters[" + i + "]";
                var item = tpNode.get(i);
                if (requiredObject(item, itemPath, problems).isEmpty()) continue;
                var name = name(item.get("name"), itemPath + ".name", problems).orElse(null);
                var reference = name(item.get("reference"), itemPath + ".reference", problems).orElse(null);
                var description = item.path("description").asText("");
                if (name == null || reference == null) continue;
                boolean isParameter = space != null && space.parameters().stream().anyMatch(p -> p.name().equals(reference));
                if (!isParameter && !METADATA_REFERENCE.matcher(reference).matches() && space != null) {
                    problems.add(itemPath + ".reference", "'" + Names.printable(reference) + "' is neither a parameter of spec.parameters nor trial metadata"
                            + " such as ${trialSpec.Name}, ${trialSpec.Namespace} or ${trialSpec.Labels[key]}");
                }
                if (declared.putIfAbsent(name, new TrialTemplate.TrialParameter(name, reference, description)) != null) {
                    problems.add(itemPath + ".name", "'" + Names.printable(name) + "' is declared twice");
                }
            }
        }
        var primary = "";
        var pc = node.get("primaryContainerName");
        if (pc != null && !pc.isNull()) primary = name(pc, path + ".primaryContainerName", problems).orElse("");
        var podLabels = new java.util.LinkedHashMap<String, String>();
        var ppl = node.get("primaryPodLabels");
        if (ppl != null && !ppl.isNull()) {
            if (!ppl.isObject() || ppl.size() > ExperimentSpecReader.MAX_PARAMETERS) {
                problems.add(path + ".primaryPodLabels", "expected a map of label names to values, got " + describe(ppl));
            } else {
                ppl.properties().forEach(e -> {
                    var value = name(e.getValue(), path + ".primaryPodLabels." + Names.printable(e.getKey()), problems).orElse(null);
                    if (value != null) podLabels.put(e.getKey(), value);
                });
            }
        }
        var success = conditionText(node.get("successCondition"), path + ".successCondition", TrialTemplate.DEFAULT_SUCCESS, problems);
        var failure = conditionText(node.get("failureCondition"), path + ".failureCondition", TrialTemplate.DEFAULT_FAILURE, problems);
        if (trialSpec.isPresent()) {
            checkPlaceholders(trialSpec.get(), declared.keySet(), path + ".trialSpec", problems);
            if (TrialCommand.isBatchJob(trialSpec.get())) TrialCommand.checkJob(trialSpec.get(), primary, path + ".trialSpec", problems);
            else TrialJobs.check(trialSpec.get(), path + ".trialSpec", problems);
        }
        if (problems.errors().size() != before) return null;
        return new TrialTemplate(trialSpec, configMap, List.copyOf(declared.values()), primary, podLabels, success, failure);
    }

    static Optional<Duration> trialTimeout(JsonNode template, Problems problems) {
        var capstan = template.get("timeoutSeconds");
        var fromJob = template.path("trialSpec").path("spec").get("activeDeadlineSeconds");
        OptionalInt seconds = OptionalInt.empty();
        if (fromJob != null && !fromJob.isNull() && "batch/v1".equals(template.path("trialSpec").path("apiVersion").asText())) {
            seconds = integerOrString(fromJob, "spec.trialTemplate.trialSpec.spec.activeDeadlineSeconds", 1, 366 * 24 * 3600, problems);
        }
        if (capstan != null && !capstan.isNull()) {
            var own = integerOrString(capstan, "spec.trialTemplate.timeoutSeconds", 1, 366 * 24 * 3600, problems);
            if (own.isPresent() && (seconds.isEmpty() || own.getAsInt() < seconds.getAsInt())) seconds = own;
        }
        return seconds.isPresent() ? Optional.of(Duration.ofSeconds(seconds.getAsInt())) : Optional.empty();
    }

    static void checkKindPresent(ObjectNode trialSpec, String path, Problems problems) {
        if (!trialSpec.path("apiVersion").isTextual()) problems.add(path + ".apiVersion", "required: the apiVersion of the trial's resource, such as batch/v1");
        if (!trialSpec.path("kind").isTextual()) problems.add(path + ".kind", "required: the kind of the trial's resource, such as Job");
    }

    /** Every {@code ${trialParameters.x}} in the template must be declared in trialParameters. */
    static void checkPlaceholders(ObjectNode trialSpec, java.util.Set<String> declared, String path, Problems problems) {
        String text;
        try {
            text = Json.json().writeValueAsString(trialSpec);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            problems.add(path, "cannot be written as JSON: " + e.getOriginalMessage());
            return;
        }
        Matcher m = PLACEHOLDER.matcher(text);
        var reported = new HashSet<String>();
        while (m.find()) {
            var name = m.group(1);
            if (!declared.contains(name) && reported.add(name)) {
                problems.add(path, "uses ${trialParameters." + Names.printable(name) + "}, which spec.trialTemplate.trialParameters does not declare");
            }
        }
    }

    static String conditionText(JsonNode node, String path, String fallback, Problems problems) {
        if (node == null || node.isNull()) return fallback;
        if (!node.isTextual() || node.asText().length() > 4096) {
            problems.add(path, "expected a condition expression of at most 4096 characters, got " + describe(node));
            return fallback;
        }
        return node.asText().isBlank() ? fallback : node.asText();
    }
}
