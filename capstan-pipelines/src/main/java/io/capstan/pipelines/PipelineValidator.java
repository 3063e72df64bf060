package io.capstan.pipelines;

import io.capstan.core.FieldError;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import io.capstan.core.Problems;
import io.capstan.core.Quantity;
import io.capstan.pipelines.ComponentSpec.DagBody;
import io.capstan.pipelines.ComponentSpec.ExecutorBody;
import io.capstan.pipelines.PipelineTask.ArtifactIteration;
import io.capstan.pipelines.PipelineTask.ComponentInputArtifact;
import io.capstan.pipelines.PipelineTask.ComponentInputParameter;
import io.capstan.pipelines.PipelineTask.InputItems;
import io.capstan.pipelines.PipelineTask.NoIteration;
import io.capstan.pipelines.PipelineTask.ParameterIteration;
import io.capstan.pipelines.PipelineTask.RawItems;
import io.capstan.pipelines.PipelineTask.RuntimeConstant;
import io.capstan.pipelines.PipelineTask.TaskFinalStatus;
import io.capstan.pipelines.PipelineTask.TaskOutputArtifact;
import io.capstan.pipelines.PipelineTask.TaskOutputParameter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Checks a parsed pipeline's cross-references and types: cycles, dangling task, component and executor
 * references, producer/consumer type mismatches, missing required inputs, unknown placeholders and malformed
 * conditions. Every problem names its field path and line and says what to fix.
 *
 * <p>Thread-safe; construct once and share.
 */
public final class PipelineValidator {
    private final Conditions conditions;

    public PipelineValidator() {
        this.conditions = new Conditions();
    }

    /** Every problem found, each placed on its line; empty when the pipeline is valid. */
    public List<FieldError> check(ParsedPipeline pipeline) {
        Objects.requireNonNull(pipeline, "pipeline");
        var problems = new Problems();
        new Check(pipeline.spec(), problems, conditions).run();
        return problems.errors().stream().map(pipeline::locate).toList();
    }

    /**
     * @throws InvalidSpecException listing every problem, when the pipeline is not valid
     */
    public void validate(ParsedPipeline pipeline) {
        var errors = check(pipeline);
        if (!errors.isEmpty()) throw new InvalidSpecException(errors);
    }

    static String componentPath(String component) {
        return PipelineSpec.ROOT.equals(component) ? "root" : "components." + component;
    }

    /** One validation pass over one spec. */
    private static final class Check {
        private final PipelineSpec spec;
        private final Problems problems;
        private final Conditions conditions;
        /** For each component, the parameters that every task running it passes. */
        private Map<String, Set<String>> passedParameters = Map.of();

        Check(PipelineSpec spec, Problems problems, Conditions conditions) {
            this.spec = spec;
            this.problems = problems;
            this.conditions = conditions;
        }

        void run() {
            passedParameters = passedParameters();
            var all = new LinkedHashMap<String, ComponentSpec>();
            all.put(PipelineSpec.ROOT, spec.root());
            spec.components().forEach(all::putIfAbsent);
            all.forEach((name, component) -> {
                switch (component.body()) {
                    case DagBody d -> checkDag(name, component, d.dag());
                    case ExecutorBody e -> checkExecutorRef(name, component, e.executorLabel());
                }
            });
            checkComponentRecursion();
        }

        private Map<String, Set<String>> passedParameters() {
            var passed = new HashMap<String, Set<String>>();
            var dags = new ArrayList<DagSpec>();
            if (spec.root().body() instanceof DagBody d) dags.add(d.dag());
            spec.components().values().forEach(c -> {
                if (c.body() instanceof DagBody d) dags.add(d.dag());
            });
            for (var dag : dags) {
                for (var task : dag.tasks().values()) {
                    passed.merge(task.componentRef(), new LinkedHashSet<>(task.parameters().keySet()), (a, b) -> {
                        a.retainAll(b);
                        return a;
                    });
                }
            }
            return passed;
        }

