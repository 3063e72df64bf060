package io.capstan.kubernetes;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.backend.ResourceRequest;
import io.capstan.backend.WorkloadSpec;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The Kubernetes objects that a resource becomes on the Kubernetes backend, following upstream Kubeflow's shapes so
 * that people who know it recognise them. Each workload goes through {@link WorkloadObjects}, as the backend's
 * launches do. Workload ids here are the object names: on a server they carry the resource's uid and attempt.
 */
public final class Renderer {
    /** The training-operator's defaults (pkg/controller.v1/pytorch). */
    public static final String PYTORCH_PORT_NAME = "pytorchjob-port";
    public static final int PYTORCH_DEFAULT_PORT = 23456;
    public static final String PYTORCH_CONTAINER = "pytorch";
    /** Trainer v2's torch plugin. */
    public static final int TORCH_MASTER_PORT = 29500;
    public static final String TRAINJOB_CONTAINER = "node";
    static final String COMPLETION_INDEX = "metadata.annotations['batch.kubernetes.io/job-completion-index']";

    private Renderer() {
    }

    /**
     * The objects {@code doc} becomes.
     *
     * @param defaultNamespace the namespace of a document that names none
     * @param runtimeImage     the image of a training runtime by name, for TrainJobs whose trainer names none
     * @throws InvalidSpecException naming the field, for what cannot be rendered
     */
    public static List<HasMetadata> render(JsonNode doc, String defaultNamespace, Function<String, Optional<String>> runtimeImage) {
        return render(doc, defaultNamespace, runtimeImage, DEFAULT_MODEL_SERVER_IMAGE);
    }

    /** Capstan's image (its model server and built-in pipeline components) where the caller names none. */
    public static final String DEFAULT_MODEL_SERVER_IMAGE = "capstan:latest";

    /**
     * The objects {@code doc} becomes; a compiled KFP pipeline (IR, without apiVersion and kind) renders as a run of
     * it with its defaults.
     *
     * @param modelServerImage Capstan's image: it serves an InferenceService's ONNX, XGBoost and LightGBM models and runs
     *                         built-in pipeline components
     */
    public static List<HasMetadata> render(JsonNode doc, String defaultNamespace, Function<String, Optional<String>> runtimeImage,
                                           String modelServerImage) {
        var apiVersion = doc.path("apiVersion").asText("");
        var kind = doc.path("kind").asText("");
        if (isPipelineIr(doc)) return PipelineRender.pipeline(doc, defaultNamespace, modelServerImage);
        var name = doc.path("metadata").path("name").asText("");
        if (!CapstanLabels.isDnsLabel(name)) {
            throw InvalidSpecException.of("metadata.name", "'" + Names.printable(name) + "' must be a DNS-1123 label to name Kubernetes objects");
        }
        var ns = doc.path("metadata").path("namespace").asText(defaultNamespace);
        var spec = doc.path("spec");
        if (NotebookRender.isNotebook(apiVersion, kind)) return NotebookRender.render(doc, name, ns);
        return switch (apiVersion + " " + kind) {
            case "batch/v1 Job" -> batchJob(doc, ns);
            case "kubeflow.org/v1 PyTorchJob" -> pytorchJob(name, ns, spec);
            case "kubeflow.org/v1 XGBoostJob", "kubeflow.org/v1alpha1 XGBoostJob" -> xgboostJob(name, ns, spec);
            case "trainer.kubeflow.org/v1alpha1 TrainJob" -> trainJob(name, ns, spec, runtimeImage);
            case "kubeflow.org/v1beta1 Experiment" -> TrialRender.render(name, ns, spec, trial -> render(trial, ns, runtimeImage, modelServerImage));
            case "pipelines.capstan.io/v1 PipelineRun" -> PipelineRender.pipelineRun(name, ns, spec, modelServerImage);
            case "serving.kserve.io/v1beta1 InferenceService" -> InferenceServiceRender.render(name, ns, spec, modelServerImage);
            default -> throw InvalidSpecException.of("kind", "capstan render does not know the Kubernetes objects of " + Names.printable(apiVersion)
                    + " " + Names.printable(kind) + " yet; it renders capstan.io/v1 Job, batch/v1 Job, kubeflow.org/v1 PyTorchJob and XGBoostJob, "
                    + "trainer.kubeflow.org/v1alpha1 TrainJob, kubeflow.org/v1beta1 Experiment (its first trial), pipelines.capstan.io/v1 PipelineRun, "
                    + "a compiled KFP pipeline and serving.kserve.io/v1beta1 InferenceService");
        };
    }

