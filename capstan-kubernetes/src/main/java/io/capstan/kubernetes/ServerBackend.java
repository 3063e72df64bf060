package io.capstan.kubernetes;

import io.capstan.backend.Backend;
import io.capstan.backend.LogLine;
import io.capstan.backend.WorkloadSpec;
import io.capstan.backend.WorkloadState;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The server's backend in Kubernetes mode: takes the workloads that Capstan's engines hand a backend, which are
 * written for a local machine (local folders, rendezvous on the loopback), and places them on a {@link
 * KubernetesBackend} in upstream's shapes:
 * <ul>
 *   <li>a Job's attempt ({@code capstan.io/v1} or {@code batch/v1}) becomes a {@code batch/v1} Job named after it
 *       ({@code <job>-retry-<n>} from the second attempt on);</li>
 *   <li>a PyTorchJob's rank becomes a Pod and a headless Service {@code <job>-<type>-<index>} (attempts after the
 *       first: {@code <job>-r<n>-<type>-<index>}), with MASTER_ADDR and PET_MASTER_ADDR naming rank 0's Service
 *       instead of the loopback; the ranks form a gang;</li>
 *   <li>a Katib trial whose template is a {@code batch/v1} Job becomes that Job, named after the trial;</li>
 *   <li>a TrainJob's nodes become one Indexed Job, an XGBoostJob's ranks Pods with Services whose master runs the
 *       tracker ({@link TrainingPlacement}).</li>
 *   <li>an InferenceService revision's predictor becomes a Deployment, Service and HPA ({@link KubernetesPredictors},
 *       through {@link #predictorPlacement()}).</li>
 * </ul>
 * Where a Capstan namespace is mapped onto another cluster namespace, names start with the Capstan namespace
 * ({@code team-a-hello}), so that namespaces folded into one never collide.
 * Anything else (a pipeline step, an xgboost-runtime TrainJob) is refused with the reason,
 * so that a workload never runs in a shape that cannot work. The local working folder is not used: a pod works in
 * its image's folder, or the container's {@code workingDir} where the resource gives an absolute one.
 */
public final class ServerBackend implements Backend, io.capstan.backend.PredictorPlacement.Provider {
    private final KubernetesBackend backend;
    private final NamespaceMap namespaces;
    private final AutoCloseable client;
    /** Notebooks' StatefulSets and Services, where this backend has its own client. */
    private final Optional<NotebookObjects> notebooks;

    public ServerBackend(KubernetesBackend backend, NamespaceMap namespaces) {
        this(backend, namespaces, () -> { }, Optional.empty());
    }

    private ServerBackend(KubernetesBackend backend, NamespaceMap namespaces, AutoCloseable client, Optional<NotebookObjects> notebooks) {
        this.backend = Objects.requireNonNull(backend, "backend");
        this.namespaces = Objects.requireNonNull(namespaces, "namespaces");
        this.client = client;
        this.notebooks = notebooks;
    }

    /** Where Notebooks' StatefulSets and Services go, on this backend's cluster and namespaces; empty where it was built without a client. */
    public Optional<NotebookObjects> notebooks() {
        return notebooks;
    }

    /**
     * The server's backend on {@code client}'s cluster, which it closes when closed: it watches the one namespace
     * every workload maps to, or all namespaces (cluster-wide list and watch) where they map to several.
     *
     * @param kueueQueue leave gang admission to Kueue's queue of this name, where given
     */
    public static ServerBackend open(io.fabric8.kubernetes.client.KubernetesClient client, java.nio.file.Path stateDir, NamespaceMap namespaces,
                                     Optional<String> kueueQueue) {
        var single = namespaces.single();
        var options = KubernetesBackend.Options.of(client, stateDir, single.orElse("default"));
        if (single.isEmpty()) options = options.watchingAllNamespaces();
        if (kueueQueue.isPresent()) options = options.withKueueQueue(kueueQueue.get());
        try {
            return new ServerBackend(new KubernetesBackend(options), namespaces, client::close, Optional.of(new NotebookObjects(client, namespaces)));
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
    }

    /**
     * Which cluster namespace a Capstan namespace's workloads go to: the mapped one, else {@code fallback} where one
     * is given ({@code *=ns}), else the same name.
     */
    public record NamespaceMap(Map<String, String> entries, Optional<String> fallback) {
        public NamespaceMap {
            entries = Map.copyOf(entries);
            Objects.requireNonNull(fallback, "fallback");
        }

        public static final NamespaceMap IDENTITY = new NamespaceMap(Map.of(), Optional.empty());

        /** {@code from=to,from2=to2,*=to3}; names must be DNS-1123 labels. */
        public static NamespaceMap parse(String text) {
            var entries = new LinkedHashMap<String, String>();
            Optional<String> fallback = Optional.empty();
            if (text == null || text.isBlank()) return IDENTITY;
            for (var part : text.split(",")) {
                var kv = part.trim().split("=", -1);
                if (kv.length != 2 || kv[1].isBlank() || kv[0].isBlank()) {
                    throw InvalidSpecException.of("namespace-map", "expected FROM=TO pairs separated by commas (FROM may be *), got '" + Names.printable(part.trim()) + "'");
                }
                var from = kv[0].trim();
                var to = kv[1].trim();
                if (!CapstanLabels.isDnsLabel(to)) throw InvalidSpecException.of("namespace-map", "'" + Names.printable(to) + "' is not a namespace name (DNS-1123 label)");
                if (from.equals("*")) fallback = Optional.of(to);
                else entries.put(from, to);
            }
            return new NamespaceMap(entries, fallback);
        }

        public String map(String namespace) {
            var mapped = entries.get(namespace);
            if (mapped != null) return mapped;
            return fallback.orElse(namespace);
        }

        /** The one namespace every workload goes to, when there is one: the backend then watches only it. */
        public Optional<String> single() {
            if (fallback.isEmpty()) return Optional.empty();
            return entries.values().stream().allMatch(fallback.get()::equals) ? fallback : Optional.empty();
        }
    }

    /** InferenceService predictors' Deployments, made on first use unless {@link #placingPredictors} chose otherwise. */
    private volatile KubernetesPredictors predictors;

    /**
     * Runs InferenceService predictors as Deployments on this backend's cluster, from {@code modelServerImage} for
     * the built-in formats, reached at the address {@code addresses} gives for a predictor's Service.
     */
    public ServerBackend placingPredictors(String modelServerImage,
                                           java.util.function.Function<io.fabric8.kubernetes.api.model.Service, java.net.InetSocketAddress> addresses) {
        predictors = new KubernetesPredictors(backend.client(), namespaces, modelServerImage, addresses);
        return this;
    }

    /**
     * Where InferenceService predictors run: by default from Capstan's image ({@code CAPSTAN_IMAGE} on the server, else
     * {@value Renderer#DEFAULT_MODEL_SERVER_IMAGE}), reached at their Services' cluster DNS names (the server runs in
     * the cluster).
     */
    @Override
    public io.capstan.backend.PredictorPlacement predictorPlacement() {
        var placed = predictors;
        if (placed == null) {
            var image = System.getenv().getOrDefault("CAPSTAN_IMAGE", "");
            placed = new KubernetesPredictors(backend.client(), namespaces, image.isBlank() ? Renderer.DEFAULT_MODEL_SERVER_IMAGE : image,
                    KubernetesPredictors::clusterAddress);
            predictors = placed;
        }
        return placed;
    }

    @Override
    public WorkloadState launch(WorkloadSpec spec) {
        var env = spec.env();
        var kind = env.get("CAPSTAN_JOB_KIND");
        var jobName = env.get("CAPSTAN_JOB_NAME");
        var capstanNs = spec.namespace().or(() -> Optional.ofNullable(env.get("CAPSTAN_JOB_NAMESPACE"))).orElse("default");
        var ns = namespaces.map(capstanNs);
        if (!CapstanLabels.isDnsLabel(ns)) {
            throw InvalidSpecException.of("metadata.namespace", "namespace '" + Names.printable(ns) + "' is not a Kubernetes namespace name; map it with --namespace-map");
        }
        var pullPolicy = spec.container().pullPolicy().map(p -> p.kubernetesName());
        // Namespaces mapped onto another may meet there: their objects' names carry the namespace they come from.
        var prefix = ns.equals(capstanNs) ? "" : capstanNs + "-";
        // A pipeline step's attempt, staged through S3 by the engine: one Pod (PipelineStepPod).
        if (kind == null && jobName == null && PipelineStepPod.isStep(spec)) {
            var placed = PipelineStepPod.place(spec, prefix, ns, pullPolicy, PipelineStepPod.capstanImage(System.getenv()));
            return backend.launch(placed.spec(), placed.placement());
        }
        if (jobName != null && kind == null && spec.id().startsWith("job_")) {
            int attempt = attempt(spec.id());
            var name = CapstanLabels.objectName(prefix + (attempt == 1 ? jobName : jobName + "-retry-" + attempt));
            var placement = Placement.defaults().inNamespace(ns).named(name).withShape(Placement.Shape.job())
                    .withLabels(Map.of(CapstanLabels.OWNER_KIND, "Job", CapstanLabels.OWNER_NAME, jobName));
            if (pullPolicy.isPresent()) placement = placement.withImagePullPolicy(pullPolicy.get());
            var pod = new WorkloadSpec(spec.id(), spec.command(), env, Optional.empty(), spec.requests(), spec.timeout(), spec.priority(),
                    spec.image(), spec.container(), spec.namespace(), spec.gang());
            return backend.launch(pod, placement.withImageWorkingDir(spec.container().workingDir()));
        }
        if (kind == null && env.containsKey("CAPSTAN_TRIAL_NAME") && spec.id().startsWith("trial_")) {
            return trial(spec, prefix, ns, pullPolicy);
        }
        if ("PyTorchJob".equals(kind) && env.containsKey("CAPSTAN_RANK")) {
            var placed = pytorchRank(spec, jobName, prefix, ns, pullPolicy);
            return backend.launch(placed.spec(), placed.placement());
        }
        if ("TrainJob".equals(kind)) {
            var placed = TrainingPlacement.trainJobNode(spec, jobName, prefix, ns, pullPolicy);
            return backend.launch(placed.spec(), placed.placement());
        }
        if ("XGBoostJob".equals(kind) && env.containsKey("CAPSTAN_RANK")) {
            var placed = TrainingPlacement.xgboostRank(spec, jobName, prefix, ns, pullPolicy);
            return backend.launch(placed.spec(), placed.placement());
        }
        if ("XGBoostJob".equals(kind) && TrainingPlacement.masterOfTracker(spec.id()).isPresent()) {
            // The tracker runs in the master's pod, as upstream's images run it: it is that pod's workload.
            var master = TrainingPlacement.masterOfTracker(spec.id()).get();
            return backend.find(master).map(s -> TrainingPlacement.asTracker(spec.id(), s)).orElseThrow(() -> InvalidSpecException.of("backend",
                    "XGBoostJob '" + jobName + "': its tracker runs in the master's pod, which is launched first; workload '" + master + "' is not"));
        }
        var what = kind != null ? kind + " '" + jobName + "'" : "workload '" + Names.printable(spec.id()) + "'";
        throw InvalidSpecException.of("backend", what + " cannot run on the Kubernetes backend yet: it runs Jobs, PyTorchJobs, TrainJobs, "
                + "XGBoostJobs and Experiments' Job trials; pipelines need the local backend");
    }

    /**
     * A Katib trial's attempt as its template's Job, named after the trial ({@code <trial>-retry-<n>} for a lost
     * trial's later attempts). Its metrics come from the pod's log, which the backend streams into Capstan's log
     * store; the trial folder, the metrics file, checkpoints and the observation URL are this server's, so a trial
     * that needs a file there is refused, and the loopback URL and the token that goes with it are not handed to
     * the pod.
     */
    private WorkloadState trial(WorkloadSpec spec, String prefix, String ns, Optional<String> pullPolicy) {
        var env = new HashMap<>(spec.env());
        var trial = env.get("CAPSTAN_TRIAL_NAME");
        for (var local : List.of("CAPSTAN_METRICS_FILE", "CAPSTAN_CHECKPOINT_DIR")) {
            if (env.containsKey(local)) {
                throw InvalidSpecException.of("spec", "trial '" + trial + "' needs " + local + " in this server's folders, which a pod cannot see; "
                        + "the Kubernetes backend runs trials that report on stdout");
            }
        }
        for (var local : List.of("CAPSTAN_TRIAL_DIR", "CAPSTAN_OBSERVATION_URL", "CAPSTAN_TOKEN")) env.remove(local);
        int attempt = attempt(spec.id());
        var name = CapstanLabels.objectName(prefix + (attempt == 1 ? trial : trial + "-retry-" + attempt));
        var labels = new LinkedHashMap<String, String>();
        labels.put(CapstanLabels.OWNER_KIND, "Trial");
        labels.put(CapstanLabels.OWNER_NAME, trial);
        labels.put(TrialRender.TRIAL_LABEL, trial);
        var experiment = env.get("CAPSTAN_EXPERIMENT_NAME");
        if (experiment != null) labels.put(TrialRender.EXPERIMENT_LABEL, experiment);
        var placement = Placement.defaults().inNamespace(ns).named(name).withShape(Placement.Shape.job()).withLabels(labels)
                .withImageWorkingDir(spec.container().workingDir());
        if (pullPolicy.isPresent()) placement = placement.withImagePullPolicy(pullPolicy.get());
        var pod = new WorkloadSpec(spec.id(), spec.command(), env, Optional.empty(), spec.requests(), spec.timeout(), spec.priority(),
                spec.image(), spec.container(), spec.namespace(), spec.gang());
        return backend.launch(pod, placement);
    }

    record Placed(WorkloadSpec spec, Placement placement) {
    }

    private static Placed pytorchRank(WorkloadSpec spec, String job, String namePrefix, String ns, Optional<String> pullPolicy) {
        var env = spec.env();
        int attempt = Integer.parseInt(env.getOrDefault("CAPSTAN_ATTEMPT", "1"));
        var type = env.getOrDefault("CAPSTAN_REPLICA_TYPE", "Worker").toLowerCase(Locale.ROOT);
        int index = Integer.parseInt(env.getOrDefault("CAPSTAN_REPLICA_INDEX", "0"));
        int node = Integer.parseInt(env.getOrDefault("PET_NODE_RANK", "0"));
        // Processes that Capstan starts one by one (no torchrun) are one pod each, suffixed with their local rank.
        var local = env.containsKey("LOCAL_RANK") && Integer.parseInt(env.getOrDefault("LOCAL_WORLD_SIZE", "1")) > 1 ? "-" + env.get("LOCAL_RANK") : "";
        var prefix = namePrefix + (attempt == 1 ? job : job + "-r" + attempt);
        var podName = CapstanLabels.objectName(prefix + "-" + type + "-" + index + local);
        // Rank 0 is the first Master, or the first Worker where there is none: a Worker whose node rank is ahead of
        // its index has Masters before it.
        var rank0Type = type.equals("master") || node > index ? "master" : type;
        var rank0 = CapstanLabels.objectName(prefix + "-" + rank0Type + "-0" + (local.isEmpty() ? "" : "-0"));
        var newEnv = new HashMap<>(env);
        if (newEnv.containsKey("MASTER_ADDR")) newEnv.put("MASTER_ADDR", rank0);
        if (newEnv.containsKey("PET_MASTER_ADDR")) newEnv.put("PET_MASTER_ADDR", rank0);
        int port = Integer.parseInt(env.getOrDefault("MASTER_PORT", Integer.toString(Renderer.PYTORCH_DEFAULT_PORT)));
        TrainingPlacement.elastic(newEnv, CapstanLabels.objectName(prefix + "-worker-0"), port);
        var labels = new LinkedHashMap<String, String>();
        labels.put(CapstanLabels.OWNER_KIND, "PyTorchJob");
        labels.put(CapstanLabels.OWNER_NAME, job);
        labels.put("training.kubeflow.org/job-name", job);
        labels.put("training.kubeflow.org/operator-name", "pytorchjob-controller");
        labels.put("training.kubeflow.org/replica-type", type);
        labels.put("training.kubeflow.org/replica-index", Integer.toString(index));
        if (type.equals("master")) labels.put("training.kubeflow.org/job-role", "master");
        var placement = Placement.defaults().inNamespace(ns).named(podName).withLabels(labels)
                .withPorts(List.of(new Placement.Port(Renderer.PYTORCH_PORT_NAME, port))).withHeadlessService(podName)
                .withImageWorkingDir(spec.container().workingDir());
        if (pullPolicy.isPresent()) placement = placement.withImagePullPolicy(pullPolicy.get());
        var out = new WorkloadSpec(spec.id(), spec.command(), newEnv, Optional.empty(), spec.requests(), spec.timeout(), spec.priority(),
                spec.image(), spec.container(), spec.namespace(), spec.gang());
        return new Placed(out, placement);
    }

    private static int attempt(String id) {
        try {
            return Integer.parseInt(id.substring(id.lastIndexOf('_') + 1));
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    @Override
    public Optional<WorkloadState> find(String workloadId) {
        var master = TrainingPlacement.masterOfTracker(workloadId);
        if (master.isPresent()) return backend.find(master.get()).map(s -> TrainingPlacement.asTracker(workloadId, s));
        return backend.find(workloadId);
    }

    @Override
    public WorkloadState cancel(String workloadId) {
        var master = TrainingPlacement.masterOfTracker(workloadId);
        if (master.isPresent()) return TrainingPlacement.asTracker(workloadId, backend.cancel(master.get()));
        return backend.cancel(workloadId);
    }

    @Override
    public List<LogLine> tail(String workloadId, int maxLines) {
        return backend.tail(TrainingPlacement.masterOfTracker(workloadId).orElse(workloadId), maxLines);
    }

    @Override
    public List<LogLine> follow(String workloadId, long fromLine, Duration wait) {
        return backend.follow(TrainingPlacement.masterOfTracker(workloadId).orElse(workloadId), fromLine, wait);
    }

    @Override
    public void remove(String workloadId) {
        // A tracker has nothing of its own: the master's pod is removed as the master.
        if (TrainingPlacement.masterOfTracker(workloadId).isPresent()) return;
        backend.remove(workloadId);
    }

    @Override
    public List<WorkloadState> list() {
        return backend.list();
    }

    @Override
    public void close() {
        backend.close();
        try {
            client.close();
        } catch (Exception e) {
            // Nothing is left to do with a client that fails to close.
        }
    }
}
