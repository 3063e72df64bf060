package io.capstan.kubernetes;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.backend.ResourceRequest;
import io.capstan.backend.WorkloadSpec;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import io.capstan.core.Names;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSourceBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A KFP pipeline run as Kubernetes objects: <b>one</b> Pod per container step (KFP v2 on Argo makes a driver pod and
 * an executor pod; Capstan resolves inputs, caching and outputs itself), named {@code <run>-<task>-1} for the first
 * attempt and labelled with run, task and attempt. Artifacts go through S3: every step gets the run's pipeline root as
 * {@code CAPSTAN_PIPELINE_ROOT} and the S3 endpoint and keys from the Secret {@value #S3_SECRET}.
 *
 * <p>Input parameters known before the run starts (task constants, run parameters, component defaults) are
 * substituted into the command; placeholders that need an upstream task's output or an artifact's local path stay
 * as written, since Capstan fills them in when the step is launched. Built-in components ({@value #BUILTIN_IMAGE}) run
 * on Capstan's image. Importers make no pod, and tasks of a sub-DAG
 * are rendered under their path ({@code outer.inner}); a ParallelFor body is rendered once.
 */
final class PipelineRender {
    static final String S3_SECRET = "capstan-s3";
    static final String STEP_CONTAINER = "main";
    static final String BUILTIN_IMAGE = "capstan.io/builtin";
    /** The attempt folders in rendered pods: the server's own work folder, which only the server knows, stands in. */
    static final String RENDERED_WORK_DIR = "/var/lib/capstan/work/runs";
    private static final Pattern INPUT_PARAMETER = Pattern.compile("\\{\\{\\$\\.inputs\\.parameters\\['([^']+)']}}");

    private PipelineRender() {
    }

    /** A {@code pipelines.capstan.io/v1 PipelineRun} named {@code run}. */
    static List<HasMetadata> pipelineRun(String run, String ns, JsonNode spec, String capstanImage) {
        var ir = spec.get("pipelineSpec");
        if (ir != null && ir.isTextual()) {
            try {
                ir = Json.yaml().readTree(ir.asText());
            } catch (IOException e) {
                throw InvalidSpecException.of("spec.pipelineSpec", "is not YAML or JSON: " + e.getMessage());
            }
        }
        if (ir == null || !ir.isObject()) throw InvalidSpecException.of("spec.pipelineSpec", "required: the compiled KFP pipeline, inline");
        var parameters = new LinkedHashMap<String, JsonNode>();
        spec.path("parameters").fields().forEachRemaining(e -> parameters.put(e.getKey(), e.getValue()));
        var root = spec.path("pipelineRoot").asText("");
        return render(run, ns, ir, parameters, root, "spec.pipelineSpec.", capstanImage);
    }

    /** A compiled KFP pipeline (IR YAML) on its own: a run named after {@code pipelineInfo.name} with its defaults. */
    static List<HasMetadata> pipeline(JsonNode ir, String ns, String capstanImage) {
        var name = ir.path("pipelineInfo").path("name").asText("");
        if (!CapstanLabels.isDnsLabel(name)) {
            throw InvalidSpecException.of("pipelineInfo.name", "'" + Names.printable(name) + "' must be a DNS-1123 label to name the run's pods");
        }
        return render(name, ns, ir, Map.of(), "", "", capstanImage);
    }

    private static List<HasMetadata> render(String run, String ns, JsonNode ir, Map<String, JsonNode> runParameters, String pipelineRoot, String prefix,
                                            String capstanImage) {
        var root = ir.path("root");
        if (!root.path("dag").path("tasks").isObject()) throw InvalidSpecException.of(prefix + "root.dag.tasks", "required: the pipeline's tasks");
        var defaults = new LinkedHashMap<String, String>();
        root.path("inputDefinitions").path("parameters").fields().forEachRemaining(e -> {
            if (e.getValue().has("defaultValue")) defaults.put(e.getKey(), text(e.getValue().get("defaultValue")));
        });
        runParameters.forEach((k, v) -> defaults.put(k, text(v)));
        var rootRoot = pipelineRoot.isEmpty() ? ir.path("defaultPipelineRoot").asText("") : pipelineRoot;
        var out = new ArrayList<HasMetadata>();
        dag(run, ns, ir, root.path("dag").path("tasks"), "", defaults, rootRoot.isEmpty() ? "s3://capstan/pipelines" : rootRoot, prefix + "root.dag.tasks",
                capstanImage, out);
        return out;
    }

    private static void dag(String run, String ns, JsonNode ir, JsonNode tasks, String pathPrefix, Map<String, String> scope, String pipelineRoot,
                            String field, String capstanImage, List<HasMetadata> out) {
        for (var taskName : topological(tasks, field)) {
            var task = tasks.get(taskName);
            var taskField = field + "." + taskName;
            var componentName = task.path("componentRef").path("name").asText("");
            var component = ir.path("components").get(componentName);
            if (component == null) throw InvalidSpecException.of(taskField + ".componentRef.name", "names no component of components: '" + Names.printable(componentName) + "'");
            var inputs = inputs(task, component, scope);
            var path = pathPrefix + taskName;
            if (component.has("dag")) {
                dag(run, ns, ir, component.path("dag").path("tasks"), path + ".", inputs, pipelineRoot, "components." + componentName + ".dag.tasks",
                        capstanImage, out);
                continue;
            }
            var executorLabel = component.path("executorLabel").asText("");
            var executor = ir.path("deploymentSpec").path("executors").get(executorLabel);
            if (executor == null) throw InvalidSpecException.of("deploymentSpec.executors." + executorLabel, "required: the executor of component " + componentName);
            if (executor.has("importer")) continue;
            var container = executor.path("container");
            var image = container.path("image").asText("");
            // Capstan's built-in components run on its own JVM, which is in its image.
            if (image.equals(BUILTIN_IMAGE)) image = capstanImage;
            if (image.isBlank()) throw InvalidSpecException.of("deploymentSpec.executors." + executorLabel + ".container.image", "required: the image the step runs");
            var command = new ArrayList<String>();
            container.path("command").forEach(c -> command.add(resolve(c.asText(), inputs)));
            container.path("args").forEach(c -> command.add(resolve(c.asText(), inputs)));
            if (command.isEmpty()) {
                throw InvalidSpecException.of("deploymentSpec.executors." + executorLabel + ".container.command", "required: Capstan runs the command it is given, not the image's entrypoint");
            }
            var env = new TreeMap<String, String>();
            container.path("env").forEach(e -> env.put(e.path("name").asText(), e.path("value").asText("")));
            env.put("CAPSTAN_PIPELINE_ROOT", pipelineRoot + "/" + run);
            env.put("CAPSTAN_RUN", run);
            env.put("CAPSTAN_TASK", path);
            // The pod the server makes for the step's first attempt (PipelineStepPod): its attempt folder is an emptyDir,
            // filled from and emptied into the step's S3 stage by Capstan's launcher containers around the step's own.
            var workloadId = "pr_" + run + "_" + path.replace('.', '_') + "_1";
            env.put(PipelineStepPod.STAGE_ENV, stageRoot(pipelineRoot) + workloadId + "/");
            env.put(PipelineStepPod.DIR_ENV, RENDERED_WORK_DIR + "/" + run + "/" + path + "/1");
            env.put(PipelineStepPod.ATTEMPT_ENV, "1");
            var workload = new WorkloadSpec(workloadId, command, env, Optional.empty(), ResourceRequest.NONE, Optional.empty(), 0, Optional.of(image));
            var placed = PipelineStepPod.place(workload, "", ns, Optional.empty(), capstanImage);
            placed.placement().template().orElseThrow().getSpec().getContainers().getFirst().setResources(resources(container.path("resources")));
            out.addAll(WorkloadObjects.of(placed.spec(), placed.placement(), ns, Optional.empty()));
        }
    }

    /** Where the server stages steps: the {@code pipeline-steps/} folder of the pipeline root's bucket. */
    private static String stageRoot(String pipelineRoot) {
        var rest = pipelineRoot.startsWith("s3://") ? pipelineRoot.substring("s3://".length()) : "capstan";
        var slash = rest.indexOf('/');
        return "s3://" + (slash < 0 ? rest : rest.substring(0, slash)) + "/pipeline-steps/";
    }

    /** The task's input parameters known before the run: constants, the enclosing scope's parameters, the component's defaults. */
    private static Map<String, String> inputs(JsonNode task, JsonNode component, Map<String, String> scope) {
        var out = new LinkedHashMap<String, String>();
        component.path("inputDefinitions").path("parameters").fields().forEachRemaining(e -> {
            if (e.getValue().has("defaultValue")) out.put(e.getKey(), text(e.getValue().get("defaultValue")));
        });
        task.path("inputs").path("parameters").fields().forEachRemaining(e -> {
            var v = e.getValue();
            if (v.path("runtimeValue").has("constant")) out.put(e.getKey(), text(v.path("runtimeValue").get("constant")));
            else if (v.has("componentInputParameter") && scope.containsKey(v.get("componentInputParameter").asText())) {
                out.put(e.getKey(), scope.get(v.get("componentInputParameter").asText()));
            } else {
                out.remove(e.getKey()); // An upstream output: known only when the step launches.
            }
        });
        return out;
    }

    private static String resolve(String arg, Map<String, String> inputs) {
        var m = INPUT_PARAMETER.matcher(arg);
        var sb = new StringBuilder();
        while (m.find()) m.appendReplacement(sb, Matcher.quoteReplacement(inputs.getOrDefault(m.group(1), m.group())));
        m.appendTail(sb);
        return sb.toString();
    }

    /** Tasks in dependency order, ties by name, so that the output is the same every time. */
    private static List<String> topological(JsonNode tasks, String field) {
        var names = new ArrayList<String>();
        tasks.fieldNames().forEachRemaining(names::add);
        names.sort(null);
        var done = new LinkedHashSet<String>();
        while (done.size() < names.size()) {
            boolean progressed = false;
            for (var n : names) {
                if (done.contains(n)) continue;
                var ready = true;
                for (var d : tasks.get(n).path("dependentTasks")) {
                    if (!tasks.has(d.asText())) throw InvalidSpecException.of(field + "." + n + ".dependentTasks", "names no task of this DAG: '" + Names.printable(d.asText()) + "'");
                    if (!done.contains(d.asText())) ready = false;
                }
                if (ready) {
                    done.add(n);
                    progressed = true;
                }
            }
            if (!progressed) throw InvalidSpecException.of(field, "the tasks' dependentTasks form a cycle");
        }
        return List.copyOf(done);
    }

    /** KFP's resourceCpuRequest/Limit, resourceMemoryRequest/Limit and accelerator, as Kubernetes quantities. */
    private static ResourceRequirements resources(JsonNode r) {
        var requests = new TreeMap<String, Quantity>();
        var limits = new TreeMap<String, Quantity>();
        if (r.hasNonNull("resourceCpuRequest")) requests.put("cpu", new Quantity(r.get("resourceCpuRequest").asText()));
        if (r.hasNonNull("resourceMemoryRequest")) requests.put("memory", new Quantity(r.get("resourceMemoryRequest").asText()));
        if (r.hasNonNull("resourceCpuLimit")) limits.put("cpu", new Quantity(r.get("resourceCpuLimit").asText()));
        if (r.hasNonNull("resourceMemoryLimit")) limits.put("memory", new Quantity(r.get("resourceMemoryLimit").asText()));
        var acc = r.path("accelerator");
        if (acc.hasNonNull("resourceType")) limits.put(acc.get("resourceType").asText(), new Quantity(acc.path("resourceCount").asText("1")));
        if (requests.isEmpty() && limits.isEmpty()) return null;
        var out = new ResourceRequirements();
        if (!requests.isEmpty()) out.setRequests(requests);
        if (!limits.isEmpty()) out.setLimits(limits);
        return out;
    }

    private static String text(JsonNode v) {
        return v.isTextual() ? v.asText() : v.toString();
    }
}
