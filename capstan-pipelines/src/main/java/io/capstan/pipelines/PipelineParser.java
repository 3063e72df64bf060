package io.capstan.pipelines;

import static io.capstan.pipelines.IrReader.child;
import static io.capstan.pipelines.IrReader.describe;
import static io.capstan.pipelines.IrReader.field;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
import io.capstan.core.DocumentReader;
import io.capstan.core.FieldError;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import io.capstan.core.LocatedDocument;
import io.capstan.core.Names;
import io.capstan.core.Problems;
import io.capstan.pipelines.ComponentSpec.ArtifactDef;
import io.capstan.pipelines.ComponentSpec.Interface;
import io.capstan.pipelines.ComponentSpec.ParameterDef;
import io.capstan.pipelines.PipelineTask.ArtifactInput;
import io.capstan.pipelines.PipelineTask.ParameterInput;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Reads a KFP v2 compiled pipeline: YAML or JSON text holding a {@code PipelineSpec} and, optionally, a second
 * document with the platform spec. Parsing checks shapes and types of fields only; cross-references are the
 * {@link PipelineValidator}'s job.
 *
 * <p>Stateless and thread-safe. Input size and nesting are bounded by {@link DocumentReader}.
 */
public final class PipelineParser {
    private static final Set<String> TOP = Set.of("pipelineInfo", "root", "components", "deploymentSpec",
            "schemaVersion", "sdkVersion", "defaultPipelineRoot");
    private static final Set<String> INFO = Set.of("name", "displayName", "description");
    private static final Set<String> COMPONENT = Set.of("inputDefinitions", "outputDefinitions", "dag", "executorLabel");
    private static final Set<String> INTERFACE = Set.of("parameters", "artifacts");
    private static final Set<String> PARAMETER_DEF = Set.of("parameterType", "type", "defaultValue", "isOptional", "description");
    private static final Set<String> ARTIFACT_DEF = Set.of("artifactType", "isArtifactList", "isOptional", "description");
    private static final Set<String> ARTIFACT_TYPE = Set.of("schemaTitle", "schemaVersion", "instanceSchema");
    private static final Set<String> DAG = Set.of("tasks", "outputs");
    private static final Set<String> TASK = Set.of("taskInfo", "componentRef", "inputs", "dependentTasks", "cachingOptions",
            "triggerPolicy", "parameterIterator", "artifactIterator", "iteratorPolicy", "retryPolicy");
    private static final Set<String> PARAMETER_INPUT = Set.of("componentInputParameter", "taskOutputParameter",
            "runtimeValue", "taskFinalStatus", "parameterExpressionSelector");
    private static final List<String> PARAMETER_SOURCES = List.of("componentInputParameter", "taskOutputParameter",
            "runtimeValue", "taskFinalStatus");
    private static final List<String> ARTIFACT_SOURCES = List.of("componentInputArtifact", "taskOutputArtifact");
    private static final Set<String> CONTAINER = Set.of("image", "command", "args", "env", "resources", "lifecycle");
    private static final Set<String> RESOURCES = Set.of("cpuLimit", "memoryLimit", "cpuRequest", "memoryRequest",
            "resourceCpuLimit", "resourceMemoryLimit", "resourceCpuRequest", "resourceMemoryRequest", "accelerator");
    private static final Set<String> IMPORTER = Set.of("artifactUri", "typeSchema", "metadata", "reimport", "downloadToWorkspace");

    public PipelineParser() {
    }

    /**
     * Parses {@code text}, read from {@code source} (a file or request name used in messages).
     *
     * @throws InvalidSpecException listing every problem with its field path and line: malformed or hostile
     *                              input, a missing required field, a field of the wrong type
     */
    public ParsedPipeline parse(String source, String text) {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(text, "text");
        var docs = DocumentReader.read(source, text);
        if (docs.isEmpty()) {
            throw new InvalidSpecException(List.of(new FieldError(source, 0, "", 0,
                    "the input is empty (or only comments); expected a KFP PipelineSpec with pipelineInfo, root, components and deploymentSpec")));
        }
        if (docs.size() > 2) {
            var extra = docs.get(2);
            throw new InvalidSpecException(List.of(extra.locate(FieldError.of("",
                    "a compiled pipeline has at most two documents, the PipelineSpec and its platform spec; found " + docs.size()))));
        }
        var doc = docs.get(0);
        var problems = new Problems();
        var warnings = new ArrayList<PipelineWarning>();
        var spec = new SpecReader(new IrReader(problems, warnings)).read(doc.root());
        var located = new ArrayList<FieldError>();
        problems.errors().forEach(e -> located.add(doc.locate(e)));

        var platform = PlatformSpec.NONE;
        if (docs.size() == 2) {
            var platformDoc = docs.get(1);
            var platformProblems = new Problems();
            platform = readPlatform(platformDoc, spec, platformProblems, warnings);
            platformProblems.errors().forEach(e -> located.add(platformDoc.locate(e)));
        }
        if (!located.isEmpty()) throw new InvalidSpecException(located);
        return new ParsedPipeline(spec, platform, warnings, doc);
    }

