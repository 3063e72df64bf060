package io.capstan.tuning;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.Problems;
import io.capstan.core.SpecFields;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Spec of a Katib {@code Trial}: the parameter assignment, the substituted trial resource ({@code runSpec}) and the
 * labels its search algorithm attached (Capstan's {@code suggestionLabels}, handed back to the algorithm).
 */
record TrialSpec(Map<String, String> assignment, ObjectNode runSpec, String primaryContainerName, Map<String, String> suggestionLabels) {
    TrialSpec {
        assignment = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(assignment));
        runSpec = runSpec.deepCopy();
        Objects.requireNonNull(primaryContainerName, "primaryContainerName");
        suggestionLabels = Map.copyOf(suggestionLabels);
    }

    @Override
    public ObjectNode runSpec() {
        return runSpec.deepCopy();
    }

    static void validate(ObjectNode spec, Problems problems) {
        read(spec, problems);
    }

    static TrialSpec of(ObjectNode spec) {
        var problems = new Problems();
        var read = read(spec, problems);
        problems.throwIfAny();
        return read;
    }

    ObjectNode toTree() {
        var node = JsonNodeFactory.instance.objectNode();
        var list = node.putArray("parameterAssignments");
        assignment.forEach((k, v) -> list.addObject().put("name", k).put("value", v));
        node.set("runSpec", runSpec.deepCopy());
        if (!primaryContainerName.isEmpty()) node.put("primaryContainerName", primaryContainerName);
        if (!suggestionLabels.isEmpty()) {
            var labels = node.putObject("suggestionLabels");
            suggestionLabels.forEach(labels::put);
        }
        return node;
    }

    private static TrialSpec read(ObjectNode spec, Problems problems) {
        int before = problems.errors().size();
        var assignment = new LinkedHashMap<String, String>();
        var pa = spec.get("parameterAssignments");
        if (pa == null || !pa.isArray()) {
            problems.add("spec.parameterAssignments", "required: a list of {name, value}");
        } else if (pa.size() > ExperimentSpecReader.MAX_PARAMETERS) {
            problems.add("spec.parameterAssignments", "has " + pa.size() + " entries; the limit is " + ExperimentSpecReader.MAX_PARAMETERS);
        } else {
            for (int i = 0; i < pa.size(); i++) {
                var path = "spec.parameterAssignments[" + i + "]";
                var name = SpecFields.name(pa.get(i).get("name"), path + ".name", problems).orElse(null);
                var value = pa.get(i).get("value");
                if (value == null || !value.isValueNode() || value.isNull()) problems.add(path + ".value", "required: the value as a string");
                else if (name != null && assignment.putIfAbsent(name, value.asText()) != null) problems.add(path + ".name", "assigned twice");
            }
        }
        var runSpec = spec.get("runSpec");
        if (runSpec != null && !runSpec.isNull() && !runSpec.isObject()) problems.add("spec.runSpec", "expected an object");
        var primary = spec.path("primaryContainerName").asText("");
        var labels = new LinkedHashMap<String, String>();
        spec.path("suggestionLabels").properties().forEach(e -> labels.put(e.getKey(), e.getValue().asText()));
        if (problems.errors().size() != before) return null;
        return new TrialSpec(assignment, runSpec instanceof ObjectNode o ? o : JsonNodeFactory.instance.objectNode(), primary, labels);
    }
}