    /** A compiled KFP pipeline: no Kubernetes envelope, a pipelineInfo and a root. */
    public static boolean isPipelineIr(JsonNode doc) {
        return !doc.has("kind") && doc.has("pipelineInfo") && doc.has("root");
    }

    /** Capstan's own {@code capstan.io/v1 Job}: its one workload as a batch/v1 Job named after it. */
    public static List<HasMetadata> capstanJob(WorkloadSpec workload, String name, String namespace) {
        return WorkloadObjects.of(workload, Placement.defaults().inNamespace(namespace).named(name).withShape(Placement.Shape.job())
                .withLabels(owner("Job", name)), namespace, Optional.empty());
    }

    /** A batch/v1 Job (a Katib trial's template, for one): its pod template's first container is the workload. */
    static List<HasMetadata> batchJob(JsonNode doc, String ns) {
        Job job = Serialization.unmarshal(doc.toString(), Job.class);
        var name = job.getMetadata().getName();
        if (job.getSpec() == null || job.getSpec().getTemplate() == null || job.getSpec().getTemplate().getSpec() == null
                || job.getSpec().getTemplate().getSpec().getContainers() == null || job.getSpec().getTemplate().getSpec().getContainers().isEmpty()) {
            throw InvalidSpecException.of("spec.template.spec.containers", "required: the container that runs the job");
        }
        var template = job.getSpec().getTemplate();
        var container = template.getSpec().getContainers().getFirst();
        var path = "spec.template.spec.containers[0]";
        var workload = new WorkloadSpec(name, commandLine(container, path), Map.of(), Optional.empty(), ResourceRequest.NONE,
                Optional.ofNullable(job.getSpec().getActiveDeadlineSeconds()).map(java.time.Duration::ofSeconds), 0, Optional.empty());
        int completions = job.getSpec().getCompletions() == null ? 1 : job.getSpec().getCompletions();
        var shape = new Placement.Shape.Job(completions, "Indexed".equals(job.getSpec().getCompletionMode()));
        var labels = new LinkedHashMap<>(owner("Job", name));
        if (job.getMetadata().getLabels() != null) job.getMetadata().getLabels().forEach(labels::putIfAbsent);
        return WorkloadObjects.of(workload, Placement.defaults().inNamespace(ns).named(name).withShape(shape).withLabels(labels)
                .withTemplate(template, container.getName() == null ? Placement.DEFAULT_CONTAINER : container.getName()), ns, Optional.empty());
    }

    /** The training-operator's XGBoostJob defaults (pkg/controller.v1/xgboost). */
    public static final String XGBOOST_PORT_NAME = "xgboostjob-port";
    public static final int XGBOOST_DEFAULT_PORT = 9999;
    public static final String XGBOOST_CONTAINER = "xgboost";

    /** What differs between the training-operator's v1 kinds that run one pod per replica. */
    private record ReplicaKind(String kind, String replicaField, String container, String portName, int defaultPort, String operator,
                               EnvOf env) {
    }

    /**
     * The environment of one replica: {@code rank} among {@code total} nodes, the master's address and port;
     * {@code nproc} is spec.nprocPerNode as written ("auto" by default), {@code nprocInt} its number (1 unless one).
     */
    private interface EnvOf {
        Map<String, String> of(boolean hasMaster, int rank, int total, String nproc, int nprocInt, String masterAddr, int port, List<String> workers);
    }

