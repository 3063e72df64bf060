package io.capstan.kubernetes;

import io.capstan.backend.WorkloadPhase;
import io.capstan.backend.WorkloadSpec;
import io.capstan.backend.WorkloadState;
import io.capstan.core.InvalidSpecException;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Where the training engine's workloads for TrainJobs and XGBoostJobs go on the cluster (see {@link ServerBackend}).
 * The engine writes each rank for one machine (the loopback, ports it chose, a tracker it runs itself); this puts it
 * in upstream's shape:
 * <ul>
 *   <li>a TrainJob's nodes are the members of one Indexed Job {@code <tj>-node-0} (completions = parallelism =
 *       numNodes) with a headless Service {@code <tj>} as the pods' subdomain, as Trainer v2's JobSet shape without
 *       JobSet: PET_NODE_RANK (and the other per-node numbers) come from the completion index, and
 *       {@code PET_MASTER_ADDR=<tj>-node-0-0.<tj>}, {@code PET_MASTER_PORT=29500};</li>
 *   <li>an XGBoostJob's ranks are a Pod and a headless Service each, {@code <job>-master-0} and
 *       {@code <job>-worker-<i>}, with the training-operator's MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK,
 *       WORKER_ADDRS, WORKER_PORT and XGBoost's DMLC_* naming the master; the tracker runs in the master, as
 *       upstream's images do, so Capstan's own tracker workload is the master's pod.</li>
 * </ul>
 * Attempts after the first get names of their own ({@code <tj>-r<n>}), as PyTorchJobs' do.
 */
final class TrainingPlacement {
    /** Variables whose value is the node's number: from the completion index in an Indexed Job's pod. */
    private static final List<String> PER_NODE = List.of("PET_NODE_RANK", "CAPSTAN_RANK", "CAPSTAN_REPLICA_INDEX", "RANK", "GROUP_RANK", "ROLE_RANK");
    /** The prefix of the training engine's variables that describe an elastic PyTorchJob's rendezvous. */
    static final String ELASTIC = "CAPSTAN_ELASTIC_";
    private static final Pattern TRACKER = Pattern.compile("(trn_.+_[0-9]+_)tracker");

    private TrainingPlacement() {
    }