        /** Constant resource values must be quantities; placeholders are checked when the step starts. */
        private void checkQuantities(ExecutorSpec.Resources r, String path) {
            var quantities = new LinkedHashMap<String, String>();
            quantities.put("resourceCpuLimit", r.cpuLimit());
            quantities.put("resourceMemoryLimit", r.memoryLimit());
            quantities.put("resourceCpuRequest", r.cpuRequest());
            quantities.put("resourceMemoryRequest", r.memoryRequest());
            quantities.forEach((field, value) -> {
                if (value.isEmpty() || value.contains("{{$")) return;
                try {
                    Quantity.parse(path + "." + field, value);
                } catch (InvalidSpecException e) {
                    e.errors().forEach(err -> problems.add(err.path(), err.message()));
                }
            });
            var count = r.acceleratorCount();
            if (!count.isEmpty() && !count.contains("{{$") && !count.strip().matches("[0-9]{1,9}")) {
                problems.add(path + ".accelerator.resourceCount", "'" + Names.printable(count) + "' is not a number of accelerators; write a whole number such as 1");
            }
        }

        private void checkExecutorRef(String name, ComponentSpec component, String label) {
            var executor = spec.executors().get(label);
            var path = componentPath(name) + ".executorLabel";
            if (executor == null) {
                problems.add(path, "component '" + Names.printable(name) + "' names executor '" + Names.printable(label)
                        + "', which deploymentSpec.executors does not define; add the executor or fix the label"
                        + hintUnknownTopLevel("deploymentSpec"));
                return;
            }
            var execPath = "deploymentSpec.executors." + label;
            var passed = passedParameters.getOrDefault(name, Set.of());
            switch (executor) {
                case ExecutorSpec.Container c -> {
                    checkStrings(c.command(), execPath + ".container.command", component, passed);
                    checkStrings(c.args(), execPath + ".container.args", component, passed);
                    for (int i = 0; i < c.env().size(); i++) {
                        checkString(c.env().get(i).value(), execPath + ".container.env[" + i + "].value", component, passed);
                    }
                    for (var v : c.resources().values()) checkString(v, execPath + ".container.resources", component, passed);
                    checkQuantities(c.resources(), execPath + ".container.resources");
                    checkString(c.image(), execPath + ".container.image", component, passed);
                }
                case ExecutorSpec.Importer imp -> {
                    if (!imp.uriRuntimeParameter().isEmpty() && !component.inputs().parameters().containsKey(imp.uriRuntimeParameter())) {
                        problems.add(execPath + ".importer.artifactUri.runtimeParameter", "names input parameter '"
                                + Names.printable(imp.uriRuntimeParameter()) + "', which component '" + Names.printable(name)
                                + "' does not declare in inputDefinitions.parameters");
                    }
                    checkString(imp.uriConstant(), execPath + ".importer.artifactUri.constant", component, passed);
                }
                case ExecutorSpec.Resolver r -> {
                    // Resolver queries are kept as written; the engine reports them as unsupported when run.
                }
            }
        }

        private void checkStrings(List<String> values, String path, ComponentSpec component, Set<String> passed) {
            for (int i = 0; i < values.size(); i++) checkString(values.get(i), path + "[" + i + "]", component, passed);
        }

        private void checkString(String value, String path, ComponentSpec component, Set<String> passed) {
            if (!value.contains("{{$") && !value.contains("\"IfPresent\"") && !value.contains("\"Concat\"")) return;
            for (var p : Placeholders.check(value, component, passed)) problems.add(path, p);
        }

        /** A component whose DAG reaches itself again would expand forever. */
        private void checkComponentRecursion() {
            var state = new HashMap<String, Integer>();
            var stack = new ArrayList<String>();
            for (var name : spec.components().keySet()) visitComponent(name, state, stack);
        }

        private void visitComponent(String name, Map<String, Integer> state, List<String> stack) {
            var s = state.getOrDefault(name, 0);
            if (s == 2) return;
            if (s == 1) {
                var cycle = new ArrayList<>(stack.subList(stack.indexOf(name), stack.size()));
                cycle.add(name);
                problems.add(componentPath(name) + ".dag", "component '" + Names.printable(name) + "' contains itself through "
                        + String.join(" → ", cycle) + "; KFP components cannot recurse, so break the cycle");
                return;
            }
            var component = spec.components().get(name);
            if (component == null || !(component.body() instanceof DagBody dag)) {
                state.put(name, 2);
                return;
            }
            state.put(name, 1);
            stack.add(name);
            for (var task : dag.dag().tasks().values()) {
                if (spec.components().containsKey(task.componentRef())) visitComponent(task.componentRef(), state, stack);
            }
            stack.remove(stack.size() - 1);
            state.put(name, 2);
        }

