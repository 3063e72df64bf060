package io.capstan.training;

import io.capstan.backend.ContainerOptions;
import io.capstan.backend.ResourceRequest;
import io.capstan.backend.WorkloadSpec;
import io.capstan.core.Resource;
import io.capstan.training.JobPlan.Framework;
import io.capstan.training.xgboost.XGBoostTracker;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Every workload of one attempt of a job, with the environment Kubeflow's controllers give each pod. Deterministic
 * in the plan, the job's uid, the attempt and the ports recorded in status, so that a relaunch after a crash
 * produces the very same specs and the backend's idempotent launch accepts it.
 */
record Gang(List<Member> members) {
    static final String LOOPBACK = "127.0.0.1";
    static final int TRACKER_TIMEOUT_SECONDS = 24 * 3600;

    Gang {
        members = List.copyOf(members);
    }

    /** One rank (or the tracker): where it sits in the job and what to launch. */
    record Member(String replicaType, int index, int rank, boolean isTracker, WorkloadSpec spec) {
    }

    /** Where the job's files live: its shared working folder, model output and fetched initializer data. */
    record Dirs(Path work, Path model, Path initializers) {
        static Dirs under(Path jobDir) {
            return new Dirs(jobDir.resolve("work"), jobDir.resolve("model"), jobDir.resolve("init"));
        }
    }

    static Gang of(Resource job, JobPlan plan, int attempt, int port, Dirs dirs) {
        var uid = job.metadata().uid();
        var common = new HashMap<String, String>();
        common.put("CAPSTAN_JOB_NAME", job.metadata().name());
        common.put("CAPSTAN_JOB_NAMESPACE", job.metadata().namespace());
        common.put("CAPSTAN_JOB_KIND", job.kind());
        common.put("CAPSTAN_JOB_UID", uid);
        common.put("CAPSTAN_ATTEMPT", String.valueOf(attempt));
        common.put("CAPSTAN_MODEL_DIR", dirs.model().toString());
        common.put("PYTHONUNBUFFERED", "1");
        for (var fetch : plan.fetches()) common.put(fetch.envName(), dirs.initializers().resolve(fetch.name()).toString());

        var members = new ArrayList<Member>();
        int nodes = plan.nodes();
        int procs = plan.procsPerNode();
        int node = 0;
        for (var group : plan.groups()) {
            var c = group.container();
            boolean torchrun = plan.framework() == Framework.TORCH && c.usesTorchrun();
            int perNode = plan.framework() == Framework.TORCH && !torchrun ? procs : 1;
            for (int i = 0; i < group.replicas(); i++, node++) {
                for (int local = 0; local < perNode; local++) {
                    int rank = node * perNode + local;
                    var env = new HashMap<>(common);
                    env.putAll(c.env());
                    env.put("CAPSTAN_REPLICA_TYPE", group.type());
                    env.put("CAPSTAN_REPLICA_INDEX", String.valueOf(i));
                    env.put("CAPSTAN_RANK", String.valueOf(rank));
                    switch (plan.framework()) {
                        case TORCH -> torch(env, nodes, procs, node, local, port, torchrun);
                        case XGBOOST -> xgboost(env, nodes, node, port);
                        case OTHER -> throw new IllegalStateException("refused plans have no gang: " + plan.refusal().orElse(""));
                    }
                    var requests = perProcess(c.resources(), perNode);
                    var workingDir = c.workingDir().map(Path::of).orElse(dirs.work());
                    var spec = new WorkloadSpec(TrainingWorkloads.workloadId(uid, attempt, rank), c.commandLine(), env,
                            Optional.of(workingDir), requests, Optional.empty(), 0, c.image(), containerOptions(job, c, dirs));
                    members.add(new Member(group.type(), i * perNode + local, rank, false, spec));
                }
            }
        }
        // The ranks are charged to the job's namespace and admitted together; the XGBoost tracker is not a rank (in
        // Kubeflow it runs in the master's pod), so it is charged to no quota.
        int ranks = members.size();
        members.replaceAll(m -> new Member(m.replicaType(), m.index(), m.rank(), m.isTracker(),
                m.spec().withNamespace(job.metadata().namespace()).withGang(uid + "-" + attempt, ranks)));
        if (plan.framework() == Framework.XGBOOST) {
            var command = new ArrayList<>(JavaCommand.of(XGBoostTracker.class));
            command.addAll(List.of(String.valueOf(nodes), LOOPBACK, String.valueOf(port), String.valueOf(TRACKER_TIMEOUT_SECONDS)));
            var spec = new WorkloadSpec(TrainingWorkloads.trackerId(uid, attempt), command, common, Optional.of(dirs.work()),
                    ResourceRequest.NONE, Optional.empty(), 0, Optional.empty());
            members.add(new Member(TrainingWorkloads.TRACKER, 0, -1, true, spec));
        }
        return new Gang(members);
    }

