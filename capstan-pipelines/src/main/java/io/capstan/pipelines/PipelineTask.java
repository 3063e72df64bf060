package io.capstan.pipelines;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One task of a DAG. Strings follow the IR's own convention: an empty string means the field was not set.
 *
 * @param name          the task's key in {@code dag.tasks}
 * @param displayName   {@code taskInfo.name}
 * @param componentRef  {@code componentRef.name}
 * @param parallelismLimit {@code iteratorPolicy.parallelismLimit}; 0 means unlimited
 * @param raw           the task as written, unknown fields included
 */
public record PipelineTask(String name, String displayName, String componentRef,
                           Map<String, ParameterInput> parameters, Map<String, ArtifactInput> artifacts,
                           List<String> dependentTasks, TriggerPolicy triggerPolicy, Iteration iteration,
                           int parallelismLimit, boolean enableCache, RetryPolicy retryPolicy, JsonNode raw) {
    public PipelineTask {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(displayName, "displayName");
        Objects.requireNonNull(componentRef, "componentRef");
        parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
        artifacts = Collections.unmodifiableMap(new LinkedHashMap<>(artifacts));
        dependentTasks = List.copyOf(dependentTasks);
        Objects.requireNonNull(triggerPolicy, "triggerPolicy");
        Objects.requireNonNull(iteration, "iteration");
        if (parallelismLimit < 0) throw new IllegalArgumentException("parallelismLimit must be >= 0, got " + parallelismLimit);
        Objects.requireNonNull(retryPolicy, "retryPolicy");
        raw = raw.deepCopy();
    }

    /** Whether this task runs once its upstream tasks finish in any state: an exit handler. */
    public boolean isExitHandler() {
        return triggerPolicy.strategy() == TriggerStrategy.ALL_UPSTREAM_TASKS_COMPLETED;
    }

    /** A task input parameter: where its value comes from, and an optional CEL selector applied to it. */
    public record ParameterInput(ParameterSource source, String expressionSelector) {
        public ParameterInput {
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(expressionSelector, "expressionSelector");
        }

        public boolean hasSelector() {
            return !expressionSelector.isEmpty();
        }
    }

    public sealed interface ParameterSource permits ComponentInputParameter, TaskOutputParameter, RuntimeConstant, TaskFinalStatus {
    }

    /** The enclosing component's input parameter of this name. */
    public record ComponentInputParameter(String name) implements ParameterSource {
        public ComponentInputParameter {
            Objects.requireNonNull(name, "name");
        }
    }

    public record TaskOutputParameter(String producerTask, String outputKey) implements ParameterSource {
        public TaskOutputParameter {
            Objects.requireNonNull(producerTask, "producerTask");
            Objects.requireNonNull(outputKey, "outputKey");
        }
    }

    /** {@code runtimeValue.constant}: a JSON value, possibly a string with pipeline placeholders. */
    public record RuntimeConstant(JsonNode value) implements ParameterSource {
        public RuntimeConstant {
            value = value.deepCopy();
        }
    }

    /** The final status of {@code producerTask}, given to an exit handler. */
    public record TaskFinalStatus(String producerTask) implements ParameterSource {
        public TaskFinalStatus {
            Objects.requireNonNull(producerTask, "producerTask");
        }
    }

    public sealed interface ArtifactInput permits ComponentInputArtifact, TaskOutputArtifact {
    }

    public record ComponentInputArtifact(String name) implements ArtifactInput {
        public ComponentInputArtifact {
            Objects.requireNonNull(name, "name");
        }
    }

    public record TaskOutputArtifact(String producerTask, String outputKey) implements ArtifactInput {
        public TaskOutputArtifact {
            Objects.requireNonNull(producerTask, "producerTask");
            Objects.requireNonNull(outputKey, "outputKey");
        }
    }

    public enum TriggerStrategy {
        ALL_UPSTREAM_TASKS_SUCCEEDED("ALL_UPSTREAM_TASKS_SUCCEEDED"),
        ALL_UPSTREAM_TASKS_COMPLETED("ALL_UPSTREAM_TASKS_COMPLETED");

        private final String wireName;

        TriggerStrategy(String wireName) {
            this.wireName = wireName;
        }

        public String wireName() {
            return wireName;
        }
    }

    /** {@code triggerPolicy}: a CEL condition (empty for none) and when the task may start. */
    public record TriggerPolicy(String condition, TriggerStrategy strategy) {
        public static final TriggerPolicy DEFAULT = new TriggerPolicy("", TriggerStrategy.ALL_UPSTREAM_TASKS_SUCCEEDED);

        public TriggerPolicy {
            Objects.requireNonNull(condition, "condition");
            Objects.requireNonNull(strategy, "strategy");
        }

        public boolean hasCondition() {
            return !condition.isBlank();
        }
    }

    /** Whether and how a task fans out: ParallelFor over parameters or artifacts. */
    public sealed interface Iteration permits NoIteration, ParameterIteration, ArtifactIteration {
    }

    public record NoIteration() implements Iteration {
    }

    /**
     * {@code parameterIterator}: each item becomes the component input {@code itemInput}.
     *
     * @param items either {@link RawItems} or {@link InputItems}
     */
    public record ParameterIteration(String itemInput, IterationItems items) implements Iteration {
        public ParameterIteration {
            Objects.requireNonNull(itemInput, "itemInput");
            Objects.requireNonNull(items, "items");
        }
    }

    /** {@code artifactIterator}: each artifact of the list input {@code inputArtifact} becomes {@code itemInput}. */
    public record ArtifactIteration(String itemInput, String inputArtifact) implements Iteration {
        public ArtifactIteration {
            Objects.requireNonNull(itemInput, "itemInput");
            Objects.requireNonNull(inputArtifact, "inputArtifact");
        }
    }

    public sealed interface IterationItems permits RawItems, InputItems {
    }

    /** {@code items.raw}: a JSON array written into the IR. */
    public record RawItems(JsonNode items) implements IterationItems {
        public RawItems {
            items = items.deepCopy();
        }
    }

    /** {@code items.inputParameter}: the task's input parameter holding the list. */
    public record InputItems(String inputParameter) implements IterationItems {
        public InputItems {
            Objects.requireNonNull(inputParameter, "inputParameter");
        }
    }

    /** {@code retryPolicy}; {@link #NONE} when absent. */
    public record RetryPolicy(int maxRetryCount, Duration backoffDuration, double backoffFactor, Duration backoffMaxDuration) {
        public static final RetryPolicy NONE = new RetryPolicy(0, Duration.ZERO, 2.0, Duration.ofHours(1));

        public RetryPolicy {
            if (maxRetryCount < 0) throw new IllegalArgumentException("maxRetryCount must be >= 0, got " + maxRetryCount);
            Objects.requireNonNull(backoffDuration, "backoffDuration");
            Objects.requireNonNull(backoffMaxDuration, "backoffMaxDuration");
        }
    }
}
