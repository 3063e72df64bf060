package io.capstan.pipelines.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.Objects;

/**
 * One entry of {@code status.tasks}: what a task (or a DAG, a loop or one loop iteration) did. Strings follow the
 * IR's convention: empty means unset.
 *
 * @param inputs         resolved input parameter values by name
 * @param inputArtifacts resolved input artifacts: name to a list of {@code {name, type, uri, metadata}}
 * @param outputs        {@code {parameters: {name: value}, artifacts: {name: [artifact]}}}
 * @param notBefore      a retry's launch waits until this instant (ISO-8601)
 * @param items          a loop's items, fixed when the loop starts
 */
record TaskStatus(TaskState state, int attempts, String workloadId, String startTime, String endTime,
                  ObjectNode inputs, ObjectNode inputArtifacts, ObjectNode outputs, String message, String image,
                  String cacheKey, String notBefore, ArrayNode items) {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    TaskStatus {
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(workloadId, "workloadId");
        Objects.requireNonNull(startTime, "startTime");
        Objects.requireNonNull(endTime, "endTime");
        inputs = inputs.deepCopy();
        inputArtifacts = inputArtifacts.deepCopy();
        outputs = outputs.deepCopy();
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(cacheKey, "cacheKey");
        Objects.requireNonNull(notBefore, "notBefore");
        items = items.deepCopy();
    }

    static TaskStatus pending() {
        return new TaskStatus(TaskState.PENDING, 0, "", "", "", F.objectNode(), F.objectNode(), emptyOutputs(), "", "", "", "", F.arrayNode());
    }

    static ObjectNode emptyOutputs() {
        var o = F.objectNode();
        o.putObject("parameters");
        o.putObject("artifacts");
        return o;
    }

    TaskStatus withState(TaskState newState, String newMessage, Instant now) {
        var end = newState.isTerminal() && endTime.isEmpty() ? now.toString() : endTime;
        var start = newState == TaskState.RUNNING && startTime.isEmpty() ? now.toString() : startTime;
        return new TaskStatus(newState, attempts, workloadId, start, end, inputs, inputArtifacts, outputs, newMessage, image, cacheKey, notBefore, items);
    }

    TaskStatus withInputs(ObjectNode newInputs, ObjectNode newArtifacts) {
        return new TaskStatus(state, attempts, workloadId, startTime, endTime, newInputs, newArtifacts, outputs, message, image, cacheKey, notBefore, items);
    }

    TaskStatus withOutputs(ObjectNode newOutputs) {
        return new TaskStatus(state, attempts, workloadId, startTime, endTime, inputs, inputArtifacts, newOutputs, message, image, cacheKey, notBefore, items);
    }

    TaskStatus withAttempt(int attempt, String newWorkloadId, String newNotBefore) {
        return new TaskStatus(state, attempt, newWorkloadId, startTime, endTime, inputs, inputArtifacts, outputs, message, image, cacheKey, newNotBefore, items);
    }

    TaskStatus withStep(String newImage, String newCacheKey) {
        return new TaskStatus(state, attempts, workloadId, startTime, endTime, inputs, inputArtifacts, outputs, message, newImage, newCacheKey, notBefore, items);
    }

    TaskStatus withItems(ArrayNode newItems) {
        return new TaskStatus(state, attempts, workloadId, startTime, endTime, inputs, inputArtifacts, outputs, message, image, cacheKey, notBefore, newItems);
    }

    TaskStatus withStartTime(String at) {
        return new TaskStatus(state, attempts, workloadId, at, endTime, inputs, inputArtifacts, outputs, message, image, cacheKey, notBefore, items);
    }

    ObjectNode outputParameters() {
        return (ObjectNode) outputs.path("parameters");
    }

    ObjectNode outputArtifacts() {
        return (ObjectNode) outputs.path("artifacts");
    }

    ObjectNode toJson() {
        var o = F.objectNode();
        o.put("state", state.wireName());
        if (attempts > 0) o.put("attempts", attempts);
        if (!workloadId.isEmpty()) o.put("workloadId", workloadId);
        if (!startTime.isEmpty()) o.put("startTime", startTime);
        if (!endTime.isEmpty()) o.put("endTime", endTime);
        if (!image.isEmpty()) o.put("image", image);
        o.set("inputs", inputs);
        if (!inputArtifacts.isEmpty()) o.set("inputArtifacts", inputArtifacts);
        o.set("outputs", outputs);
        if (!message.isEmpty()) o.put("message", message);
        if (!cacheKey.isEmpty()) o.put("cacheKey", cacheKey);
        if (!notBefore.isEmpty()) o.put("notBefore", notBefore);
        if (!items.isEmpty()) o.set("items", items);
        return o;
    }

    static TaskStatus fromJson(JsonNode o) {
        var outputs = o.path("outputs").isObject() ? (ObjectNode) o.get("outputs") : emptyOutputs();
        if (!outputs.path("parameters").isObject()) outputs.putObject("parameters");
        if (!outputs.path("artifacts").isObject()) outputs.putObject("artifacts");
        return new TaskStatus(TaskState.ofWire(o.path("state").asText()), o.path("attempts").asInt(0),
                o.path("workloadId").asText(""), o.path("startTime").asText(""), o.path("endTime").asText(""),
                object(o.get("inputs")), object(o.get("inputArtifacts")), outputs, o.path("message").asText(""),
                o.path("image").asText(""), o.path("cacheKey").asText(""), o.path("notBefore").asText(""),
                o.path("items").isArray() ? (ArrayNode) o.get("items") : F.arrayNode());
    }

    private static ObjectNode object(JsonNode n) {
        return n != null && n.isObject() ? (ObjectNode) n : F.objectNode();
    }
}