    private static final ReplicaKind PYTORCH = new ReplicaKind("PyTorchJob", "pytorchReplicaSpecs", PYTORCH_CONTAINER, PYTORCH_PORT_NAME,
            PYTORCH_DEFAULT_PORT, "pytorchjob-controller", (hasMaster, rank, total, nproc, nprocInt, masterAddr, port, workers) -> {
        var env = new LinkedHashMap<String, String>();
        // As upstream: "0" is non-empty, which is all Python checks.
        env.put("PYTHONUNBUFFERED", "0");
        if (hasMaster) {
            env.put("MASTER_PORT", Integer.toString(port));
            env.put("MASTER_ADDR", masterAddr);
            env.put("WORLD_SIZE", Integer.toString(total * nprocInt));
            env.put("RANK", Integer.toString(rank));
            env.put("PET_NPROC_PER_NODE", nproc);
            env.put("PET_NODE_RANK", Integer.toString(rank));
        }
        env.put("PET_NNODES", Integer.toString(total));
        return env;
    });

    /** The master runs XGBoost's tracker (as upstream's images do) at MASTER_ADDR:MASTER_PORT, which DMLC_* also name. */
    private static final ReplicaKind XGBOOST = new ReplicaKind("XGBoostJob", "xgbReplicaSpecs", XGBOOST_CONTAINER, XGBOOST_PORT_NAME,
            XGBOOST_DEFAULT_PORT, "xgboostjob-controller", (hasMaster, rank, total, nproc, nprocInt, masterAddr, port, workers) -> {
        var env = new LinkedHashMap<String, String>();
        env.put("PYTHONUNBUFFERED", "0");
        env.put("MASTER_PORT", Integer.toString(port));
        env.put("MASTER_ADDR", masterAddr);
        env.put("WORLD_SIZE", Integer.toString(total));
        env.put("RANK", Integer.toString(rank));
        if (!workers.isEmpty()) {
            env.put("WORKER_PORT", Integer.toString(port));
            env.put("WORKER_ADDRS", String.join(",", workers));
        }
        env.put("DMLC_TRACKER_URI", masterAddr);
        env.put("DMLC_TRACKER_PORT", Integer.toString(port));
        env.put("DMLC_NUM_WORKER", Integer.toString(total));
        env.put("DMLC_TASK_ID", Integer.toString(rank));
        return env;
    });

    /**
     * A PyTorchJob: a Pod and a headless Service per replica, {@code <job>-master-0} and {@code <job>-worker-<i>},
     * with the training-operator's (v1.8) environment: PYTHONUNBUFFERED, PET_NNODES, and where there is a Master,
     * MASTER_ADDR, MASTER_PORT, WORLD_SIZE (nodes times nprocPerNode where that is a number), RANK,
     * PET_NPROC_PER_NODE and PET_NODE_RANK; an elastic job's rendezvous as elastic.go sets it (see
     * {@link TrainingPlacement#elastic}).
     */
    static List<HasMetadata> pytorchJob(String name, String ns, JsonNode spec) {
        var nproc = spec.get("nprocPerNode");
        var raw = nproc == null || nproc.isNull() ? "auto" : nproc.asText();
        return replicaPods(PYTORCH, name, ns, spec, raw, nprocPerNode(nproc, "spec.nprocPerNode"), elastic(name, spec));
    }