        private String hintUnknownTopLevel(String expected) {
            var unknown = new ArrayList<String>();
            spec.raw().fieldNames().forEachRemaining(f -> {
                if (!f.equals(expected) && f.startsWith(expected.substring(0, Math.min(5, expected.length())))) unknown.add(f);
            });
            if (unknown.isEmpty() || spec.raw().has(expected)) return "";
            return "; the document has no '" + expected + "' but has the unknown top-level field '" + Names.printable(unknown.get(0))
                    + "': did you mean '" + expected + "'?";
        }

        private void checkDag(String owner, ComponentSpec component, DagSpec dag) {
            var dagPath = componentPath(owner) + ".dag";
            dag.tasks().forEach((name, task) -> checkTask(owner, component, dag, task, dagPath + ".tasks." + name));
            checkCycles(dag, dagPath);
            checkDagOutputs(owner, component, dag, dagPath);
        }

        private void checkTask(String owner, ComponentSpec enclosing, DagSpec dag, PipelineTask task, String path) {
            for (int i = 0; i < task.dependentTasks().size(); i++) {
                var dep = task.dependentTasks().get(i);
                if (dep.equals(task.name())) {
                    problems.add(path + ".dependentTasks[" + i + "]", "task '" + Names.printable(task.name()) + "' depends on itself; remove it from dependentTasks");
                } else if (!dag.tasks().containsKey(dep)) {
                    problems.add(path + ".dependentTasks[" + i + "]", danglingTask(dep, dag));
                }
            }
            var component = spec.components().get(task.componentRef());
            if (component == null) {
                if (!task.componentRef().isEmpty()) {
                    problems.add(path + ".componentRef.name", "task '" + Names.printable(task.name()) + "' runs component '"
                            + Names.printable(task.componentRef()) + "', which 'components' does not define; add the component or fix the reference"
                            + hintUnknownTopLevel("components"));
                }
                return;
            }
            checkParameters(enclosing, dag, task, component, path);
            checkArtifacts(enclosing, dag, task, component, path);
            checkRequiredInputs(task, component, path);
            checkIteration(task, component, path);
            checkCondition(task, path);
        }

        private static String danglingTask(String name, DagSpec dag) {
            return "names task '" + Names.printable(name) + "', which is not a task of this DAG; tasks can only refer to siblings"
                    + (dag.tasks().isEmpty() ? "" : " (" + String.join(", ", dag.tasks().keySet().stream().limit(20).toList()) + ")");
        }