    /**
     * In a container, a rank sees the job's folders (work, model, init) at their own paths, its hostPath volumes, and
     * a container workingDir as a folder of its image; it is on the host's network, so MASTER_ADDR (the loopback)
     * reaches rank 0 as it does between processes.
     */
    private static ContainerOptions containerOptions(Resource job, JobPlan.Container c, Dirs dirs) {
        var execution = ContainerOptions.Execution.parse(job.metadata().annotations().get(ContainerOptions.EXECUTION_ANNOTATION),
                "metadata.annotations[" + ContainerOptions.EXECUTION_ANNOTATION + "]");
        var mounts = new ArrayList<ContainerOptions.Mount>();
        // The job's folder holds all three (work and model exist before a launch; init only when something was fetched).
        mounts.add(ContainerOptions.Mount.samePath(dirs.work().getParent()));
        mounts.addAll(c.mounts());
        return new ContainerOptions(execution, c.pullPolicy(), mounts, c.workingDir().filter(w -> w.startsWith("/")));
    }

    /**
     * Kubeflow's torch contract. PET_* is what its torch runtime gives a node for torchrun; when Capstan starts each
     * process itself it also sets what torchrun would give that process.
     */
    private static void torch(Map<String, String> env, int nodes, int procs, int node, int local, int port, boolean torchrun) {
        env.put("PET_NNODES", String.valueOf(nodes));
        env.put("PET_NPROC_PER_NODE", String.valueOf(procs));
        env.put("PET_NODE_RANK", String.valueOf(node));
        env.put("PET_MASTER_ADDR", LOOPBACK);
        env.put("PET_MASTER_PORT", String.valueOf(port));
        env.put("MASTER_ADDR", LOOPBACK);
        env.put("MASTER_PORT", String.valueOf(port));
        if (torchrun) return;
        int world = nodes * procs;
        int rank = node * procs + local;
        env.put("WORLD_SIZE", String.valueOf(world));
        env.put("RANK", String.valueOf(rank));
        env.put("LOCAL_RANK", String.valueOf(local));
        env.put("LOCAL_WORLD_SIZE", String.valueOf(procs));
        env.put("GROUP_RANK", String.valueOf(node));
        env.put("GROUP_WORLD_SIZE", String.valueOf(nodes));
        env.put("ROLE_RANK", String.valueOf(rank));
        env.put("ROLE_WORLD_SIZE", String.valueOf(world));
        env.put("ROLE_NAME", "default");
    }

    /** The XGBoostJob tracker contract; the tracker itself is the extra member this gang runs. */
    private static void xgboost(Map<String, String> env, int nodes, int node, int port) {
        env.put("DMLC_TRACKER_URI", LOOPBACK);
        env.put("DMLC_TRACKER_PORT", String.valueOf(port));
        env.put("DMLC_NUM_WORKER", String.valueOf(nodes));
        env.put("DMLC_TASK_ID", String.valueOf(node));
        env.put("WORLD_SIZE", String.valueOf(nodes));
        env.put("RANK", String.valueOf(node));
    }

    /** A node's resources split evenly over its processes; GPUs go whole to each process where they divide. */
    private static ResourceRequest perProcess(ResourceRequest node, int processes) {
        if (processes == 1) return node;
        int gpus = node.gpuCount() == 0 ? 0 : Math.max(1, node.gpuCount() / processes);
        return new ResourceRequest(node.cpus() / processes, node.memoryBytes() / processes, gpus);
    }

    ResourceRequest total() {
        double cpus = 0;
        long memory = 0;
        int gpus = 0;
        for (var m : members) {
            cpus += m.spec().requests().cpus();
            memory += m.spec().requests().memoryBytes();
            gpus += m.spec().requests().gpuCount();
        }
        return new ResourceRequest(cpus, memory, gpus);
    }

    List<Member> ranks() {
        return members.stream().filter(m -> !m.isTracker()).toList();
    }
}