    /** An elastic job's rendezvous, as the training engine hands it to the backend; empty for a job that is not elastic. */
    private static Map<String, String> elastic(String name, JsonNode spec) {
        var elastic = spec.get("elasticPolicy");
        if (elastic == null || !elastic.isObject()) return Map.of();
        var p = TrainingPlacement.ELASTIC;
        var env = new LinkedHashMap<String, String>();
        if (elastic.has("minReplicas") || elastic.has("maxReplicas")) {
            int min = elastic.path("minReplicas").asInt(1);
            // Without maxReplicas, as many as a job may have (256), as the training engine reads it.
            env.put(p + "NNODES", min + ":" + elastic.path("maxReplicas").asInt(Math.max(min, 256)));
        } else {
            var workers = spec.path("pytorchReplicaSpecs").path("Worker");
            env.put(p + "NNODES", Integer.toString(workers.isMissingNode() ? 0 : replicas(workers, "spec.pytorchReplicaSpecs.Worker")));
        }
        for (var f : List.of("rdzvBackend:RDZV_BACKEND", "rdzvHost:RDZV_HOST", "rdzvId:RDZV_ID")) {
            var kv = f.split(":");
            if (elastic.path(kv[0]).isTextual()) env.put(p + kv[1], elastic.get(kv[0]).asText());
        }
        for (var f : List.of("rdzvPort:RDZV_PORT", "maxRestarts:MAX_RESTARTS", "nProcPerNode:NPROC_PER_NODE")) {
            var kv = f.split(":");
            if (elastic.path(kv[0]).canConvertToInt()) env.put(p + kv[1], Integer.toString(elastic.get(kv[0]).asInt()));
        }
        if (elastic.path("rdzvConf").isArray() && !elastic.get("rdzvConf").isEmpty()) {
            var conf = new ArrayList<String>();
            for (var kv : elastic.get("rdzvConf")) conf.add(kv.path("key").asText() + "=" + kv.path("value").asText());
            env.put(p + "RDZV_CONF", String.join(",", conf));
        }
        if (elastic.path("standalone").asBoolean(false)) env.put(p + "STANDALONE", "");
        // The workers' port, as upstream's getPortFromPyTorchJob reads it.
        var worker = spec.path("pytorchReplicaSpecs").path("Worker");
        int port = worker.isObject() ? port(template(worker, "spec.pytorchReplicaSpecs.Worker"), PYTORCH) : PYTORCH_DEFAULT_PORT;
        TrainingPlacement.elastic(env, name + "-worker-0", port);
        return env;
    }

    /** An XGBoostJob: as a PyTorchJob, with upstream's MASTER_*, WORKER_* and XGBoost's DMLC_* environment. */
    static List<HasMetadata> xgboostJob(String name, String ns, JsonNode spec) {
        return replicaPods(XGBOOST, name, ns, spec, "1", 1, Map.of());
    }

    private static List<HasMetadata> replicaPods(ReplicaKind kind, String name, String ns, JsonNode spec, String nproc, int nprocInt,
                                                 Map<String, String> extraEnv) {
        var base = "spec." + kind.replicaField();
        var replicaSpecs = spec.path(kind.replicaField());
        if (!replicaSpecs.isObject() || replicaSpecs.isEmpty()) {
            throw InvalidSpecException.of(base, "required: Master and/or Worker with their pod templates");
        }
        var types = new ArrayList<String>();
        for (var t : List.of("Master", "Worker")) if (replicaSpecs.has(t)) types.add(t);
        replicaSpecs.fieldNames().forEachRemaining(f -> {
            if (!types.contains(f)) throw InvalidSpecException.of(base + "." + f, "unknown replica type; " + kind.kind() + " has Master and Worker");
        });
        boolean hasMaster = types.contains("Master");
        int total = 0;
        for (var t : types) total += replicas(replicaSpecs.get(t), base + "." + t);
        int masterPort = hasMaster ? port(template(replicaSpecs.get("Master"), base + ".Master"), kind) : kind.defaultPort();
        var masterAddr = hasMaster ? name + "-master-0" : name + "-worker-0";
        var workers = new ArrayList<String>();
        if (replicaSpecs.has("Worker")) for (int i = 0; i < replicas(replicaSpecs.get("Worker"), base + ".Worker"); i++) workers.add(name + "-worker-" + i);

        var out = new ArrayList<HasMetadata>();
        for (var type : types) {
            var path = base + "." + type;
            var replicaSpec = replicaSpecs.get(type);
            var template = template(replicaSpec, path);
            int containerIndex = containerIndex(template, kind.container(), path);
            var container = template.getSpec().getContainers().get(containerIndex);
            var command = commandLine(container, path + ".template.spec.containers[" + containerIndex + "]");
            var lower = type.toLowerCase(java.util.Locale.ROOT);
            for (int i = 0; i < replicas(replicaSpec, path); i++) {
                int rank = type.equals("Worker") && hasMaster ? i + 1 : i;
                var podName = name + "-" + lower + "-" + i;
                var env = new LinkedHashMap<>(kind.env().of(hasMaster, rank, total, nproc, nprocInt, masterAddr, masterPort, workers));
                env.putAll(extraEnv);
                var labels = new LinkedHashMap<>(owner(kind.kind(), name));
                labels.put(CapstanLabels.GANG, name);
                labels.put("training.kubeflow.org/job-name", name);
                labels.put("training.kubeflow.org/operator-name", kind.operator());
                labels.put("training.kubeflow.org/replica-type", lower);
                labels.put("training.kubeflow.org/replica-index", Integer.toString(i));
                if (type.equals("Master")) labels.put("training.kubeflow.org/job-role", "master");
                var workload = new WorkloadSpec(podName, command, env, Optional.empty(), ResourceRequest.NONE, activeDeadline(spec), 0, Optional.empty());
                out.addAll(WorkloadObjects.of(workload, Placement.defaults().inNamespace(ns).named(podName).withLabels(labels)
                        .withTemplate(template, container.getName())
                        .withPorts(List.of(new Placement.Port(kind.portName(), masterPort)))
                        .withHeadlessService(podName), ns, Optional.empty()));
            }
        }
        return out;
    }