    private static PlatformSpec readPlatform(LocatedDocument doc, PipelineSpec spec, Problems problems, List<PipelineWarning> warnings) {
        var root = doc.root();
        if (!root.isObject() || !root.has("platforms")) {
            problems.add("", "the second document must be a platform spec with a 'platforms' map, got " + describe(root)
                    + "; a compiled pipeline holds one PipelineSpec and at most one platform spec");
            return PlatformSpec.NONE;
        }
        var reader = new IrReader(problems, warnings);
        reader.object(root, "", Set.of("platforms"));
        var platforms = reader.entries(root, "platforms", "");
        platforms.forEach((platformName, body) -> {
            var path = child("platforms", platformName);
            if (!body.isObject()) {
                problems.add(path, "expected an object of platform settings, got " + describe(body));
                return;
            }
            body.fields().forEachRemaining(section -> {
                var sectionPath = child(path, section.getKey());
                if (section.getKey().equals("deploymentSpec") && section.getValue().path("executors").isObject()) {
                    section.getValue().path("executors").fields().forEachRemaining(exec -> {
                        var execPath = child(child(sectionPath, "executors"), exec.getKey());
                        if (!spec.executors().containsKey(exec.getKey())) {
                            warnings.add(new PipelineWarning(execPath, "platform settings name executor '" + Names.printable(exec.getKey())
                                    + "', which deploymentSpec.executors does not define; they are ignored"));
                        }
                        if (!exec.getValue().isObject()) {
                            problems.add(execPath, "expected an object of executor settings, got " + describe(exec.getValue()));
                            return;
                        }
                        exec.getValue().properties().forEach(setting -> {
                            var settingPath = child(execPath, setting.getKey());
                            PlatformSpec.localWarning(platformName, exec.getKey(), setting.getKey(), setting.getValue())
                                    .ifPresent(message -> warnings.add(new PipelineWarning(settingPath, message)));
                            if (platformName.equals("kubernetes")) PlatformSpec.checkApplied(setting.getKey(), setting.getValue(), settingPath, problems);
                        });
                    });
                } else {
                    warnings.add(new PipelineWarning(sectionPath, "platform field '" + Names.printable(section.getKey()) + "' ("
                            + Names.printable(platformName) + ") is accepted but not applied locally"));
                }
            });
        });
        return new PlatformSpec(root);
    }

    /** Walks one PipelineSpec document. */
    private static final class SpecReader {
        private final IrReader in;

        SpecReader(IrReader in) {
            this.in = in;
        }

        PipelineSpec read(JsonNode root) {
            var empty = JsonNodeFactory.instance.objectNode();
            if (!root.isObject()) {
                in.error("", "expected a KFP PipelineSpec object with pipelineInfo, root, components and deploymentSpec, got " + describe(root));
                root = empty;
            } else {
                in.object(root, "", TOP);
            }
            var info = readInfo(root);
            var schemaVersion = in.text(root, "schemaVersion", "");
            if (schemaVersion.isEmpty()) {
                in.error("schemaVersion", "is required; Capstan reads compiled pipelines of schemaVersion 2.1.0 (as written by the KFP SDK 2.x)");
            } else if (!schemaVersion.startsWith("2.")) {
                in.error("schemaVersion", "'" + Names.printable(schemaVersion) + "' is not supported; Capstan reads schemaVersion 2.x (2.1.0); recompile with the KFP SDK 2.x");
            }
            ComponentSpec rootComponent;
            var rootNode = field(root, "root");
            if (rootNode.isMissingNode()) {
                in.error("root", "is required: it holds the pipeline's DAG of tasks");
                rootComponent = emptyComponent();
            } else {
                rootComponent = readComponent(rootNode, "root");
                if (!(rootComponent.body() instanceof ComponentSpec.DagBody) && rootNode.isObject()) {
                    in.error("root", "must have a 'dag' with the pipeline's tasks; a pipeline's root cannot be a single executor");
                }
            }
            var components = new LinkedHashMap<String, ComponentSpec>();
            in.entries(root, "components", "").forEach((name, node) -> components.put(name, readComponent(node, child("components", name))));
            var executors = new LinkedHashMap<String, ExecutorSpec>();
            var deployment = field(root, "deploymentSpec");
            if (!deployment.isMissingNode() && in.object(deployment, "deploymentSpec", Set.of("executors"))) {
                in.entries(deployment, "executors", "deploymentSpec").forEach((label, node) -> {
                    var path = child("deploymentSpec.executors", label);
                    readExecutor(node, path).ifPresent(e -> executors.put(label, e));
                });
            }
            return new PipelineSpec(info, rootComponent, components, executors, schemaVersion,
                    in.text(root, "sdkVersion", ""), in.text(root, "defaultPipelineRoot", ""), root);
        }