        private void checkParameters(ComponentSpec enclosing, DagSpec dag, PipelineTask task, ComponentSpec component, String path) {
            task.parameters().forEach((input, binding) -> {
                var p = path + ".inputs.parameters." + input;
                var declared = component.inputs().parameters().get(input);
                // A task may pass parameters its component does not declare: the SDK does so for values that
                // f-string constants and resource placeholders of the same task read. So only declared ones are typed.
                var checkType = declared != null && !binding.hasSelector();
                switch (binding.source()) {
                    case ComponentInputParameter c -> {
                        var from = enclosing.inputs().parameters().get(c.name());
                        if (from == null) {
                            problems.add(p + ".componentInputParameter", "names '" + Names.printable(c.name())
                                    + "', which is not an input parameter of the enclosing component; declare it in its inputDefinitions.parameters");
                        } else if (checkType && !declared.type().accepts(from.type())) {
                            problems.add(p + ".componentInputParameter", typeMismatch(input, declared.type(), "input '" + c.name() + "'", from.type()));
                        }
                    }
                    case TaskOutputParameter t -> {
                        var producer = producer(dag, task, t.producerTask(), p + ".taskOutputParameter.producerTask");
                        if (producer != null) {
                            var out = producer.outputs().parameters().get(t.outputKey());
                            if (out == null) {
                                problems.add(p + ".taskOutputParameter.outputParameterKey", "task '" + Names.printable(t.producerTask())
                                        + "' has no output parameter '" + Names.printable(t.outputKey()) + "'"
                                        + declaredList(producer.outputs().parameters().keySet()));
                            } else if (checkType && !declared.type().accepts(out.type())) {
                                problems.add(p + ".taskOutputParameter", typeMismatch(input, declared.type(),
                                        "output '" + t.outputKey() + "' of task '" + t.producerTask() + "'", out.type()));
                            }
                        }
                    }
                    case RuntimeConstant c -> {
                        for (var problem : Placeholders.checkConstant(c.value(), task.parameters().keySet())) {
                            problems.add(p + ".runtimeValue.constant", problem);
                        }
                        if (checkType && declared.type() != ParameterType.STRING && !declared.type().admits(c.value())
                                && !c.value().isTextual()) {
                            problems.add(p + ".runtimeValue.constant", "is " + IrReader.describe(c.value()) + ", but input '"
                                    + Names.printable(input) + "' is " + declared.type().wireName() + "; pass a value of that type");
                        }
                    }
                    case TaskFinalStatus f -> {
                        producer(dag, task, f.producerTask(), p + ".taskFinalStatus.producerTask");
                        if (declared != null && declared.type() != ParameterType.TASK_FINAL_STATUS) {
                            problems.add(p + ".taskFinalStatus", "input '" + Names.printable(input) + "' is " + declared.type().wireName()
                                    + ", but a task's final status is TASK_FINAL_STATUS; declare the input as PipelineTaskFinalStatus");
                        }
                    }
                }
            });
        }

        private ComponentSpec producer(DagSpec dag, PipelineTask task, String producerName, String path) {
            if (producerName.isEmpty()) return null;
            if (producerName.equals(task.name())) {
                problems.add(path, "task '" + Names.printable(task.name()) + "' consumes its own output; a task cannot depend on itself");
                return null;
            }
            var producer = dag.tasks().get(producerName);
            if (producer == null) {
                problems.add(path, danglingTask(producerName, dag));
                return null;
            }
            return spec.components().get(producer.componentRef());
        }

        private static String declaredList(Set<String> names) {
            return names.isEmpty() ? "; it declares none" : "; it declares " + String.join(", ", names);
        }

        private static String typeMismatch(String input, ParameterType consumer, String producer, ParameterType produced) {
            return "type mismatch: input '" + Names.printable(input) + "' is " + consumer.wireName() + " but its value comes from "
                    + Names.printable(producer) + ", which is " + produced.wireName() + "; make the two types agree";
        }

        private void checkArtifacts(ComponentSpec enclosing, DagSpec dag, PipelineTask task, ComponentSpec component, String path) {
            task.artifacts().forEach((input, source) -> {
                var p = path + ".inputs.artifacts." + input;
                var declared = component.inputs().artifacts().get(input);
                if (declared == null) {
                    problems.add(p, "task '" + Names.printable(task.name()) + "' passes artifact '" + Names.printable(input)
                            + "', which component '" + Names.printable(task.componentRef()) + "' does not declare in inputDefinitions.artifacts");
                }
                switch (source) {
                    case ComponentInputArtifact c -> {
                        var from = enclosing.inputs().artifacts().get(c.name());
                        if (from == null) {
                            problems.add(p + ".componentInputArtifact", "names '" + Names.printable(c.name())
                                    + "', which is not an input artifact of the enclosing component; declare it in its inputDefinitions.artifacts");
                        } else if (declared != null && !declared.type().accepts(from.type())) {
                            problems.add(p + ".componentInputArtifact", artifactMismatch(input, declared.type(), "input '" + c.name() + "'", from.type()));
                        }
                    }
                    case TaskOutputArtifact t -> {
                        var producer = producer(dag, task, t.producerTask(), p + ".taskOutputArtifact.producerTask");
                        if (producer != null) {
                            var out = producer.outputs().artifacts().get(t.outputKey());
                            if (out == null) {
                                problems.add(p + ".taskOutputArtifact.outputArtifactKey", "task '" + Names.printable(t.producerTask())
                                        + "' has no output artifact '" + Names.printable(t.outputKey()) + "'"
                                        + declaredList(producer.outputs().artifacts().keySet()));
                            } else if (declared != null && !declared.type().accepts(out.type())) {
                                problems.add(p + ".taskOutputArtifact", artifactMismatch(input, declared.type(),
                                        "output '" + t.outputKey() + "' of task '" + t.producerTask() + "'", out.type()));
                            }
                        }
                    }
                }
            });
        }