    /**
     * A TrainJob: Trainer v2's JobSet shape without JobSet, an Indexed Job {@code <tj>-node-0} of numNodes pods
     * (hostnames {@code <tj>-node-0-<i>}) and a headless Service {@code <tj>} as their subdomain, with torchrun's
     * PET_* environment; PET_NODE_RANK is the pod's completion index.
     */
    static List<HasMetadata> trainJob(String name, String ns, JsonNode spec, Function<String, Optional<String>> runtimeImage) {
        var trainer = spec.path("trainer");
        var runtime = spec.path("runtimeRef").path("name").asText("");
        int nodes = trainer.has("numNodes") ? positive(trainer.get("numNodes"), "spec.trainer.numNodes") : 1;
        int procs = nprocPerNode(trainer.get("numProcPerNode"), "spec.trainer.numProcPerNode");
        var image = text(trainer, "image").or(() -> runtimeImage.apply(runtime)).orElseThrow(() -> InvalidSpecException.of("spec.trainer.image",
                "required: runtime '" + Names.printable(runtime) + "' names no image that capstan render knows"));
        var command = new ArrayList<String>();
        trainer.path("command").forEach(c -> command.add(c.asText()));
        trainer.path("args").forEach(c -> command.add(c.asText()));
        if (command.isEmpty()) throw InvalidSpecException.of("spec.trainer.command", "required: Capstan runs the command it is given, not the image's entrypoint");
        var env = new LinkedHashMap<String, String>();
        for (var e : trainer.path("env")) {
            if (e.has("value")) env.put(e.path("name").asText(), e.path("value").asText());
        }
        env.put("PET_NNODES", Integer.toString(nodes));
        // As written where given ("auto" lets torchrun count the node's devices), else 1.
        env.put("PET_NPROC_PER_NODE", trainer.hasNonNull("numProcPerNode") ? trainer.get("numProcPerNode").asText() : Integer.toString(procs));
        env.put("PET_MASTER_ADDR", name + "-node-0-0." + name);
        env.put("PET_MASTER_PORT", Integer.toString(TORCH_MASTER_PORT));
        var container = new Container();
        container.setName(TRAINJOB_CONTAINER);
        container.setEnv(List.of(new EnvVarBuilder().withName("PET_NODE_RANK").withNewValueFrom().withNewFieldRef()
                .withFieldPath(COMPLETION_INDEX).endFieldRef().endValueFrom().build()));
        if (trainer.has("resourcesPerNode")) {
            container.setResources(Serialization.unmarshal(trainer.get("resourcesPerNode").toString(), ResourceRequirements.class));
        }
        var template = new PodTemplateSpec();
        template.setSpec(new io.fabric8.kubernetes.api.model.PodSpec());
        template.getSpec().setContainers(List.of(container));
        var jobName = name + "-node-0";
        var labels = new LinkedHashMap<>(owner("TrainJob", name));
        labels.put(CapstanLabels.GANG, name);
        labels.put("trainer.kubeflow.org/trainjob-name", name);
        // As the server places it: one workload per node (completion index), listed on the Job, its pods labelled by the Job.
        var members = new ArrayList<String>();
        for (int i = 0; i < nodes; i++) members.add(name + "_node_" + i);
        var workload = new WorkloadSpec(members.getFirst(), command, env, Optional.empty(), ResourceRequest.NONE, Optional.empty(), 0, Optional.of(image));
        return WorkloadObjects.of(workload, Placement.defaults().inNamespace(ns).named(jobName).withShape(new Placement.Shape.Indexed(members))
                .withLabels(labels).withTemplate(template, TRAINJOB_CONTAINER)
                .withPorts(List.of(new Placement.Port("torch", TORCH_MASTER_PORT)))
                .withHeadlessService(name), ns, Optional.empty());
    }