        private PipelineSpec.Info readInfo(JsonNode root) {
            var node = field(root, "pipelineInfo");
            if (node.isMissingNode()) {
                in.error("pipelineInfo", "is required: set pipelineInfo.name to the pipeline's name, such as 'my-pipeline'");
                return new PipelineSpec.Info("", "", "");
            }
            if (!in.object(node, "pipelineInfo", INFO)) return new PipelineSpec.Info("", "", "");
            var name = in.text(node, "name", "pipelineInfo");
            var nameNode = field(node, "name");
            if (name.isBlank() && (nameNode.isValueNode() || nameNode.isMissingNode())) {
                in.error("pipelineInfo.name", "is required and must not be empty: the pipeline has no name; set it to a name such as 'my-pipeline'");
            }
            return new PipelineSpec.Info(name, in.text(node, "displayName", "pipelineInfo"), in.text(node, "description", "pipelineInfo"));
        }

        private static ComponentSpec emptyComponent() {
            var empty = JsonNodeFactory.instance.objectNode();
            return new ComponentSpec(Interface.EMPTY, Interface.EMPTY,
                    new ComponentSpec.DagBody(new DagSpec(Map.of(), Map.of(), Map.of())), empty);
        }

        private ComponentSpec readComponent(JsonNode node, String path) {
            if (!in.object(node, path, COMPONENT)) return emptyComponent();
            var inputs = readInterface(field(node, "inputDefinitions"), child(path, "inputDefinitions"));
            var outputs = readInterface(field(node, "outputDefinitions"), child(path, "outputDefinitions"));
            var dag = field(node, "dag");
            var label = in.text(node, "executorLabel", path);
            ComponentSpec.Body body;
            if (!dag.isMissingNode() && !label.isEmpty()) {
                in.error(path, "has both 'dag' and 'executorLabel'; a component either runs a DAG of tasks or one executor, so remove one");
                body = new ComponentSpec.ExecutorBody(label);
            } else if (!dag.isMissingNode()) {
                body = new ComponentSpec.DagBody(readDag(dag, child(path, "dag")));
            } else if (!label.isEmpty()) {
                body = new ComponentSpec.ExecutorBody(label);
            } else {
                in.error(path, "needs either a 'dag' of tasks or an 'executorLabel' naming an entry of deploymentSpec.executors");
                body = new ComponentSpec.DagBody(new DagSpec(Map.of(), Map.of(), Map.of()));
            }
            return new ComponentSpec(inputs, outputs, body, node);
        }

        private Interface readInterface(JsonNode node, String path) {
            if (node.isMissingNode() || !in.object(node, path, INTERFACE)) return Interface.EMPTY;
            var parameters = new LinkedHashMap<String, ParameterDef>();
            in.entries(node, "parameters", path).forEach((name, def) -> {
                var p = child(child(path, "parameters"), name);
                if (!in.object(def, p, PARAMETER_DEF)) return;
                var type = readParameterType(def, p);
                var defaultValue = field(def, "defaultValue");
                if (!defaultValue.isMissingNode() && type != null && type != ParameterType.TASK_FINAL_STATUS && !type.admits(defaultValue)) {
                    in.error(child(p, "defaultValue"), "is " + describe(defaultValue) + ", which is not a " + type.wireName()
                            + "; make the default match parameterType");
                }
                if (type != null) {
                    parameters.put(name, new ParameterDef(type, defaultValue, in.bool(def, "isOptional", p), in.text(def, "description", p)));
                }
            });
            var artifacts = new LinkedHashMap<String, ArtifactDef>();
            in.entries(node, "artifacts", path).forEach((name, def) -> {
                var p = child(child(path, "artifacts"), name);
                if (!in.object(def, p, ARTIFACT_DEF)) return;
                artifacts.put(name, new ArtifactDef(readArtifactType(field(def, "artifactType"), child(p, "artifactType")),
                        in.bool(def, "isArtifactList", p), in.bool(def, "isOptional", p), in.text(def, "description", p)));
            });
            return new Interface(parameters, artifacts);
        }