    /** One node of a TrainJob's attempt, as a member of the attempt's Indexed Job. */
    static ServerBackend.Placed trainJobNode(WorkloadSpec spec, String job, String namePrefix, String ns, Optional<String> pullPolicy) {
        var env = spec.env();
        if (env.containsKey("DMLC_TRACKER_URI") || !env.containsKey("CAPSTAN_RANK")) {
            throw InvalidSpecException.of("spec.runtimeRef", "TrainJob '" + job + "' runs an xgboost runtime, whose workers and tracker are Capstan's "
                    + "own Java processes on this server's machine; on the Kubernetes backend run it as an XGBoostJob, or start the server with --backend local");
        }
        if (Integer.parseInt(env.getOrDefault("LOCAL_WORLD_SIZE", "1")) > 1) {
            throw InvalidSpecException.of("spec.trainer.command", "TrainJob '" + job + "' runs " + env.get("LOCAL_WORLD_SIZE")
                    + " processes per node without torchrun; a node is one pod on the Kubernetes backend, so start them with torchrun "
                    + "(which reads PET_*) or set numProcPerNode to 1");
        }
        int attempt = Integer.parseInt(env.getOrDefault("CAPSTAN_ATTEMPT", "1"));
        int nodes = Integer.parseInt(env.getOrDefault("PET_NNODES", "1"));
        var base = namePrefix + (attempt == 1 ? job : job + "-r" + attempt);
        var service = CapstanLabels.objectName(base);
        var jobName = CapstanLabels.objectName(service + "-node-0");
        // The Job controller names each pod's host <job>-<index> in the subdomain of the Service.
        var master = jobName + "-0." + service;
        var rank = spec.id().lastIndexOf('_');
        var members = new ArrayList<String>();
        for (int i = 0; i < nodes; i++) members.add(spec.id().substring(0, rank + 1) + i);

        var newEnv = new HashMap<>(env);
        var fromIndex = new ArrayList<EnvVar>();
        for (var name : PER_NODE) {
            if (newEnv.remove(name) != null) {
                fromIndex.add(new EnvVarBuilder().withName(name).withNewValueFrom().withNewFieldRef()
                        .withFieldPath(Renderer.COMPLETION_INDEX).endFieldRef().endValueFrom().build());
            }
        }
        var port = Integer.toString(Renderer.TORCH_MASTER_PORT);
        newEnv.put("PET_MASTER_ADDR", master);
        newEnv.put("PET_MASTER_PORT", port);
        if (newEnv.containsKey("MASTER_ADDR")) newEnv.put("MASTER_ADDR", master);
        if (newEnv.containsKey("MASTER_PORT")) newEnv.put("MASTER_PORT", port);
        var container = new Container();
        container.setName(Renderer.TRAINJOB_CONTAINER);
        container.setEnv(fromIndex);
        var template = new PodTemplateSpec();
        template.setSpec(new PodSpec());
        template.getSpec().setContainers(List.of(container));

        var labels = new LinkedHashMap<String, String>();
        labels.put(CapstanLabels.OWNER_KIND, "TrainJob");
        labels.put(CapstanLabels.OWNER_NAME, job);
        labels.put("trainer.kubeflow.org/trainjob-name", job);
        var placement = Placement.defaults().inNamespace(ns).named(jobName).withShape(new Placement.Shape.Indexed(members))
                .withLabels(labels).withTemplate(template, Renderer.TRAINJOB_CONTAINER)
                .withPorts(List.of(new Placement.Port("torch", Renderer.TORCH_MASTER_PORT))).withHeadlessService(service)
                .withImageWorkingDir(spec.container().workingDir());
        if (pullPolicy.isPresent()) placement = placement.withImagePullPolicy(pullPolicy.get());
        var out = new WorkloadSpec(spec.id(), spec.command(), newEnv, Optional.empty(), spec.requests(), spec.timeout(), spec.priority(),
                spec.image(), spec.container(), spec.namespace(), spec.gang());
        return new ServerBackend.Placed(out, placement);
    }

    /** One rank of an XGBoostJob: a Pod with a headless Service, finding the master (and its tracker) by its Service. */
    static ServerBackend.Placed xgboostRank(WorkloadSpec spec, String job, String namePrefix, String ns, Optional<String> pullPolicy) {
        var env = spec.env();
        int attempt = Integer.parseInt(env.getOrDefault("CAPSTAN_ATTEMPT", "1"));
        var type = env.getOrDefault("CAPSTAN_REPLICA_TYPE", "Worker").toLowerCase(Locale.ROOT);
        int index = Integer.parseInt(env.getOrDefault("CAPSTAN_REPLICA_INDEX", "0"));
        int total = Integer.parseInt(env.getOrDefault("DMLC_NUM_WORKER", env.getOrDefault("WORLD_SIZE", "1")));
        var prefix = namePrefix + (attempt == 1 ? job : job + "-r" + attempt);
        var podName = CapstanLabels.objectName(prefix + "-" + type + "-" + index);
        // An XGBoostJob has exactly one Master, which is worker 0 of the collective and runs the tracker.
        var master = CapstanLabels.objectName(prefix + "-master-0");
        var port = env.getOrDefault("DMLC_TRACKER_PORT", Integer.toString(Renderer.XGBOOST_DEFAULT_PORT));
        var newEnv = new HashMap<>(env);
        newEnv.put("MASTER_ADDR", master);
        newEnv.put("MASTER_PORT", port);
        newEnv.put("DMLC_TRACKER_URI", master);
        newEnv.put("DMLC_TRACKER_PORT", port);
        newEnv.put("DMLC_ROLE", "worker");
        newEnv.put("PYTHONUNBUFFERED", "0");
        if (total > 1) {
            var workers = new ArrayList<String>();
            for (int i = 0; i < total - 1; i++) workers.add(CapstanLabels.objectName(prefix + "-worker-" + i));
            newEnv.put("WORKER_PORT", port);
            newEnv.put("WORKER_ADDRS", String.join(",", workers));
        }
        var labels = new LinkedHashMap<String, String>();
        labels.put(CapstanLabels.OWNER_KIND, "XGBoostJob");
        labels.put(CapstanLabels.OWNER_NAME, job);
        labels.put("training.kubeflow.org/job-name", job);
        labels.put("training.kubeflow.org/operator-name", "xgboostjob-controller");
        labels.put("training.kubeflow.org/replica-type", type);
        labels.put("training.kubeflow.org/replica-index", Integer.toString(index));
        if (type.equals("master")) labels.put("training.kubeflow.org/job-role", "master");
        var placement = Placement.defaults().inNamespace(ns).named(podName).withLabels(labels)
                .withPorts(List.of(new Placement.Port(Renderer.XGBOOST_PORT_NAME, Integer.parseInt(port)))).withHeadlessService(podName)
                .withImageWorkingDir(spec.container().workingDir());
        if (pullPolicy.isPresent()) placement = placement.withImagePullPolicy(pullPolicy.get());
        var out = new WorkloadSpec(spec.id(), spec.command(), newEnv, Optional.empty(), spec.requests(), spec.timeout(), spec.priority(),
                spec.image(), spec.container(), spec.namespace(), spec.gang());
        return new ServerBackend.Placed(out, placement);
    }

