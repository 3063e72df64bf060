package io.capstan.pipelines;

import io.capstan.core.InvalidSpecException;
import io.capstan.pipelines.ExecutionPlan.ArtifactBinding;
import io.capstan.pipelines.ExecutionPlan.DagPlan;
import io.capstan.pipelines.ExecutionPlan.ParameterBinding;
import io.capstan.pipelines.ExecutionPlan.TaskPlan;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * Turns a pipeline into an {@link ExecutionPlan}. It validates first, so a plan exists only for a valid pipeline.
 * Stateless apart from its validator; thread-safe.
 */
public final class PipelinePlanner {
    private final PipelineValidator validator;

    public PipelinePlanner(PipelineValidator validator) {
        this.validator = Objects.requireNonNull(validator, "validator");
    }

    /**
     * @throws InvalidSpecException when the pipeline is not valid, listing every problem
     */
    public ExecutionPlan plan(ParsedPipeline pipeline) {
        validator.validate(pipeline);
        var spec = pipeline.spec();
        var dags = new LinkedHashMap<String, DagPlan>();
        dags.put(PipelineSpec.ROOT, planDag(spec, PipelineSpec.ROOT, spec.root()));
        spec.components().forEach((name, component) -> {
            if (component.body() instanceof ComponentSpec.DagBody) dags.put(name, planDag(spec, name, component));
        });
        return new ExecutionPlan(spec.pipelineInfo().name(), dags, pipeline.warnings());
    }

    /** The tasks {@code task} waits for: its dependentTasks and the producers of its inputs, in that order. */
    static Set<String> upstreamOf(PipelineTask task) {
        var up = new LinkedHashSet<>(task.dependentTasks());
        task.parameters().values().forEach(p -> {
            switch (p.source()) {
                case PipelineTask.TaskOutputParameter t -> up.add(t.producerTask());
                case PipelineTask.TaskFinalStatus f -> up.add(f.producerTask());
                case PipelineTask.ComponentInputParameter c -> {
                }
                case PipelineTask.RuntimeConstant c -> {
                }
            }
        });
        task.artifacts().values().forEach(a -> {
            switch (a) {
                case PipelineTask.TaskOutputArtifact t -> up.add(t.producerTask());
                case PipelineTask.ComponentInputArtifact c -> {
                }
            }
        });
        up.remove("");
        return up;
    }

    private static DagPlan planDag(PipelineSpec spec, String name, ComponentSpec component) {
        var dag = ((ComponentSpec.DagBody) component.body()).dag();
        var plans = new LinkedHashMap<String, TaskPlan>();
        dag.tasks().forEach((taskName, task) -> plans.put(taskName, planTask(spec, task)));
        return new DagPlan(name, topologicalOrder(name, plans), dag);
    }

    /** Kahn's algorithm; among ready tasks the one written first goes first, so plans are reproducible. */
    private static List<TaskPlan> topologicalOrder(String dagName, Map<String, TaskPlan> plans) {
        var index = new HashMap<String, Integer>();
        var names = new ArrayList<>(plans.keySet());
        for (int i = 0; i < names.size(); i++) index.put(names.get(i), i);
        var waiting = new HashMap<String, Integer>();
        var downstream = new HashMap<String, List<String>>();
        plans.forEach((n, plan) -> {
            waiting.put(n, plan.upstream().size());
            plan.upstream().forEach(up -> downstream.computeIfAbsent(up, k -> new ArrayList<>()).add(n));
        });
        var ready = new PriorityQueue<String>((a, b) -> Integer.compare(index.get(a), index.get(b)));
        waiting.forEach((n, count) -> {
            if (count == 0) ready.add(n);
        });
        var order = new ArrayList<TaskPlan>();
        while (!ready.isEmpty()) {
            var next = ready.poll();
            order.add(plans.get(next));
            for (var down : downstream.getOrDefault(next, List.of())) {
                if (waiting.merge(down, -1, Integer::sum) == 0) ready.add(down);
            }
        }
        if (order.size() != plans.size()) {
            // The validator rejects cycles, so reaching this is a bug in one of the two.
            throw new IllegalStateException("DAG '" + dagName + "' has a cycle that validation did not report");
        }
        return order;
    }

    private static TaskPlan planTask(PipelineSpec spec, PipelineTask task) {
        var component = spec.components().get(task.componentRef());
        var step = switch (component.body()) {
            case ComponentSpec.DagBody d -> new ExecutionPlan.SubDagStep(task.componentRef());
            case ComponentSpec.ExecutorBody e -> step(e.executorLabel(), spec.executors().get(e.executorLabel()));
        };
        var itemInput = switch (task.iteration()) {
            case PipelineTask.NoIteration n -> "";
            case PipelineTask.ParameterIteration it -> it.itemInput();
            case PipelineTask.ArtifactIteration it -> it.itemInput();
        };
        var parameters = new LinkedHashMap<String, ParameterBinding>();
        component.inputs().parameters().forEach((input, def) -> {
            var supplied = task.parameters().get(input);
            ParameterBinding binding;
            if (supplied != null) binding = new ExecutionPlan.Supplied(supplied);
            else if (input.equals(itemInput)) binding = new ExecutionPlan.LoopItem();
            else if (def.hasDefault()) binding = new ExecutionPlan.Defaulted(def.defaultValue());
            else binding = new ExecutionPlan.Omitted();
            parameters.put(input, binding);
        });
        var artifacts = new LinkedHashMap<String, ArtifactBinding>();
        component.inputs().artifacts().forEach((input, def) -> {
            var supplied = task.artifacts().get(input);
            ArtifactBinding binding;
            if (supplied != null) binding = new ExecutionPlan.SuppliedArtifact(supplied);
            else if (input.equals(itemInput)) binding = new ExecutionPlan.LoopItem();
            else binding = new ExecutionPlan.Omitted();
            artifacts.put(input, binding);
        });
        return new TaskPlan(task.name(), task.componentRef(), step, List.copyOf(upstreamOf(task)), parameters, artifacts, task);
    }

    private static ExecutionPlan.Step step(String label, ExecutorSpec executor) {
        return switch (executor) {
            case ExecutorSpec.Container c -> new ExecutionPlan.ContainerStep(label, c);
            case ExecutorSpec.Importer i -> new ExecutionPlan.ImporterStep(label, i);
            case ExecutorSpec.Resolver r -> new ExecutionPlan.ResolverStep(label, r);
        };
    }
}