        private ParameterType readParameterType(JsonNode def, String path) {
            var name = in.text(def, "parameterType", path);
            var fieldName = "parameterType";
            if (name.isEmpty()) {
                name = in.text(def, "type", path);
                fieldName = "type";
            }
            var known = Arrays.stream(ParameterType.values()).map(ParameterType::wireName).collect(Collectors.joining(", "));
            if (name.isEmpty()) {
                in.error(child(path, "parameterType"), "is required; use one of " + known);
                return null;
            }
            var type = ParameterType.fromWire(name);
            if (type.isEmpty()) {
                in.error(child(path, fieldName), "'" + Names.printable(name) + "' is not a KFP parameter type; use one of " + known);
                return null;
            }
            return type.get();
        }

        private ArtifactType readArtifactType(JsonNode node, String path) {
            if (node.isMissingNode()) {
                in.error(path, "is required: give the artifact's schemaTitle, such as system.Dataset");
                return new ArtifactType(ArtifactType.GENERIC, "0.0.1");
            }
            if (!in.object(node, path, ARTIFACT_TYPE)) return new ArtifactType(ArtifactType.GENERIC, "0.0.1");
            var title = in.text(node, "schemaTitle", path);
            if (title.isEmpty()) {
                if (field(node, "instanceSchema").isMissingNode()) {
                    in.error(child(path, "schemaTitle"), "is required: name the artifact type, such as system.Dataset or system.Model");
                }
                title = ArtifactType.GENERIC;
            }
            return new ArtifactType(title, in.text(node, "schemaVersion", path));
        }

        private DagSpec readDag(JsonNode node, String path) {
            if (!in.object(node, path, DAG)) return new DagSpec(Map.of(), Map.of(), Map.of());
            var tasks = new LinkedHashMap<String, PipelineTask>();
            in.entries(node, "tasks", path).forEach((name, task) -> {
                var t = readTask(name, task, child(child(path, "tasks"), name));
                if (t != null) tasks.put(name, t);
            });
            var outputParameters = new LinkedHashMap<String, DagSpec.OutputParameter>();
            var outputArtifacts = new LinkedHashMap<String, List<DagSpec.Selector>>();
            var outputs = field(node, "outputs");
            var outPath = child(path, "outputs");
            if (!outputs.isMissingNode() && in.object(outputs, outPath, INTERFACE)) {
                in.entries(outputs, "parameters", outPath).forEach((name, spec) -> {
                    var p = child(child(outPath, "parameters"), name);
                    if (!in.object(spec, p, Set.of("valueFromParameter", "valueFromOneof"))) return;
                    var single = field(spec, "valueFromParameter");
                    var oneOf = field(spec, "valueFromOneof");
                    if (single.isMissingNode() == oneOf.isMissingNode()) {
                        in.error(p, "needs exactly one of valueFromParameter or valueFromOneof");
                    } else if (!single.isMissingNode()) {
                        outputParameters.put(name, new DagSpec.FromParameter(selector(single, child(p, "valueFromParameter"), "outputParameterKey")));
                    } else if (in.object(oneOf, child(p, "valueFromOneof"), Set.of("parameterSelectors"))) {
                        outputParameters.put(name, new DagSpec.FromOneOf(selectors(oneOf, "parameterSelectors", child(p, "valueFromOneof"), "outputParameterKey")));
                    }
                });
                in.entries(outputs, "artifacts", outPath).forEach((name, spec) -> {
                    var p = child(child(outPath, "artifacts"), name);
                    if (!in.object(spec, p, Set.of("artifactSelectors"))) return;
                    outputArtifacts.put(name, selectors(spec, "artifactSelectors", p, "outputArtifactKey"));
                });
            }
            return new DagSpec(tasks, outputParameters, outputArtifacts);
        }

        private List<DagSpec.Selector> selectors(JsonNode node, String name, String path, String keyField) {
            var list = field(node, name);
            var out = new ArrayList<DagSpec.Selector>();
            if (!list.isArray()) {
                in.error(child(path, name), "expected a list of {producerSubtask, " + keyField + "}, got " + describe(list));
                return out;
            }
            for (int i = 0; i < list.size(); i++) out.add(selector(list.get(i), child(path, name) + "[" + i + "]", keyField));
            return out;
        }

        private DagSpec.Selector selector(JsonNode node, String path, String keyField) {
            if (!in.object(node, path, Set.of("producerSubtask", keyField))) return new DagSpec.Selector("", "");
            return new DagSpec.Selector(
                    in.requiredText(node, "producerSubtask", path, "name the task of this DAG that produces the output"),
                    in.requiredText(node, keyField, path, "name the producer's output"));
        }

