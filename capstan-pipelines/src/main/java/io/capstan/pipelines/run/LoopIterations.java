package io.capstan.pipelines.run;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.capstan.core.Json;
import io.capstan.core.PermanentFailureException;
import io.capstan.pipelines.ExecutionPlan.TaskPlan;
import io.capstan.pipelines.PipelineTask;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/** A {@code ParallelFor}'s items, and the loop's state once its iterations (tasks {@code path[i]}) have all ended. */
final class LoopIterations {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private LoopIterations() {
    }

    /** The input of each iteration that holds its item. */
    static String itemInput(TaskPlan task) {
        return switch (task.task().iteration()) {
            case PipelineTask.NoIteration n -> "";
            case PipelineTask.ParameterIteration it -> it.itemInput();
            case PipelineTask.ArtifactIteration it -> it.itemInput();
        };
    }

    /**
     * The items a loop task iterates over, given its resolved inputs.
     *
     * @throws PermanentFailureException the items are not a list (or a JSON text of one)
     */
    static ArrayNode items(TaskPlan task, TaskStatus st) {
        return switch (task.task().iteration()) {
            case PipelineTask.NoIteration n -> F.arrayNode();
            case PipelineTask.ParameterIteration it -> switch (it.items()) {
                case PipelineTask.RawItems raw -> asList(raw.items(), "items.raw");
                case PipelineTask.InputItems in -> asList(st.inputs().get(in.inputParameter()), "input '" + in.inputParameter() + "'");
            };
            case PipelineTask.ArtifactIteration it -> asList(st.inputArtifacts().get(it.inputArtifact()), "input artifact '" + it.inputArtifact() + "'");
        };
    }

    private static ArrayNode asList(JsonNode value, String what) {
        var node = value;
        if (node != null && node.isTextual()) {
            try {
                node = Json.json().readTree(node.asText());
            } catch (JsonProcessingException e) {
                throw new PermanentFailureException("ParallelFor over " + what + " needs a JSON list, got '" + value.asText() + "'");
            }
        }
        if (node == null || !node.isArray()) throw new PermanentFailureException("ParallelFor over " + what + " needs a list, got " + value);
        return (ArrayNode) node;
    }

    /**
     * The loop at {@code path} ended, with each output collected into a list in item order, once every iteration has
     * ended; empty while one still runs. It failed when an iteration did (other than by being skipped).
     */
    static Optional<TaskStatus> finished(String path, TaskStatus loop, Map<String, TaskStatus> tasks, Instant now) {
        var items = loop.items();
        boolean done = true;
        boolean failed = false;
        var message = "";
        var params = F.objectNode();
        var artifacts = F.objectNode();
        for (int i = 0; i < items.size(); i++) {
            var st = tasks.get(path + "[" + i + "]");
            if (st == null || !st.state().isTerminal()) {
                done = false;
                continue;
            }
            if (!st.state().isSuccess() && st.state() != TaskState.SKIPPED) {
                failed = true;
                if (message.isEmpty()) message = "iteration " + i + " " + st.state().wireName().toLowerCase(java.util.Locale.ROOT) + ": " + st.message();
            }
            st.outputParameters().properties().forEach(e -> {
                if (!params.has(e.getKey())) params.putArray(e.getKey());
                ((ArrayNode) params.get(e.getKey())).add(e.getValue());
            });
            st.outputArtifacts().properties().forEach(e -> {
                if (!artifacts.has(e.getKey())) artifacts.putArray(e.getKey());
                ((ArrayNode) artifacts.get(e.getKey())).addAll((ArrayNode) e.getValue());
            });
        }
        if (!done) return Optional.empty();
        var outputs = F.objectNode();
        outputs.set("parameters", params);
        outputs.set("artifacts", artifacts);
        return Optional.of(loop.withOutputs(outputs).withState(failed ? TaskState.FAILED : TaskState.SUCCEEDED, message, now));
    }
}
