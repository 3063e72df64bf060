package io.capstan.pipelines.run;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import io.capstan.core.PermanentFailureException;
import io.capstan.pipelines.ComponentSpec;
import io.capstan.pipelines.ExecutionPlan;
import io.capstan.pipelines.ExecutionPlan.TaskPlan;
import io.capstan.pipelines.PipelineTask;
import java.util.ArrayList;
import java.util.Map;
import java.util.function.Function;

/**
 * Resolves a task's inputs as KFP's driver does: from the enclosing DAG's inputs, upstream tasks' outputs, constants
 * (with their placeholders) and an exit handler's {@code PipelineTaskFinalStatus}. Reads the run's task states, which
 * its {@link RunPass} owns; lives as long as that pass.
 */
final class TaskInputs {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /** A DAG instance's inputs: parameter values and artifact lists by component input name. */
    record Scope(ObjectNode parameters, ObjectNode artifacts) {
    }

    private final Map<String, TaskStatus> tasks;
    private final Function<String, ComponentSpec> components;
    private final RunLayout layout;

    /**
     * @param tasks the run's task states by path, read as they are when {@link #resolve} is called
     * @param components the pipeline's components by name
     */
    TaskInputs(Map<String, TaskStatus> tasks, Function<String, ComponentSpec> components, RunLayout layout) {
        this.tasks = tasks;
        this.components = components;
        this.layout = layout;
    }

    /**
     * {@code st} with the task's input parameters and artifacts, resolved from {@code scope} (its DAG's inputs) and its
     * upstream tasks' outputs.
     *
     * @throws InvalidSpecException an input the task needs has no value
     * @throws PermanentFailureException a selector or value cannot be evaluated
     */
    TaskStatus resolve(String dagPath, String path, TaskPlan task, Scope scope, TaskStatus st) {
        var component = components.apply(task.component());
        var params = F.objectNode();
        var constants = new ArrayList<String>();
        task.task().parameters().forEach((name, input) -> {
            JsonNode value = switch (input.source()) {
                case PipelineTask.ComponentInputParameter c -> scope.parameters().get(c.name());
                case PipelineTask.TaskOutputParameter t -> {
                    var producer = tasks.get(dagPath + "/" + t.producerTask());
                    yield producer != null && producer.state().isSuccess() ? producer.outputParameters().get(t.outputKey()) : null;
                }
                case PipelineTask.RuntimeConstant c -> {
                    if (c.value().isTextual() && c.value().asText().contains("{{$")) constants.add(name);
                    yield c.value();
                }
                case PipelineTask.TaskFinalStatus f -> finalStatus(dagPath, f.producerTask());
            };
            var def = component.inputs().parameters().get(name);
            if (value == null || value.isNull() || value.isMissingNode()) {
                if (def != null && def.hasDefault()) params.set(name, def.defaultValue());
                else if (def != null && !def.isOptional()) {
                    throw new InvalidSpecException("task " + path + ": input parameter '" + name + "' has no value: "
                            + describe(input.source()) + " produced none");
                }
                return;
            }
            if (input.hasSelector()) value = select(value, input.expressionSelector(), path, name);
            params.set(name, def == null ? value : ParameterValues.coerce(def.type(), value, "task " + path + " input parameter '" + name + "'"));
        });
        task.parameters().forEach((name, binding) -> {
            if (binding instanceof ExecutionPlan.Defaulted d && !params.has(name)) params.set(name, d.value());
        });
        for (var name : constants) {
            params.put(name, StepInvocation.resolveConstant(params.get(name).asText(), layout, path, task.name(), params));
        }
        var artifacts = F.objectNode();
        task.task().artifacts().forEach((name, input) -> {
            JsonNode list = switch (input) {
                case PipelineTask.ComponentInputArtifact c -> scope.artifacts().get(c.name());
                case PipelineTask.TaskOutputArtifact t -> {
                    var producer = tasks.get(dagPath + "/" + t.producerTask());
                    yield producer != null && producer.state().isSuccess() ? producer.outputArtifacts().get(t.outputKey()) : null;
                }
            };
            if (list == null || list.isEmpty()) {
                var def = component.inputs().artifacts().get(name);
                if (def != null && !def.isOptional()) {
                    throw new InvalidSpecException("task " + path + ": input artifact '" + name + "' has no value: the producer wrote none");
                }
                return;
            }
            artifacts.set(name, list);
        });
        return st.withInputs(params, artifacts);
    }

    private static String describe(PipelineTask.ParameterSource source) {
        return switch (source) {
            case PipelineTask.ComponentInputParameter c -> "the enclosing component's input '" + c.name() + "'";
            case PipelineTask.TaskOutputParameter t -> "task '" + t.producerTask() + "' output '" + t.outputKey() + "'";
            case PipelineTask.RuntimeConstant c -> "the constant";
            case PipelineTask.TaskFinalStatus f -> "the final status of '" + f.producerTask() + "'";
        };
    }

    /** {@code parameterExpressionSelector}: KFP's {@code parseJson(string_value)["key"]} and the like, for common forms. */
    private static JsonNode select(JsonNode value, String selector, String path, String name) {
        var m = java.util.regex.Pattern.compile("parseJson\\(string_value\\)\\[\"([^\"]*)\"]").matcher(selector.strip());
        if (m.matches()) {
            var tree = value;
            if (value.isTextual()) {
                try {
                    tree = Json.json().readTree(value.asText());
                } catch (JsonProcessingException e) {
                    throw new PermanentFailureException("task " + path + " input '" + name + "': selector " + selector + " needs JSON, got " + value);
                }
            }
            var picked = tree.get(m.group(1));
            if (picked == null) throw new PermanentFailureException("task " + path + " input '" + name + "': " + value + " has no key '" + m.group(1) + "'");
            return picked;
        }
        throw new PermanentFailureException("task " + path + " input '" + name + "': parameterExpressionSelector '" + selector
                + "' is not supported yet; Capstan evaluates parseJson(string_value)[\"key\"]");
    }

    /** KFP's {@code PipelineTaskFinalStatus} for an exit handler. */
    private JsonNode finalStatus(String dagPath, String producer) {
        var st = tasks.get(dagPath + "/" + producer);
        var o = F.objectNode();
        var state = st == null ? TaskState.PENDING : st.state();
        // KFP's driver reports the producer's MLMD execution state; a task not triggered is stored CANCELED there.
        o.put("state", switch (state) {
            case PENDING -> "NEW";
            case RUNNING -> "RUNNING";
            case SUCCEEDED -> "COMPLETE";
            case CACHED -> "CACHED";
            case FAILED -> "FAILED";
            case CANCELLED, SKIPPED -> "CANCELED";
        });
        o.put("pipelineJobResourceName", layout.runName());
        o.put("pipelineTaskName", producer);
        var error = o.putObject("error");
        if (state == TaskState.FAILED || state == TaskState.CANCELLED) {
            error.put("code", state == TaskState.FAILED ? 2 : 1);
            error.put("message", st.message());
        }
        return o;
    }
}