        private PipelineTask readTask(String name, JsonNode node, String path) {
            if (!in.object(node, path, TASK)) return null;
            var componentRef = "";
            var ref = field(node, "componentRef");
            if (ref.isMissingNode()) {
                in.error(child(path, "componentRef"), "is required: name the component this task runs, from 'components'");
            } else if (in.object(ref, child(path, "componentRef"), Set.of("name"))) {
                componentRef = in.requiredText(ref, "name", child(path, "componentRef"), "name the component this task runs, from 'components'");
            }
            var displayName = "";
            var info = field(node, "taskInfo");
            if (!info.isMissingNode() && in.object(info, child(path, "taskInfo"), Set.of("name"))) {
                displayName = in.text(info, "name", child(path, "taskInfo"));
            }
            var parameters = new LinkedHashMap<String, ParameterInput>();
            var artifacts = new LinkedHashMap<String, ArtifactInput>();
            var inputs = field(node, "inputs");
            var inPath = child(path, "inputs");
            if (!inputs.isMissingNode() && in.object(inputs, inPath, INTERFACE)) {
                in.entries(inputs, "parameters", inPath).forEach((input, spec) -> {
                    var p = readParameterInput(spec, child(child(inPath, "parameters"), input));
                    if (p != null) parameters.put(input, p);
                });
                in.entries(inputs, "artifacts", inPath).forEach((input, spec) -> {
                    var a = readArtifactInput(spec, child(child(inPath, "artifacts"), input));
                    if (a != null) artifacts.put(input, a);
                });
            }
            var dependentTasks = in.strings(node, "dependentTasks", path);
            var enableCache = false;
            var caching = field(node, "cachingOptions");
            if (!caching.isMissingNode() && in.object(caching, child(path, "cachingOptions"), Set.of("enableCache", "cacheKey"))) {
                enableCache = in.bool(caching, "enableCache", child(path, "cachingOptions"));
            }
            var parallelism = 0L;
            var policy = field(node, "iteratorPolicy");
            if (!policy.isMissingNode() && in.object(policy, child(path, "iteratorPolicy"), Set.of("parallelismLimit"))) {
                parallelism = in.integer(policy, "parallelismLimit", child(path, "iteratorPolicy"));
                if (parallelism < 0 || parallelism > Integer.MAX_VALUE) {
                    in.error(child(path, "iteratorPolicy.parallelismLimit"), "is " + parallelism + "; use 0 for no limit or a positive number of concurrent iterations");
                    parallelism = 0;
                }
            }
            return new PipelineTask(name, displayName, componentRef, parameters, artifacts, dependentTasks,
                    readTrigger(field(node, "triggerPolicy"), child(path, "triggerPolicy")),
                    readIteration(node, path), (int) parallelism, enableCache,
                    readRetry(field(node, "retryPolicy"), child(path, "retryPolicy")), node);
        }

        private ParameterInput readParameterInput(JsonNode node, String path) {
            if (!in.object(node, path, PARAMETER_INPUT)) return null;
            var present = PARAMETER_SOURCES.stream().filter(s -> !field(node, s).isMissingNode()).toList();
            if (present.size() != 1) {
                in.error(path, (present.isEmpty() ? "has no source" : "has several sources " + present)
                        + "; give exactly one of " + String.join(", ", PARAMETER_SOURCES));
                return null;
            }
            var kind = present.get(0);
            var value = field(node, kind);
            var p = child(path, kind);
            PipelineTask.ParameterSource source = switch (kind) {
                case "componentInputParameter" -> {
                    if (!value.isTextual() || value.asText().isEmpty()) {
                        in.error(p, "expected the name of an input of the enclosing component, got " + describe(value));
                    }
                    yield new PipelineTask.ComponentInputParameter(value.asText());
                }
                case "taskOutputParameter" -> {
                    if (!in.object(value, p, Set.of("producerTask", "outputParameterKey"))) yield null;
                    yield new PipelineTask.TaskOutputParameter(
                            in.requiredText(value, "producerTask", p, "name the task of this DAG that produces the value"),
                            in.requiredText(value, "outputParameterKey", p, "name the producer's output parameter"));
                }
                case "taskFinalStatus" -> {
                    if (!in.object(value, p, Set.of("producerTask"))) yield null;
                    yield new PipelineTask.TaskFinalStatus(in.requiredText(value, "producerTask", p, "name the task whose final status is passed"));
                }
                default -> readRuntimeValue(value, p);
            };
            if (source == null) return null;
            return new ParameterInput(source, in.text(node, "parameterExpressionSelector", path));
        }