    /**
     * An elastic PyTorchJob's rendezvous, which the training engine hands over as {@code CAPSTAN_ELASTIC_*} (locally
     * its ranks meet on the loopback), as the training-operator's elastic.go sets it: PET_RDZV_ENDPOINT
     * ({@code rdzvHost}, else the first worker's Service, and {@code rdzvPort}, else the job's port), PET_RDZV_BACKEND
     * (c10d by default), PET_NNODES ({@code min:max}), and where given PET_MAX_RESTARTS, PET_NPROC_PER_NODE,
     * PET_RDZV_ID, PET_RDZV_CONF and PET_STANDALONE.
     */
    static void elastic(Map<String, String> env, String firstWorker, int port) {
        if (!env.containsKey(ELASTIC + "NNODES")) return;
        var host = env.getOrDefault(ELASTIC + "RDZV_HOST", firstWorker);
        var rdzvPort = env.getOrDefault(ELASTIC + "RDZV_PORT", Integer.toString(port));
        env.put("PET_RDZV_ENDPOINT", host + ":" + rdzvPort);
        env.put("PET_RDZV_BACKEND", env.getOrDefault(ELASTIC + "RDZV_BACKEND", "c10d"));
        env.put("PET_NNODES", env.get(ELASTIC + "NNODES"));
        for (var name : List.of("MAX_RESTARTS", "NPROC_PER_NODE", "RDZV_ID", "RDZV_CONF", "STANDALONE")) {
            var value = env.get(ELASTIC + name);
            if (value != null) env.put("PET_" + name, value);
        }
        env.keySet().removeIf(k -> k.startsWith(ELASTIC));
    }

    /** The master's workload id for an XGBoostJob tracker's id ({@code trn_<uid>_<attempt>_tracker}); empty for any other id. */
    static Optional<String> masterOfTracker(String workloadId) {
        var m = TRACKER.matcher(workloadId);
        return m.matches() ? Optional.of(m.group(1) + "0") : Optional.empty();
    }

    /** The master's state, as the state of the tracker that runs in its pod. */
    static WorkloadState asTracker(String trackerId, WorkloadState master) {
        var message = master.phase() == WorkloadPhase.QUEUED || master.phase() == WorkloadPhase.RUNNING
                ? "runs in the master's pod: " + master.message() : master.message();
        return new WorkloadState(trackerId, master.phase(), master.exitCode(), message, master.startedAt(), master.finishedAt(), master.gpus(), master.quotaWait());
    }
}
