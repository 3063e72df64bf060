package io.capstan.pipelines;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a run of a valid pipeline will do, before any of it runs: for every DAG (the root and each DAG component),
 * its tasks in a topological order, each with its resolved component and executor and the source of every input.
 * Loops, conditions and exit handlers are marked, not evaluated.
 *
 * @param dags by component name; the root DAG is under {@link PipelineSpec#ROOT}
 */
public record ExecutionPlan(String pipelineName, Map<String, DagPlan> dags, List<PipelineWarning> warnings) {
    public ExecutionPlan {
        Objects.requireNonNull(pipelineName, "pipelineName");
        dags = Collections.unmodifiableMap(new LinkedHashMap<>(dags));
        warnings = List.copyOf(warnings);
        if (!dags.containsKey(PipelineSpec.ROOT)) throw new IllegalArgumentException("a plan needs the root DAG");
    }

    public DagPlan root() {
        return dags.get(PipelineSpec.ROOT);
    }

    /** The plan of the DAG component {@code name}; throws if it is not a DAG of this pipeline. */
    public DagPlan dag(String name) {
        var dag = dags.get(name);
        if (dag == null) throw new IllegalArgumentException("pipeline '" + pipelineName + "' has no DAG component '" + name + "'");
        return dag;
    }

    /**
     * One DAG.
     *
     * @param order every task, each after all of its upstream tasks; ties keep document order
     */
    public record DagPlan(String component, List<TaskPlan> order, DagSpec spec) {
        public DagPlan {
            Objects.requireNonNull(component, "component");
            order = List.copyOf(order);
            Objects.requireNonNull(spec, "spec");
        }

        /** Tasks that run once their upstream tasks finish in any state ({@code ALL_UPSTREAM_TASKS_COMPLETED}). */
        public List<TaskPlan> exitHandlers() {
            return order.stream().filter(TaskPlan::isExitHandler).toList();
        }

        public TaskPlan task(String name) {
            return order.stream().filter(t -> t.name().equals(name)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("DAG '" + component + "' has no task '" + name + "'"));
        }
    }

    /**
     * One task, resolved.
     *
     * @param component  the component it runs
     * @param step       what runs: an executor or a nested DAG
     * @param upstream   tasks that must finish first: dependentTasks plus the producers of its inputs
     * @param parameters every input parameter the component declares, with where its value comes from
     * @param artifacts  every input artifact the component declares, with where it comes from
     */
    public record TaskPlan(String name, String component, Step step, List<String> upstream,
                           Map<String, ParameterBinding> parameters, Map<String, ArtifactBinding> artifacts, PipelineTask task) {
        public TaskPlan {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(component, "component");
            Objects.requireNonNull(step, "step");
            upstream = List.copyOf(upstream);
            parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
            artifacts = Collections.unmodifiableMap(new LinkedHashMap<>(artifacts));
            Objects.requireNonNull(task, "task");
        }

        public boolean isExitHandler() {
            return task.isExitHandler();
        }

        public boolean isLoop() {
            return !(task.iteration() instanceof PipelineTask.NoIteration);
        }

        public boolean isConditional() {
            return task.triggerPolicy().hasCondition();
        }
    }

    /** What runs for a task. */
    public sealed interface Step permits ContainerStep, ImporterStep, ResolverStep, SubDagStep {
    }

    public record ContainerStep(String executorLabel, ExecutorSpec.Container container) implements Step {
        public ContainerStep {
            Objects.requireNonNull(executorLabel, "executorLabel");
            Objects.requireNonNull(container, "container");
        }
    }

    public record ImporterStep(String executorLabel, ExecutorSpec.Importer importer) implements Step {
        public ImporterStep {
            Objects.requireNonNull(executorLabel, "executorLabel");
            Objects.requireNonNull(importer, "importer");
        }
    }

    public record ResolverStep(String executorLabel, ExecutorSpec.Resolver resolver) implements Step {
        public ResolverStep {
            Objects.requireNonNull(executorLabel, "executorLabel");
            Objects.requireNonNull(resolver, "resolver");
        }
    }

    /** The task runs the DAG of component {@code component}, planned under that name in {@link #dags()}. */
    public record SubDagStep(String component) implements Step {
        public SubDagStep {
            Objects.requireNonNull(component, "component");
        }
    }

    /** Where an input parameter's value comes from. */
    public sealed interface ParameterBinding permits Supplied, Defaulted, LoopItem, Omitted {
    }

    /** The task passes it: from the enclosing component, an upstream task, a constant or a final status. */
    public record Supplied(PipelineTask.ParameterInput input) implements ParameterBinding {
        public Supplied {
            Objects.requireNonNull(input, "input");
        }
    }

    /** The task does not pass it; the component's default applies. */
    public record Defaulted(JsonNode value) implements ParameterBinding {
        public Defaulted {
            value = value.deepCopy();
        }
    }

    /** Each iteration of the task's loop sets it to one item. */
    public record LoopItem() implements ParameterBinding, ArtifactBinding {
    }

    /** An optional input that nothing supplies. */
    public record Omitted() implements ParameterBinding, ArtifactBinding {
    }

    /** Where an input artifact comes from. */
    public sealed interface ArtifactBinding permits SuppliedArtifact, LoopItem, Omitted {
    }

    public record SuppliedArtifact(PipelineTask.ArtifactInput input) implements ArtifactBinding {
        public SuppliedArtifact {
            Objects.requireNonNull(input, "input");
        }
    }
}