        private static String artifactMismatch(String input, ArtifactType consumer, String producer, ArtifactType produced) {
            return "type mismatch: input artifact '" + Names.printable(input) + "' is " + Names.printable(consumer.schemaTitle())
                    + " but its artifact comes from " + Names.printable(producer) + ", which is " + Names.printable(produced.schemaTitle())
                    + "; make the two artifact types agree (or use system.Artifact)";
        }

        private void checkRequiredInputs(PipelineTask task, ComponentSpec component, String path) {
            var itemInput = switch (task.iteration()) {
                case NoIteration n -> "";
                case ParameterIteration it -> it.itemInput();
                case ArtifactIteration it -> it.itemInput();
            };
            component.inputs().parameters().forEach((name, def) -> {
                if (!def.isOptional() && !def.hasDefault() && !task.parameters().containsKey(name) && !name.equals(itemInput)) {
                    problems.add(path + ".inputs.parameters", "missing required input: component '" + Names.printable(task.componentRef())
                            + "' requires parameter '" + Names.printable(name) + "' (" + def.type().wireName() + "), which task '"
                            + Names.printable(task.name()) + "' does not pass; pass it under inputs.parameters or give it a defaultValue");
                }
            });
            component.inputs().artifacts().forEach((name, def) -> {
                if (!def.isOptional() && !task.artifacts().containsKey(name) && !name.equals(itemInput)) {
                    problems.add(path + ".inputs.artifacts", "missing required input: component '" + Names.printable(task.componentRef())
                            + "' requires artifact '" + Names.printable(name) + "' (" + Names.printable(def.type().schemaTitle())
                            + "), which task '" + Names.printable(task.name()) + "' does not pass; pass it under inputs.artifacts or mark it isOptional");
                }
            });
        }

        private void checkIteration(PipelineTask task, ComponentSpec component, String path) {
            switch (task.iteration()) {
                case NoIteration n -> {
                }
                case ParameterIteration it -> {
                    var p = path + ".parameterIterator";
                    if (!it.itemInput().isEmpty() && !component.inputs().parameters().containsKey(it.itemInput())) {
                        problems.add(p + ".itemInput", "names '" + Names.printable(it.itemInput()) + "', which component '"
                                + Names.printable(task.componentRef()) + "' does not declare in inputDefinitions.parameters");
                    }
                    switch (it.items()) {
                        case InputItems items -> {
                            if (!task.parameters().containsKey(items.inputParameter())) {
                                problems.add(p + ".items.inputParameter", "names '" + Names.printable(items.inputParameter())
                                        + "', which is not an input parameter of task '" + Names.printable(task.name()) + "'; pass the list under inputs.parameters");
                            }
                        }
                        case RawItems raw -> {
                        }
                    }
                }
                case ArtifactIteration it -> {
                    var p = path + ".artifactIterator";
                    if (!it.itemInput().isEmpty() && !component.inputs().artifacts().containsKey(it.itemInput())) {
                        problems.add(p + ".itemInput", "names '" + Names.printable(it.itemInput()) + "', which component '"
                                + Names.printable(task.componentRef()) + "' does not declare in inputDefinitions.artifacts");
                    }
                    if (!it.inputArtifact().isEmpty() && !task.artifacts().containsKey(it.inputArtifact())) {
                        problems.add(p + ".items.inputArtifact", "names '" + Names.printable(it.inputArtifact())
                                + "', which is not an input artifact of task '" + Names.printable(task.name()) + "'; pass the list under inputs.artifacts");
                    }
                }
            }
        }

