package io.capstan.serving.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A revision as recorded in the InferenceService's status ({@code status.revisions}): enough to
 * load it again after a restart, since the spec it came from may have changed since.
 *
 * @param state Loading, Ready or Failed
 * @param spec the InferenceService spec (predictor) the revision was created from
 * @param annotations the Capstan annotations in force when it was created
 */
record RevisionRecord(int number, String name, String specHash, long generation, String state, String reason,
                      ObjectNode spec, ObjectNode annotations) {
    static final String LOADING = "Loading";
    static final String READY = "Ready";
    static final String FAILED = "Failed";

    RevisionRecord withState(String newState, String newReason) {
        return new RevisionRecord(number, name, specHash, generation, newState, newReason, spec, annotations);
    }

    static String nameOf(String isvc, int number) {
        return isvc + "-predictor-" + String.format("%05d", number);
    }

    ObjectNode toJson() {
        var node = JsonNodeFactory.instance.objectNode();
        node.put("name", name);
        node.put("number", number);
        node.put("specHash", specHash);
        node.put("generation", generation);
        node.put("state", state);
        if (!reason.isEmpty()) node.put("reason", reason);
        node.set("spec", spec);
        node.set("annotations", annotations);
        return node;
    }

    static Optional<RevisionRecord> fromJson(JsonNode node) {
        if (node == null || !node.isObject() || !node.path("spec").isObject()) return Optional.empty();
        return Optional.of(new RevisionRecord(node.path("number").asInt(), node.path("name").asText(), node.path("specHash").asText(),
                node.path("generation").asLong(), node.path("state").asText(LOADING), node.path("reason").asText(""),
                (ObjectNode) node.get("spec"),
                node.path("annotations").isObject() ? (ObjectNode) node.get("annotations") : JsonNodeFactory.instance.objectNode()));
    }

    static List<RevisionRecord> listFrom(Optional<JsonNode> node) {
        var out = new ArrayList<RevisionRecord>();
        node.filter(JsonNode::isArray).ifPresent(array -> array.forEach(n -> fromJson(n).ifPresent(out::add)));
        return out;
    }

    static ArrayNode toJson(List<RevisionRecord> records) {
        var array = JsonNodeFactory.instance.arrayNode();
        records.forEach(r -> array.add(r.toJson()));
        return array;
    }
}
