package io.capstan.pipelines.run;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.capstan.backend.ResourceRequest;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import io.capstan.core.Names;
import io.capstan.core.PermanentFailureException;
import io.capstan.core.Quantity;
import io.capstan.core.TransientException;
import io.capstan.pipelines.ComponentSpec;
import io.capstan.pipelines.ExecutorSpec;
import io.capstan.pipelines.ParameterType;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One attempt of one container step: its KFP executor input, its command with every placeholder resolved, and,
 * after the process exits 0, its outputs read back as KFP's executor contract defines them. A pure function of
 * its arguments, so the same attempt can be rebuilt after a restart.
 *
 * <p>The step sees local files only. Artifacts keep their stored URIs in the run's status and lineage; where such a
 * URI is an S3 object ({@link ArtifactTransfer#moves}), the step is given a {@code file://} URI in its attempt folder
 * instead: {@code inputs/<name>/<index>/<file>}, downloaded by {@link #prepare}, for an input, and
 * {@code artifacts/<name>}, uploaded by {@link #uploadOutputs}, for an output.
 */
final class StepInvocation {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{\\$(.*?)}}", Pattern.DOTALL);
    private static final Pattern IO = Pattern.compile(
            "\\.(inputs|outputs)\\.(parameters|artifacts)\\[(?:'([^']*)'|\"([^\"]*)\")](.*)", Pattern.DOTALL);
    private static final Pattern METADATA_KEY = Pattern.compile("\\.metadata\\[(?:'([^']*)'|\"([^\"]*)\")]");
    private static final long MAX_OUTPUT_BYTES = 4L << 20;

    private final RunLayout layout;
    private final String taskPath;
    private final String taskName;
    private final ComponentSpec component;
    private final ExecutorSpec.Container container;
    private final ObjectNode inputs;
    private final ObjectNode inputArtifacts;
    private final Path attemptDir;
    private final ArtifactTransfer transfer;
    /** The input artifacts as the step sees them: local URIs where the stored ones are S3 objects. */
    private final ObjectNode inputArtifactsView;

    StepInvocation(RunLayout layout, String taskPath, String taskName, ComponentSpec component, ExecutorSpec.Container container,
                   ObjectNode inputs, ObjectNode inputArtifacts, int attempt, ArtifactTransfer transfer) {
        this.layout = layout;
        this.taskPath = taskPath;
        this.taskName = taskName;
        this.component = component;
        this.container = container;
        this.inputs = inputs;
        this.inputArtifacts = inputArtifacts;
        this.attemptDir = layout.attemptDir(taskPath, attempt);
        this.transfer = transfer;
        this.inputArtifactsView = inputArtifacts.deepCopy();
        inputArtifactsView.properties().forEach(e -> {
            int index = 0;
            for (var a : e.getValue()) {
                if (a instanceof ObjectNode artifact) {
                    var uri = artifact.path("uri").asText("");
                    if (transfer.moves(uri)) artifact.put("uri", RunLayout.FILE + materialisedInput(e.getKey(), index, uri));
                }
                index++;
            }
        });
    }

    /** Where an S3 input is downloaded to: named after the last part of its key, so a {@code model.onnx} keeps its name. */
    private Path materialisedInput(String name, int index, String uri) {
        var last = uri.substring(uri.lastIndexOf('/') + 1);
        return attemptDir.resolve("inputs").resolve(RunLayout.safe(name)).resolve(Integer.toString(index)).resolve(RunLayout.safe(last));
    }

    /** Where the step writes an output that is uploaded to S3 afterwards. */
    private Path stagedOutput(String name) {
        return attemptDir.resolve("artifacts").resolve(RunLayout.safe(name));
    }

    /** An output artifact's URI as the step sees it. */
    private String outputView(String name, String storedUri) {
        return transfer.moves(storedUri) ? RunLayout.FILE + stagedOutput(name) : storedUri;
    }

    Path attemptDir() {
        return attemptDir;
    }

    Path outputParameterFile(String name) {
        return attemptDir.resolve("outputs").resolve(RunLayout.safe(name)).resolve("data");
    }

    Path executorOutputFile() {
        return attemptDir.resolve("executor_output.json");
    }

    /** The output artifacts before the step runs, as stored: one per declared output, at its URI under the pipeline root. */
    ObjectNode plannedOutputArtifacts() {
        var out = F.objectNode();
        component.outputs().artifacts().forEach((name, def) -> {
            var a = F.objectNode();
            a.put("name", name);
            a.putObject("type").put("schemaTitle", def.type().schemaTitle()).put("schemaVersion", def.type().schemaVersion());
            a.put("uri", layout.artifactUri(taskPath, name));
            a.putObject("metadata");
            out.putArray(name).add(a);
        });
        return out;
    }

    /** The output artifacts as the step sees them: local URIs where the stored ones are S3 objects. */
    private ObjectNode outputArtifactsView() {
        var out = plannedOutputArtifacts();
        out.properties().forEach(e -> e.getValue().forEach(a -> ((ObjectNode) a).put("uri", outputView(e.getKey(), a.path("uri").asText()))));
        return out;
    }

    /** KFP's ExecutorInput JSON, as {@code {{$}}} hands it to the program. */
    ObjectNode executorInput() {
        var root = F.objectNode();
        var in = root.putObject("inputs");
        in.set("parameterValues", inputs.deepCopy());
        var inArts = in.putObject("artifacts");
        inputArtifactsView.properties().forEach(e -> inArts.putObject(e.getKey()).set("artifacts", e.getValue().deepCopy()));
        var out = root.putObject("outputs");
        var params = out.putObject("parameters");
        component.outputs().parameters().keySet().forEach(n -> params.putObject(n).put("outputFile", outputParameterFile(n).toString()));
        var arts = out.putObject("artifacts");
        outputArtifactsView().properties().forEach(e -> arts.putObject(e.getKey()).set("artifacts", e.getValue()));
        out.put("outputFile", executorOutputFile().toString());
        return root;
    }

    /**
     * Creates the attempt folder, the parents of output files and artifact paths, and the workspace, and downloads the
     * input artifacts that are S3 objects.
     *
     * @throws io.capstan.core.PermanentFailureException naming the input when nothing is stored at its URI
     */
    void prepare() {
        try {
            Files.createDirectories(attemptDir);
            Files.createDirectories(layout.workspace());
            for (var n : component.outputs().parameters().keySet()) Files.createDirectories(outputParameterFile(n).getParent());
            for (var list : outputArtifactsView().properties()) {
                var path = Path.of(RunLayout.localPath(list.getValue().get(0).path("uri").asText()));
                Files.createDirectories(path.getParent());
            }
        } catch (IOException e) {
            throw new TransientException("task " + taskPath + ": cannot create its folders under " + attemptDir + ": " + e.getMessage(), e);
        }
        inputArtifacts.properties().forEach(e -> {
            int index = 0;
            for (var a : e.getValue()) {
                var uri = a.path("uri").asText("");
                if (transfer.moves(uri)) {
                    transfer.download(uri, materialisedInput(e.getKey(), index, uri), "task " + taskPath + " input artifact '" + e.getKey() + "'");
                }
                index++;
            }
        });
    }

    /**
     * Uploads what the step wrote for each output stored in S3, then removes the local copy: from now on the object
     * in S3 is the artifact, and the steps that read it download it. Idempotent, so that a reconcile that repeats it
     * after a crash changes nothing.
     */
    void uploadOutputs(ObjectNode outputs) {
        var planned = plannedOutputArtifacts();
        outputs.path("artifacts").properties().forEach(e -> {
            var stored = planned.path(e.getKey()).path(0).path("uri").asText("");
            var uri = e.getValue().path(0).path("uri").asText("");
            if (!uri.equals(stored) || !transfer.moves(uri)) return;
            var staged = stagedOutput(e.getKey());
            transfer.upload(staged, uri, "task " + taskPath + " output artifact '" + e.getKey() + "'");
            try {
                ArtifactTransfer.deleteTree(staged);
            } catch (IOException ex) {
                throw new TransientException("task " + taskPath + ": cannot remove " + staged + " after uploading it to " + uri + ": " + ex.getMessage(), ex);
            }
        });
    }

    /** The program and arguments with placeholders resolved, and the container's environment. */
    StepCommand command() {
        var env = new LinkedHashMap<String, String>();
        for (var e : container.env()) env.put(e.name(), resolve(e.value()));
        return new StepCommand(expandAll(container.command()), expandAll(container.args()), env);
    }

    /**
     * What the step asks the backend for, placeholders resolved: each resource's request, or its limit where no
     * request is set, as Kubernetes defaults a request to its limit. An accelerator type without a count asks for
     * one, and every accelerator counts as a GPU, the only kind a local backend hands out.
     *
     * @param machine the most the backend can ever grant one workload; empty when it has no such limit
     * @throws InvalidSpecException naming the field when a value is not a quantity
     * @throws PermanentFailureException naming the task and the field when a request exceeds {@code machine}, which
     *                                   would otherwise leave the step queued or failing at launch with no word of why
     */
    ResourceRequest requests(Optional<ResourceRequest> machine) {
        var r = container.resources();
        var cpuField = r.cpuRequest().isEmpty() ? "resourceCpuLimit" : "resourceCpuRequest";
        var cpuText = resolve(r.cpuRequest().isEmpty() ? r.cpuLimit() : r.cpuRequest()).strip();
        var memoryField = r.memoryRequest().isEmpty() ? "resourceMemoryLimit" : "resourceMemoryRequest";
        var memoryText = resolve(r.memoryRequest().isEmpty() ? r.memoryLimit() : r.memoryRequest()).strip();
        var gpuText = resolve(r.acceleratorCount()).strip();
        if (gpuText.isEmpty() && !resolve(r.acceleratorType()).isBlank()) gpuText = "1";
        double cpus = cpuText.isEmpty() ? 0 : Quantity.cpus(field(cpuField), cpuText);
        long memoryBytes = memoryText.isEmpty() ? 0 : Quantity.bytes(field(memoryField), memoryText);
        int gpus = 0;
        if (!gpuText.isEmpty()) {
            try {
                gpus = Integer.parseInt(gpuText);
            } catch (NumberFormatException e) {
                gpus = -1;
            }
            if (gpus < 0) {
                throw InvalidSpecException.of(field("accelerator.resourceCount"), "'" + Names.printable(gpuText)
                        + "' is not a number of accelerators; write a whole number such as 1");
            }
        }
        var request = new ResourceRequest(cpus, memoryBytes, gpus);
        if (machine.isPresent()) {
            var m = machine.get();
            if (Math.round(request.cpus() * 1000) > Math.round(m.cpus() * 1000)) { // in millicores, as the backend counts
                throw tooLarge(cpuField, cpuText, plain(request.cpus()) + " CPUs", plain(m.cpus()) + " CPUs");
            }
            if (request.memoryBytes() > m.memoryBytes()) {
                throw tooLarge(memoryField, memoryText, request.memoryBytes() + " bytes of memory", m.memoryBytes() + " bytes");
            }
            if (request.gpuCount() > m.gpuCount()) {
                throw tooLarge("accelerator.resourceCount", gpuText, request.gpuCount() + " GPUs", m.gpuCount() + " GPUs");
            }
        }
        return request;
    }

    private String field(String name) {
        return "task " + taskPath + " resources." + name;
    }

    private PermanentFailureException tooLarge(String field, String text, String wanted, String has) {
        return new PermanentFailureException("task %s requests %s (resources.%s '%s') but this machine has %s in all, so it could never start; lower resources.%s or run the pipeline on Kubernetes"
                .formatted(taskPath, wanted, field, Names.printable(text), has, field));
    }

    private static String plain(double value) {
        return BigDecimal.valueOf(value).stripTrailingZeros().toPlainString();
    }

    private List<String> expandAll(List<String> values) {
        var out = new ArrayList<String>();
        for (var v : values) {
            var stripped = v.strip();
            if (stripped.startsWith("{\"Concat\"") || stripped.startsWith("{\"IfPresent\"")) {
                try {
                    out.addAll(expand(Json.json().readTree(stripped)));
                    continue;
                } catch (JsonProcessingException e) {
                    // Not a structured placeholder after all (the validator accepted it): pass it as text.
                }
            }
            out.add(resolve(v));
        }
        return out;
    }

    private List<String> expand(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) return List.of();
        if (node.isTextual()) return List.of(resolve(node.asText()));
        if (node.isArray()) {
            var out = new ArrayList<String>();
            node.forEach(n -> out.addAll(expand(n)));
            return out;
        }
        if (node.has("IfPresent")) {
            var ip = node.get("IfPresent");
            var name = ip.path("InputName").asText();
            boolean present = inputs.has(name) || (inputArtifacts.has(name) && !inputArtifacts.get(name).isEmpty());
            return present ? expand(ip.get("Then")) : expand(ip.get("Else"));
        }
        if (node.has("Concat")) return List.of(String.join("", expand(node.get("Concat"))));
        return List.of(node.isValueNode() ? node.asText() : node.toString());
    }

    /** Replaces every {@code {{$...}}} in {@code value}. */
    String resolve(String value) {
        Matcher m = PLACEHOLDER.matcher(value);
        var sb = new StringBuilder();
        while (m.find()) m.appendReplacement(sb, Matcher.quoteReplacement(one(m.group(1))));
        m.appendTail(sb);
        return sb.toString();
    }

    private String one(String body) {
        if (body.isEmpty()) return executorInput().toString();
        var io = IO.matcher(body);
        if (io.matches()) {
            var name = io.group(3) != null ? io.group(3) : io.group(4);
            var rest = io.group(5);
            boolean input = io.group(1).equals("inputs");
            if (io.group(2).equals("parameters")) {
                if (input) return inputs.has(name) ? text(inputs.get(name)) : "";
                return outputParameterFile(name).toString();
            }
            var list = input ? inputArtifactsView.path(name) : outputArtifactsView().path(name);
            var def = input ? component.inputs().artifacts().get(name) : null;
            // A bare placeholder for an artifact list is the list itself, as JSON, as KFP's launcher writes it.
            if (rest.isEmpty() && def != null && def.isArtifactList()) return list.isArray() ? list.toString() : "[]";
            var artifact = list.path(0);
            var uri = artifact.path("uri").asText("");
            if (rest.isEmpty() || rest.equals(".uri")) return uri;
            if (rest.equals(".path")) return RunLayout.localPath(uri);
            if (rest.equals(".value")) return readSmall(Path.of(RunLayout.localPath(uri)));
            if (rest.equals(".metadata")) return artifact.path("metadata").toString();
            var key = METADATA_KEY.matcher(rest);
            if (key.matches()) return text(artifact.path("metadata").path(key.group(1) != null ? key.group(1) : key.group(2)));
            return "";
        }
        if (body.equals(".outputs.output_file")) return executorOutputFile().toString();
        return runLevel(body, layout, taskPath, taskName);
    }

    /**
     * A run-level placeholder's value, as KFP's driver resolves it: the job name is the run's display name and the
     * resource name its object name; empty for the cloud-only ones that mean nothing locally.
     */
    static String runLevel(String body, RunLayout layout, String taskPath, String taskName) {
        return switch (body) {
            case ".pipeline_job_name" -> layout.displayName();
            case ".pipeline_job_resource_name" -> layout.runName();
            case ".pipeline_job_uuid" -> layout.uid();
            case ".pipeline_task_name" -> taskName;
            case ".pipeline_task_uuid" -> taskUuid(layout.uid(), taskPath);
            case ".pipeline_root" -> layout.pipelineRoot();
            case ".workspace_path" -> layout.workspace().toString();
            case ".pipeline_job_create_time_utc", ".pipeline_job_schedule_time_utc" -> layout.createTime();
            default -> "";
        };
    }

    /**
     * Resolves a runtime constant as KFP does: run-level placeholders, and {@code {{$.inputs.parameters['x']}}}
     * naming another input of the same task (how the SDK compiles f-strings).
     */
    static String resolveConstant(String value, RunLayout layout, String taskPath, String taskName, ObjectNode parameters) {
        Matcher m = PLACEHOLDER.matcher(value);
        var sb = new StringBuilder();
        while (m.find()) {
            var body = m.group(1);
            var io = IO.matcher(body);
            String replacement;
            if (io.matches() && io.group(1).equals("inputs") && io.group(2).equals("parameters")) {
                replacement = text(parameters.get(io.group(3) != null ? io.group(3) : io.group(4)));
            } else {
                replacement = runLevel(body, layout, taskPath, taskName);
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    static String taskUuid(String runUid, String taskPath) {
        return UUID.nameUUIDFromBytes((runUid + "/" + taskPath).getBytes(StandardCharsets.UTF_8)).toString();
    }

    /** A parameter value as a command-line string: strings as they are, everything else as JSON. */
    static String text(JsonNode value) {
        if (value == null || value.isMissingNode() || value.isNull()) return "";
        return value.isValueNode() ? value.asText() : value.toString();
    }

    /**
     * Reads what the step wrote: output parameter files (typed by outputDefinitions), then the executor output
     * JSON, whose {@code parameterValues} and artifact metadata win.
     *
     * @throws PermanentFailureException naming the output the step did not write or wrote badly
     */
    ObjectNode collectOutputs() {
        var executorOutput = readExecutorOutput();
        var parameters = F.objectNode();
        component.outputs().parameters().forEach((name, def) -> {
            var fromJson = executorOutput.path("parameterValues").get(name);
            var file = outputParameterFile(name);
            if (fromJson != null) {
                parameters.set(name, fromJson);
            } else if (Files.isRegularFile(file)) {
                parameters.set(name, ParameterValues.parse(def.type(), readSmall(file), "task " + taskPath + " output parameter '" + name + "'"));
            } else if (!def.isOptional()) {
                throw new PermanentFailureException("task " + taskPath + " exited 0 but did not write output parameter '" + name
                        + "'; write it to {{$.outputs.parameters['" + name + "'].output_file}} (" + file + ")");
            }
        });
        var artifacts = plannedOutputArtifacts();
        executorOutput.path("artifacts").properties().forEach(e -> {
            var written = e.getValue().path("artifacts");
            var planned = (ArrayNode) artifacts.get(e.getKey());
            if (planned == null || !written.isArray() || written.isEmpty()) return;
            var a = (ObjectNode) planned.get(0);
            var w = written.get(0);
            // A step that hands back the local URI it was given wrote the artifact there: it is stored at the planned URI.
            var writtenUri = w.path("uri").asText("");
            if (!writtenUri.isEmpty() && !writtenUri.equals(outputView(e.getKey(), a.path("uri").asText()))) a.set("uri", w.get("uri"));
            if (w.path("metadata").isObject()) ((ObjectNode) a.get("metadata")).setAll((ObjectNode) w.get("metadata"));
        });
        var outputs = F.objectNode();
        outputs.set("parameters", parameters);
        outputs.set("artifacts", artifacts);
        return outputs;
    }

    private JsonNode readExecutorOutput() {
        var file = executorOutputFile();
        if (!Files.isRegularFile(file)) return F.objectNode();
        var text = readSmall(file);
        if (text.isBlank()) return F.objectNode();
        try {
            var node = Json.json().readTree(text);
            if (node == null || !node.isObject()) throw new PermanentFailureException("task " + taskPath + " wrote " + file + " but it is not a JSON object");
            return node;
        } catch (JsonProcessingException e) {
            throw new PermanentFailureException("task " + taskPath + " wrote executor output " + file + " that is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    private String readSmall(Path file) {
        try {
            if (!Files.isRegularFile(file)) return "";
            if (Files.size(file) > MAX_OUTPUT_BYTES) {
                throw new PermanentFailureException("task " + taskPath + ": " + file + " is larger than " + MAX_OUTPUT_BYTES
                        + " bytes; write large values as artifacts, not parameters");
            }
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new TransientException("task " + taskPath + ": cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    static JsonNode textNode(String s) {
        return TextNode.valueOf(s);
    }

    static ParameterType typeOf(ComponentSpec component, String input) {
        var def = component.inputs().parameters().get(input);
        return def == null ? ParameterType.STRING : def.type();
    }
}