        private PipelineTask.ParameterSource readRuntimeValue(JsonNode node, String path) {
            if (!in.object(node, path, Set.of("constant", "constantValue"))) return null;
            if (node.has("constant")) return new PipelineTask.RuntimeConstant(node.get("constant"));
            var legacy = field(node, "constantValue");
            // schemaVersion 2.0.0 wrote typed constants as {stringValue | intValue | doubleValue}.
            if (legacy.isObject() && legacy.size() == 1) {
                var v = legacy.elements().next();
                if (legacy.has("intValue") && v.isTextual()) {
                    try {
                        return new PipelineTask.RuntimeConstant(JsonNodeFactory.instance.numberNode(Long.parseLong(v.asText())));
                    } catch (NumberFormatException e) {
                        in.error(child(path, "constantValue.intValue"), "expected an integer, got " + describe(v));
                        return null;
                    }
                }
                return new PipelineTask.RuntimeConstant(v);
            }
            in.error(path, "needs 'constant' with the value to pass");
            return null;
        }

        private ArtifactInput readArtifactInput(JsonNode node, String path) {
            if (!in.object(node, path, Set.copyOf(ARTIFACT_SOURCES))) return null;
            var present = ARTIFACT_SOURCES.stream().filter(s -> !field(node, s).isMissingNode()).toList();
            if (present.size() != 1) {
                in.error(path, (present.isEmpty() ? "has no source" : "has several sources " + present)
                        + "; give exactly one of " + String.join(", ", ARTIFACT_SOURCES));
                return null;
            }
            var value = field(node, present.get(0));
            var p = child(path, present.get(0));
            if (present.get(0).equals("componentInputArtifact")) {
                if (!value.isTextual() || value.asText().isEmpty()) {
                    in.error(p, "expected the name of an input artifact of the enclosing component, got " + describe(value));
                }
                return new PipelineTask.ComponentInputArtifact(value.asText());
            }
            if (!in.object(value, p, Set.of("producerTask", "outputArtifactKey"))) return null;
            return new PipelineTask.TaskOutputArtifact(
                    in.requiredText(value, "producerTask", p, "name the task of this DAG that produces the artifact"),
                    in.requiredText(value, "outputArtifactKey", p, "name the producer's output artifact"));
        }

        private PipelineTask.TriggerPolicy readTrigger(JsonNode node, String path) {
            if (node.isMissingNode() || !in.object(node, path, Set.of("condition", "strategy"))) return PipelineTask.TriggerPolicy.DEFAULT;
            var strategyName = in.text(node, "strategy", path);
            var strategy = PipelineTask.TriggerStrategy.ALL_UPSTREAM_TASKS_SUCCEEDED;
            if (strategyName.equals("ALL_UPSTREAM_TASKS_COMPLETED")) {
                strategy = PipelineTask.TriggerStrategy.ALL_UPSTREAM_TASKS_COMPLETED;
            } else if (!strategyName.isEmpty() && !strategyName.equals("ALL_UPSTREAM_TASKS_SUCCEEDED")
                    && !strategyName.equals("TRIGGER_STRATEGY_UNSPECIFIED")) {
                in.error(child(path, "strategy"), "'" + Names.printable(strategyName)
                        + "' is not a trigger strategy; use ALL_UPSTREAM_TASKS_SUCCEEDED or ALL_UPSTREAM_TASKS_COMPLETED");
            }
            return new PipelineTask.TriggerPolicy(in.text(node, "condition", path), strategy);
        }