    private static Map<String, String> owner(String kind, String name) {
        return Map.of(CapstanLabels.OWNER_KIND, kind, CapstanLabels.OWNER_NAME, name);
    }

    private static PodTemplateSpec template(JsonNode replicaSpec, String path) {
        var t = replicaSpec.get("template");
        if (t == null || !t.isObject()) throw InvalidSpecException.of(path + ".template", "required: the pod template of this replica type");
        var template = Serialization.unmarshal(t.toString(), PodTemplateSpec.class);
        if (template.getSpec() == null || template.getSpec().getContainers() == null || template.getSpec().getContainers().isEmpty()) {
            throw InvalidSpecException.of(path + ".template.spec.containers", "required: at least the container that runs the replica");
        }
        return template;
    }

    private static int containerIndex(PodTemplateSpec template, String preferred, String path) {
        var containers = template.getSpec().getContainers();
        for (int i = 0; i < containers.size(); i++) if (preferred.equals(containers.get(i).getName())) return i;
        return 0;
    }

    /** The master's port of the kind's port name, or the kind's default. */
    private static int port(PodTemplateSpec template, ReplicaKind kind) {
        for (var c : template.getSpec().getContainers()) {
            if (c.getPorts() == null) continue;
            for (var p : c.getPorts()) if (kind.portName().equals(p.getName()) && p.getContainerPort() != null) return p.getContainerPort();
        }
        return kind.defaultPort();
    }

    private static List<String> commandLine(Container c, String path) {
        var all = new ArrayList<String>();
        if (c.getCommand() != null) all.addAll(c.getCommand());
        if (c.getArgs() != null) all.addAll(c.getArgs());
        if (all.isEmpty()) throw InvalidSpecException.of(path + ".command", "required: Capstan runs the command it is given, not the image's entrypoint");
        return all;
    }

    private static int replicas(JsonNode replicaSpec, String path) {
        var r = replicaSpec.get("replicas");
        if (r == null || r.isNull()) return 1;
        if (!r.canConvertToInt() || r.asInt() < 0 || r.asInt() > 256) throw InvalidSpecException.of(path + ".replicas", "expected 0-256, got " + r);
        return r.asInt();
    }

    private static int positive(JsonNode n, String path) {
        if (!n.canConvertToInt() || n.asInt() < 1 || n.asInt() > 256) throw InvalidSpecException.of(path, "expected 1-256, got " + n);
        return n.asInt();
    }

    /** An integer, or "auto"/"cpu"/"gpu" (one process per node here: Capstan cannot see the node's devices at render time). */
    private static int nprocPerNode(JsonNode n, String path) {
        if (n == null || n.isNull()) return 1;
        if (n.isTextual() && List.of("auto", "cpu", "gpu").contains(n.asText())) return 1;
        if (n.isTextual() && n.asText().matches("[0-9]{1,2}")) return Math.max(1, Integer.parseInt(n.asText()));
        return positive(n, path);
    }

    private static Optional<java.time.Duration> activeDeadline(JsonNode spec) {
        var d = spec.path("runPolicy").get("activeDeadlineSeconds");
        return d == null || !d.canConvertToLong() || d.asLong() < 1 ? Optional.empty() : Optional.of(java.time.Duration.ofSeconds(d.asLong()));
    }

    private static Optional<String> text(JsonNode n, String field) {
        var v = n.get(field);
        return v == null || !v.isTextual() || v.asText().isBlank() ? Optional.empty() : Optional.of(v.asText());
    }
}