        private void checkCondition(PipelineTask task, String path) {
            if (!task.triggerPolicy().hasCondition()) return;
            var condition = task.triggerPolicy().condition();
            var p = path + ".triggerPolicy.condition";
            conditions.syntaxError(condition).ifPresent(error ->
                    problems.add(p, "is not a valid CEL expression: " + error));
            for (var name : Conditions.parameterReferences(condition)) {
                if (!task.parameters().containsKey(name)) {
                    problems.add(p, "reads inputs.parameter_values['" + Names.printable(name) + "'], which task '"
                            + Names.printable(task.name()) + "' does not pass; add it under inputs.parameters");
                }
            }
        }

        /** Every task's upstream: its dependentTasks and the producers of its inputs. */
        static Map<String, Set<String>> upstream(DagSpec dag) {
            var edges = new LinkedHashMap<String, Set<String>>();
            dag.tasks().forEach((name, task) -> edges.put(name, PipelinePlanner.upstreamOf(task)));
            return edges;
        }

        private void checkCycles(DagSpec dag, String dagPath) {
            var edges = upstream(dag);
            var state = new HashMap<String, Integer>();
            var reported = new LinkedHashSet<Set<String>>();
            for (var name : edges.keySet()) {
                var stack = new ArrayList<String>();
                findCycle(name, edges, state, stack, dagPath, reported);
            }
        }

        private void findCycle(String name, Map<String, Set<String>> edges, Map<String, Integer> state, List<String> stack,
                               String dagPath, Set<Set<String>> reported) {
            var s = state.getOrDefault(name, 0);
            if (s == 2 || !edges.containsKey(name)) return;
            if (s == 1) {
                var cycle = new ArrayList<>(stack.subList(stack.indexOf(name), stack.size()));
                if (cycle.size() > 1 && reported.add(Set.copyOf(cycle))) {
                    cycle.add(name);
                    problems.add(dagPath + ".tasks." + name, "tasks form a cycle: " + String.join(" → ", cycle.reversed())
                            + " (through dependentTasks and data dependencies); remove one of these dependencies");
                }
                return;
            }
            state.put(name, 1);
            stack.add(name);
            for (var up : edges.get(name)) {
                if (!up.equals(name)) findCycle(up, edges, state, stack, dagPath, reported);
            }
            stack.remove(stack.size() - 1);
            state.put(name, 2);
        }

        private void checkDagOutputs(String owner, ComponentSpec component, DagSpec dag, String dagPath) {
            dag.outputParameters().forEach((name, source) -> {
                var p = dagPath + ".outputs.parameters." + name;
                var selectors = switch (source) {
                    case DagSpec.FromParameter f -> List.of(f.selector());
                    case DagSpec.FromOneOf o -> o.selectors();
                };
                for (var sel : selectors) checkSelector(dag, sel, p, true);
                if (!component.outputs().parameters().containsKey(name)) {
                    problems.add(p, "DAG output parameter '" + Names.printable(name) + "' is not declared in "
                            + componentPath(owner) + ".outputDefinitions.parameters; declare it or remove it");
                }
            });
            dag.outputArtifacts().forEach((name, selectors) -> {
                var p = dagPath + ".outputs.artifacts." + name;
                for (var sel : selectors) checkSelector(dag, sel, p, false);
                if (!component.outputs().artifacts().containsKey(name)) {
                    problems.add(p, "DAG output artifact '" + Names.printable(name) + "' is not declared in "
                            + componentPath(owner) + ".outputDefinitions.artifacts; declare it or remove it");
                }
            });
        }

        private void checkSelector(DagSpec dag, DagSpec.Selector sel, String path, boolean parameter) {
            if (sel.producerSubtask().isEmpty()) return;
            var task = dag.tasks().get(sel.producerSubtask());
            if (task == null) {
                problems.add(path, "producerSubtask " + danglingTask(sel.producerSubtask(), dag));
                return;
            }
            var producer = spec.components().get(task.componentRef());
            if (producer == null) return;
            var outputs = parameter ? producer.outputs().parameters().keySet() : producer.outputs().artifacts().keySet();
            if (!sel.outputKey().isEmpty() && !outputs.contains(sel.outputKey())) {
                problems.add(path, "task '" + Names.printable(sel.producerSubtask()) + "' has no output "
                        + (parameter ? "parameter" : "artifact") + " '" + Names.printable(sel.outputKey()) + "'" + declaredList(outputs));
            }
        }
    }
}