        private PipelineTask.Iteration readIteration(JsonNode task, String path) {
            var params = field(task, "parameterIterator");
            var artifacts = field(task, "artifactIterator");
            if (!params.isMissingNode() && !artifacts.isMissingNode()) {
                in.error(path, "has both parameterIterator and artifactIterator; a loop iterates over one of them");
                return new PipelineTask.NoIteration();
            }
            if (!params.isMissingNode()) {
                var p = child(path, "parameterIterator");
                if (!in.object(params, p, Set.of("itemInput", "items"))) return new PipelineTask.NoIteration();
                var itemInput = in.requiredText(params, "itemInput", p, "name the component input that receives each item");
                var items = field(params, "items");
                var ip = child(p, "items");
                if (items.isMissingNode()) {
                    in.error(ip, "is required: give 'raw' (a JSON list) or 'inputParameter' (a task input holding the list)");
                    return new PipelineTask.NoIteration();
                }
                if (!in.object(items, ip, Set.of("raw", "inputParameter"))) return new PipelineTask.NoIteration();
                var raw = field(items, "raw");
                var input = field(items, "inputParameter");
                if (raw.isMissingNode() == input.isMissingNode()) {
                    in.error(ip, "needs exactly one of 'raw' (a JSON list) or 'inputParameter' (a task input holding the list)");
                    return new PipelineTask.NoIteration();
                }
                if (!input.isMissingNode()) {
                    return new PipelineTask.ParameterIteration(itemInput, new PipelineTask.InputItems(in.text(items, "inputParameter", ip)));
                }
                var list = rawItems(raw, child(ip, "raw"));
                return new PipelineTask.ParameterIteration(itemInput, new PipelineTask.RawItems(list));
            }
            if (!artifacts.isMissingNode()) {
                var p = child(path, "artifactIterator");
                if (!in.object(artifacts, p, Set.of("itemInput", "items"))) return new PipelineTask.NoIteration();
                var itemInput = in.requiredText(artifacts, "itemInput", p, "name the component input artifact that receives each item");
                var items = field(artifacts, "items");
                if (!in.object(items, child(p, "items"), Set.of("inputArtifact"))) return new PipelineTask.NoIteration();
                return new PipelineTask.ArtifactIteration(itemInput,
                        in.requiredText(items, "inputArtifact", child(p, "items"), "name the task input artifact holding the list"));
            }
            return new PipelineTask.NoIteration();
        }

        private JsonNode rawItems(JsonNode raw, String path) {
            JsonNode list = raw;
            if (raw.isTextual()) {
                try {
                    list = Json.json().readTree(raw.asText());
                } catch (JsonProcessingException e) {
                    in.error(path, "is not valid JSON (" + e.getOriginalMessage() + "); write the items as a JSON list such as '[1, 2, 3]'");
                    return JsonNodeFactory.instance.arrayNode();
                }
            }
            if (list == null || !list.isArray()) {
                in.error(path, "must be a JSON list of loop items, such as '[1, 2, 3]', got " + describe(list == null ? MissingNode.getInstance() : list));
                return JsonNodeFactory.instance.arrayNode();
            }
            return list;
        }

        private PipelineTask.RetryPolicy readRetry(JsonNode node, String path) {
            if (node.isMissingNode() || !in.object(node, path, Set.of("maxRetryCount", "backoffDuration", "backoffFactor", "backoffMaxDuration"))) {
                return PipelineTask.RetryPolicy.NONE;
            }
            var count = in.integer(node, "maxRetryCount", path);
            if (count < 0 || count > 1000) {
                in.error(child(path, "maxRetryCount"), "is " + count + "; give a number of retries from 0 to 1000");
                count = 0;
            }
            var defaults = PipelineTask.RetryPolicy.NONE;
            var factor = in.number(node, "backoffFactor", path, defaults.backoffFactor());
            if (factor < 1 && node.has("backoffFactor")) {
                in.error(child(path, "backoffFactor"), "is " + factor + "; the back-off factor must be at least 1");
                factor = defaults.backoffFactor();
            }
            return new PipelineTask.RetryPolicy((int) count,
                    duration(node, "backoffDuration", path, defaults.backoffDuration()),
                    factor,
                    duration(node, "backoffMaxDuration", path, defaults.backoffMaxDuration()));
        }

        /** Reads a protobuf JSON duration such as "3600s" or "0.5s". */
        private Duration duration(JsonNode node, String name, String path, Duration absent) {
            var text = in.text(node, name, path).strip();
            if (text.isEmpty()) return absent;
            try {
                var seconds = new BigDecimal(text.endsWith("s") ? text.substring(0, text.length() - 1) : text);
                if (seconds.signum() < 0 || seconds.compareTo(BigDecimal.valueOf(315_576_000_000L)) > 0) throw new NumberFormatException();
                return Duration.ofNanos(seconds.movePointRight(9).longValue());
            } catch (NumberFormatException | ArithmeticException e) {
                in.error(child(path, name), "'" + Names.printable(text) + "' is not a duration; write seconds with an 's', such as '30s' or '0.5s'");
                return absent;
            }
        }

        private java.util.Optional<ExecutorSpec> readExecutor(JsonNode node, String path) {
            if (!in.object(node, path, Set.of("container", "importer", "resolver", "customJob"))) return java.util.Optional.empty();
            var kinds = List.of("container", "importer", "resolver", "customJob").stream().filter(node::has).toList();
            if (kinds.size() != 1) {
                in.error(path, (kinds.isEmpty() ? "has no executor" : "has several executors " + kinds)
                        + "; give exactly one of container, importer or resolver");
                return java.util.Optional.empty();
            }
            var kind = kinds.get(0);
            var body = node.get(kind);
            var p = child(path, kind);
            return switch (kind) {
                case "container" -> java.util.Optional.ofNullable(readContainer(body, p));
                case "importer" -> java.util.Optional.ofNullable(readImporter(body, p));
                case "resolver" -> java.util.Optional.of(new ExecutorSpec.Resolver(body));
                default -> {
                    in.error(p, "is a Vertex AI customJob, which runs only on Google Cloud; Capstan runs container, importer and resolver executors");
                    yield java.util.Optional.empty();
                }
            };
        }

        private ExecutorSpec.Container readContainer(JsonNode node, String path) {
            if (!in.object(node, path, CONTAINER)) return null;
            var image = in.requiredText(node, "image", path, "name the container image (Capstan records it, and runs the command on the host locally)");
            var env = new ArrayList<ExecutorSpec.EnvVar>();
            var envNode = field(node, "env");
            if (!envNode.isMissingNode()) {
                if (!envNode.isArray()) {
                    in.error(child(path, "env"), "expected a list of {name, value}, got " + describe(envNode));
                } else {
                    for (int i = 0; i < envNode.size(); i++) {
                        var ep = child(path, "env") + "[" + i + "]";
                        var e = envNode.get(i);
                        if (!in.object(e, ep, Set.of("name", "value"))) continue;
                        env.add(new ExecutorSpec.EnvVar(in.requiredText(e, "name", ep, "name the environment variable"), in.text(e, "value", ep)));
                    }
                }
            }
            if (node.has("lifecycle")) {
                in.warn(child(path, "lifecycle"), "container lifecycle hooks are accepted but not applied locally");
            }
            return new ExecutorSpec.Container(image, in.strings(node, "command", path), in.strings(node, "args", path), env,
                    readResources(field(node, "resources"), child(path, "resources")));
        }

        private ExecutorSpec.Resources readResources(JsonNode node, String path) {
            if (node.isMissingNode() || !in.object(node, path, RESOURCES)) return ExecutorSpec.Resources.NONE;
            var acceleratorType = "";
            var acceleratorCount = "";
            var acc = field(node, "accelerator");
            if (!acc.isMissingNode() && in.object(acc, child(path, "accelerator"), Set.of("type", "count", "resourceType", "resourceCount"))) {
                var ap = child(path, "accelerator");
                acceleratorType = first(in.text(acc, "resourceType", ap), in.text(acc, "type", ap));
                acceleratorCount = first(in.text(acc, "resourceCount", ap), in.text(acc, "count", ap));
            }
            return new ExecutorSpec.Resources(
                    first(in.text(node, "resourceCpuLimit", path), in.text(node, "cpuLimit", path)),
                    first(in.text(node, "resourceMemoryLimit", path), gigabytes(in.text(node, "memoryLimit", path))),
                    first(in.text(node, "resourceCpuRequest", path), in.text(node, "cpuRequest", path)),
                    first(in.text(node, "resourceMemoryRequest", path), gigabytes(in.text(node, "memoryRequest", path))),
                    acceleratorType, acceleratorCount);
        }

        /** The deprecated {@code memoryLimit} and {@code memoryRequest} are numbers of GB (10^9 bytes): as quantities. */
        private static String gigabytes(String number) {
            return number.matches("[0-9.]+([eE][+-]?[0-9]+)?") ? number + "G" : number;
        }

        private static String first(String a, String b) {
            return a.isEmpty() ? b : a;
        }

        private ExecutorSpec.Importer readImporter(JsonNode node, String path) {
            if (!in.object(node, path, IMPORTER)) return null;
            var uri = field(node, "artifactUri");
            var up = child(path, "artifactUri");
            var constant = "";
            var runtimeParameter = "";
            if (uri.isMissingNode()) {
                in.error(up, "is required: give 'constant' (a URI) or 'runtimeParameter' (an input parameter holding the URI)");
            } else if (in.object(uri, up, Set.of("constant", "runtimeParameter"))) {
                constant = in.text(uri, "constant", up);
                runtimeParameter = in.text(uri, "runtimeParameter", up);
                if (constant.isEmpty() == runtimeParameter.isEmpty()) {
                    in.error(up, "needs exactly one of 'constant' (a URI) or 'runtimeParameter' (an input parameter holding the URI)");
                }
            }
            var metadata = field(node, "metadata");
            return new ExecutorSpec.Importer(constant, runtimeParameter,
                    readArtifactType(field(node, "typeSchema"), child(path, "typeSchema")),
                    metadata.isMissingNode() ? JsonNodeFactory.instance.objectNode() : metadata,
                    in.bool(node, "reimport", path));
        }
    }
}
