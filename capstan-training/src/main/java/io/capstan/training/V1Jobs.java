package io.capstan.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.Names;
import io.capstan.core.Problems;
import io.capstan.core.ResourceParser;
import io.capstan.core.SpecFields;
import io.capstan.training.JobPlan.CleanPodPolicy;
import io.capstan.training.JobPlan.Container;
import io.capstan.training.JobPlan.Framework;
import io.capstan.training.JobPlan.ReplicaGroup;
import io.capstan.training.JobPlan.RunPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** The training-operator's kubeflow.org/v1 job kinds: validation and their {@link JobPlan}. */
final class V1Jobs {
    static final int MAX_REPLICAS = 256;
    static final int MAX_PROCS_PER_NODE = 64;
    static final int MAX_BACKOFF_LIMIT = 100;
    static final int MAX_SECONDS = 366 * 24 * 3600;
    static final int DEFAULT_RESTARTS = 3;
    private static final Set<String> RESTART_POLICIES = Set.of("Always", "OnFailure", "Never", "ExitCode");

    /** One v1 kind: where its replicas live, which replica types it has, and its default container's name. */
    enum Kind {
        PYTORCH("PyTorchJob", "pytorchJobs", "pytorchReplicaSpecs", List.of("Master", "Worker"), "pytorch", Framework.TORCH, ""),
        XGBOOST("XGBoostJob", "xgboostjobs", "xgbReplicaSpecs", List.of("Master", "Worker"), "xgboost", Framework.XGBOOST, ""),
        TF("TFJob", "tfjobs", "tfReplicaSpecs", List.of("Chief", "Master", "PS", "Worker", "Evaluator"), "tensorflow", Framework.OTHER,
                "TFJob needs TF_CONFIG wiring of parameter servers and workers, which Capstan does not run locally yet; run it on Kubernetes, or use a PyTorchJob, XGBoostJob or TrainJob"),
        MPI("MPIJob", "mpijobs", "mpiReplicaSpecs", List.of("Launcher", "Worker"), "mpi", Framework.OTHER,
                "MPIJob needs mpirun to reach its workers over ssh, which Capstan does not run locally; run it on Kubernetes, or use a PyTorchJob or TrainJob"),
        PADDLE("PaddleJob", "paddlejobs", "paddleReplicaSpecs", List.of("Master", "Worker"), "paddle", Framework.OTHER,
                "PaddleJob's launch contract is not implemented by Capstan's local backend; run it on Kubernetes"),
        JAX("JAXJob", "jaxjobs", "jaxReplicaSpecs", List.of("Worker"), "jax", Framework.OTHER,
                "JAXJob's coordinator contract is not implemented by Capstan's local backend; run it on Kubernetes, or use a PyTorchJob or TrainJob");

        final String kind;
        final String plural;
        final String replicaField;
        final List<String> replicaTypes;
        final String containerName;
        final Framework framework;
        final String refusal;

        Kind(String kind, String plural, String replicaField, List<String> replicaTypes, String containerName, Framework framework, String refusal) {
            this.kind = kind;
            this.plural = plural.toLowerCase(java.util.Locale.ROOT);
            this.replicaField = replicaField;
            this.replicaTypes = replicaTypes;
            this.containerName = containerName;
            this.framework = framework;
            this.refusal = refusal;
        }

        static Optional<Kind> of(String kind) {
            for (var k : values()) if (k.kind.equals(kind)) return Optional.of(k);
            return Optional.empty();
        }
    }

    private V1Jobs() {
    }

    static void validate(Kind kind, ObjectNode spec, Problems problems) {
        plan(kind, spec, problems);
    }

    /** The plan of a valid spec, or null after adding every problem found. */
    static JobPlan plan(Kind kind, JsonNode spec, Problems problems) {
        var warnings = new ArrayList<String>();
        var base = "spec." + kind.replicaField;
        var groups = new ArrayList<ReplicaGroup>();
        var replicaSpecs = spec.get(kind.replicaField);
        if (!SpecFields.present(replicaSpecs)) {
            problems.add(base, "required: the replica types (" + String.join(", ", kind.replicaTypes) + ") and their pod templates");
        } else if (!replicaSpecs.isObject()) {
            problems.add(base, "expected an object keyed by replica type, got " + ResourceParser.describe(replicaSpecs));
        } else if (replicaSpecs.isEmpty()) {
            problems.add(base, "must name at least one replica type: " + String.join(", ", kind.replicaTypes));
        } else {
            replicaSpecs.properties().forEach(e -> {
                var path = base + "." + e.getKey();
                if (!kind.replicaTypes.contains(e.getKey())) {
                    problems.add(path, "unknown replica type '" + Names.printable(e.getKey()) + "'; " + kind.kind + " has "
                            + String.join(", ", kind.replicaTypes));
                    return;
                }
                var group = replicaGroup(kind, e.getKey(), e.getValue(), path, problems, warnings);
                if (group != null) groups.add(group);
            });
        }
        int masters = groups.stream().filter(g -> g.type().equals(ReplicaGroup.MASTER)).mapToInt(ReplicaGroup::replicas).sum();
        if (masters > 1) {
            problems.add(base + ".Master.replicas", "must be 1, got " + masters + ": a job has one master; put the other nodes under Worker");
        }
        if (kind == Kind.XGBOOST && SpecFields.present(replicaSpecs) && replicaSpecs.isObject() && !replicaSpecs.has("Master")) {
            problems.add(base + ".Master", "required: an XGBoostJob has exactly one Master, which is worker 0 of the collective");
        }
        if (problems.isEmpty() && groups.stream().mapToInt(ReplicaGroup::replicas).sum() == 0) {
            problems.add(base, "every replica type has replicas: 0; a job needs at least one node");
        }

        int procs = 1;
        if (kind == Kind.PYTORCH) {
            procs = procsPerNode(spec.get("nprocPerNode"), "spec.nprocPerNode", groups, problems);
            var elastic = SpecFields.object(spec.get("elasticPolicy"), "spec.elasticPolicy", problems);
            if (elastic.isPresent()) procs = elastic(elastic.get(), spec, groups, procs, problems, warnings);
        }
        var runPolicy = runPolicy(spec, groups, problems, warnings);
        if (!problems.isEmpty()) return null;
        var plan = new JobPlan(kind.framework, groups, procs, runPolicy, Optional.empty(), warnings);
        if (kind.framework == Framework.OTHER) return plan.refused(kind.refusal);
        if (kind == Kind.PYTORCH && spec.path("elasticPolicy").isObject()) {
            var rendezvous = elasticRendezvous(spec.path("elasticPolicy"), groups);
            plan = plan.withContainers(c -> {
                var env = new java.util.LinkedHashMap<>(c.env());
                env.putAll(rendezvous);
                return new Container(c.image(), c.command(), c.args(), env, c.resources(), c.workingDir(), c.configRefs(), c.mounts(), c.pullPolicy());
            });
        }
        return plan;
    }

    private static ReplicaGroup replicaGroup(Kind kind, String type, JsonNode node, String path, Problems problems, List<String> warnings) {
        if (!node.isObject()) {
            problems.add(path, "expected an object with replicas and template, got " + ResourceParser.describe(node));
            return null;
        }
        int replicas = SpecFields.integer(node.get("replicas"), path + ".replicas", 0, MAX_REPLICAS, problems).orElse(1);
        SpecFields.text(node.get("restartPolicy"), path + ".restartPolicy", ContainerFields.MAX_STRING, problems).ifPresent(p -> {
            if (!RESTART_POLICIES.contains(p)) {
                problems.add(path + ".restartPolicy", "'" + Names.printable(p) + "' is not one of Always, OnFailure, Never, ExitCode");
            }
        });
        var container = podContainer(node.get("template"), path + ".template", kind.containerName, problems, warnings);
        return container == null ? null : new ReplicaGroup(type, replicas, container);
    }

    /** Picks the named container of a pod template (else its first) and reads it. */
    static Container podContainer(JsonNode template, String path, String preferredName, Problems problems, List<String> warnings) {
        return podContainer(template, path, preferredName, problems, warnings, true);
    }

    /** As above; a runtime's container may leave the command to its image, so {@code commandRequired} is false there. */
    static Container podContainer(JsonNode template, String path, String preferredName, Problems problems, List<String> warnings,
                                  boolean commandRequired) {
        if (!SpecFields.present(template)) {
            problems.add(path, "required: a pod template with spec.containers");
            return null;
        }
        if (!template.isObject()) {
            problems.add(path, "expected a pod template, got " + ResourceParser.describe(template));
            return null;
        }
        var podSpec = SpecFields.object(template.get("spec"), path + ".spec", problems);
        if (podSpec.isEmpty()) {
            if (!SpecFields.present(template.get("spec"))) problems.add(path + ".spec", "required: the pod spec with containers");
            return null;
        }
        var hostPaths = hostPathVolumes(podSpec.get().get("volumes"), path + ".spec.volumes", problems, warnings);
        for (var ignored : List.of("nodeSelector", "affinity", "tolerations", "serviceAccountName", "initContainers", "hostNetwork")) {
            if (SpecFields.present(podSpec.get().get(ignored))) {
                warnings.add(path + ".spec." + ignored + ": has no meaning for local processes and is ignored");
            }
        }
        var volumes = podSpec.get().path("volumes");
        for (int i = 0; i < volumes.size(); i++) {
            if (!volumes.get(i).has("secret") && !volumes.get(i).has("configMap") && !volumes.get(i).has("hostPath")) {
                warnings.add(path + ".spec.volumes[" + i + "]: only secret, configMap and hostPath volumes are mounted locally; this one is ignored");
            }
        }
        var containers = podSpec.get().get("containers");
        var cpath = path + ".spec.containers";
        if (!SpecFields.present(containers)) {
            problems.add(cpath, "required: at least one container");
            return null;
        }
        if (!containers.isArray() || containers.isEmpty()) {
            problems.add(cpath, "expected a non-empty list of containers, got " + ResourceParser.describe(containers));
            return null;
        }
        int chosen = 0;
        for (int i = 0; i < containers.size(); i++) {
            if (preferredName.equals(containers.get(i).path("name").asText())) chosen = i;
        }
        if (containers.size() > 1) warnings.add(cpath + ": only container '" + containers.get(chosen).path("name").asText() + "' runs locally; sidecars are ignored");
        var c = container(containers.get(chosen), cpath + "[" + chosen + "]", problems, warnings, commandRequired);
        if (c == null) return null;
        if (!volumes.isEmpty()) {
            var withVolumes = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode().set("volumes", volumes.deepCopy());
            c = c.withConfigRefs(ContainerFields.configRefs(c.configRefs(), withVolumes));
        }
        var mounts = volumeMounts(containers.get(chosen).get("volumeMounts"), cpath + "[" + chosen + "].volumeMounts", hostPaths, problems, warnings);
        Optional<io.capstan.backend.ContainerOptions.PullPolicy> pullPolicy = Optional.empty();
        try {
            pullPolicy = io.capstan.backend.ContainerOptions.PullPolicy.parse(containers.get(chosen).path("imagePullPolicy").asText(""),
                    cpath + "[" + chosen + "].imagePullPolicy");
        } catch (io.capstan.core.InvalidSpecException e) {
            e.errors().forEach(err -> problems.add(err.path(), err.message()));
        }
        return new Container(c.image(), c.command(), c.args(), c.env(), c.resources(), c.workingDir(), c.configRefs(), mounts, pullPolicy);
    }

    /**
     * The pod's {@code hostPath} volumes by name (a container sees them through its volumeMounts); other volume kinds
     * have no local meaning and are reported as ignored, with a null path.
     */
    private static java.util.Map<String, String> hostPathVolumes(JsonNode volumes, String path, Problems problems, List<String> warnings) {
        var byName = new java.util.HashMap<String, String>();
        if (!SpecFields.present(volumes)) return byName;
        if (!volumes.isArray()) {
            problems.add(path, "expected a list of volumes, got " + ResourceParser.describe(volumes));
            return byName;
        }
        for (int i = 0; i < volumes.size(); i++) {
            var v = volumes.get(i);
            var name = v.path("name").asText("");
            if (v.has("hostPath")) {
                var host = v.path("hostPath").path("path").asText("");
                if (!host.startsWith("/")) problems.add(path + "[" + i + "].hostPath.path", "required: an absolute folder of this machine");
                else byName.put(name, host);
            } else {
                // Secret and config-map volumes are written by the config resolver; others were warned about above.
                byName.put(name, null);
            }
        }
        return byName;
    }

    private static List<io.capstan.backend.ContainerOptions.Mount> volumeMounts(JsonNode mounts, String path, java.util.Map<String, String> hostPaths,
                                                                               Problems problems, List<String> warnings) {
        var out = new java.util.ArrayList<io.capstan.backend.ContainerOptions.Mount>();
        if (!SpecFields.present(mounts)) return out;
        if (!mounts.isArray()) {
            problems.add(path, "expected a list of volume mounts, got " + ResourceParser.describe(mounts));
            return out;
        }
        for (int i = 0; i < mounts.size(); i++) {
            var m = mounts.get(i);
            var name = m.path("name").asText("");
            var mountPath = m.path("mountPath").asText("");
            if (!hostPaths.containsKey(name)) {
                // A runtime's template may mount a volume that the JobSet or a patch declares elsewhere.
                warnings.add(path + "[" + i + "]: no volume named '" + io.capstan.core.Names.printable(name) + "' in the pod's volumes; ignored");
            } else if (!mountPath.startsWith("/")) {
                problems.add(path + "[" + i + "].mountPath", "required: an absolute path in the container");
            } else if (hostPaths.get(name) != null) {
                out.add(new io.capstan.backend.ContainerOptions.Mount(java.nio.file.Path.of(hostPaths.get(name)), mountPath, m.path("readOnly").asBoolean(false)));
            }
        }
        return out;
    }

    static Container container(JsonNode node, String path, Problems problems, List<String> warnings, boolean commandRequired) {
        if (!node.isObject()) {
            problems.add(path, "expected a container, got " + ResourceParser.describe(node));
            return null;
        }
        var image = SpecFields.text(node.get("image"), path + ".image", ContainerFields.MAX_STRING, problems);
        var command = SpecFields.strings(node.get("command"), path + ".command", ContainerFields.MAX_ARGS, ContainerFields.MAX_STRING, problems);
        var args = SpecFields.strings(node.get("args"), path + ".args", ContainerFields.MAX_ARGS, ContainerFields.MAX_STRING, problems);
        if (commandRequired && command.isEmpty() && image.isEmpty() && !SpecFields.present(node.get("command")) && !SpecFields.present(node.get("image"))) {
            problems.add(path + ".command", "required: the program to run and its arguments (or an image whose entrypoint runs)");
        } else if (SpecFields.present(node.get("command")) && node.get("command").isArray() && node.get("command").isEmpty()) {
            problems.add(path + ".command", "must name at least the program to run");
        }
        var env = ContainerFields.env(node.get("env"), path + ".env", problems, warnings);
        var resources = ContainerFields.resources(node.get("resources"), path + ".resources", problems);
        var workingDir = SpecFields.text(node.get("workingDir"), path + ".workingDir", ContainerFields.MAX_STRING, problems);
        return new Container(image, command, args, env, resources, workingDir, ContainerFields.configRefs(node));
    }

    private static int procsPerNode(JsonNode node, String path, List<ReplicaGroup> groups, Problems problems) {
        if (!SpecFields.present(node)) return 1;
        if (node.isIntegralNumber() || (node.isTextual() && node.asText().matches("[0-9]{1,3}"))) {
            int n = node.asInt();
            if (n < 1 || n > MAX_PROCS_PER_NODE) {
                problems.add(path, "must be from 1 to " + MAX_PROCS_PER_NODE + ", or auto, cpu or gpu; got " + n);
                return 1;
            }
            return n;
        }
        if (node.isTextual()) {
            switch (node.asText()) {
                case "auto", "cpu" -> {
                    return Math.max(1, groups.stream().mapToInt(g -> g.container().resources().gpuCount()).max().orElse(0));
                }
                case "gpu" -> {
                    int gpus = groups.stream().mapToInt(g -> g.container().resources().gpuCount()).max().orElse(0);
                    if (gpus == 0) {
                        problems.add(path, "is gpu but no replica requests nvidia.com/gpu; request GPUs or use a number");
                        return 1;
                    }
                    return gpus;
                }
                default -> { }
            }
        }
        problems.add(path, "expected a number of processes or auto, cpu or gpu; got " + ResourceParser.describe(node));
        return 1;
    }

    private static int elastic(JsonNode elastic, JsonNode spec, List<ReplicaGroup> groups, int procs, Problems problems, List<String> warnings) {
        int min = SpecFields.integer(elastic.get("minReplicas"), "spec.elasticPolicy.minReplicas", 1, MAX_REPLICAS, problems).orElse(1);
        int max = SpecFields.integer(elastic.get("maxReplicas"), "spec.elasticPolicy.maxReplicas", 1, MAX_REPLICAS, problems)
                .orElse(Math.max(min, MAX_REPLICAS));
        SpecFields.integer(elastic.get("maxRestarts"), "spec.elasticPolicy.maxRestarts", 0, MAX_BACKOFF_LIMIT, problems);
        if (min > max) {
            problems.add("spec.elasticPolicy.minReplicas", "is " + min + ", more than maxReplicas " + max + "; set minReplicas <= maxReplicas");
        }
        int workers = groups.stream().filter(g -> g.type().equals(ReplicaGroup.WORKER)).mapToInt(ReplicaGroup::replicas).sum();
        if (min <= max && (workers < min || workers > max)) {
            problems.add("spec.pytorchReplicaSpecs.Worker.replicas", "is " + workers + ", outside elasticPolicy's range [" + min + ", " + max + "]");
        }
        if (SpecFields.present(elastic.get("nProcPerNode"))) {
            int n = SpecFields.integer(elastic.get("nProcPerNode"), "spec.elasticPolicy.nProcPerNode", 1, MAX_PROCS_PER_NODE, problems).orElse(1);
            if (SpecFields.present(spec.get("nprocPerNode")) && n != procs) {
                problems.add("spec.elasticPolicy.nProcPerNode", "is " + n + " but spec.nprocPerNode is " + procs + "; set only one of them");
            }
            procs = n;
        }
        for (var f : List.of("rdzvBackend", "rdzvHost", "rdzvPort", "rdzvId", "rdzvConf", "metrics")) {
            if (SpecFields.present(elastic.get(f))) {
                warnings.add("spec.elasticPolicy." + f + ": Capstan runs a static rendezvous on loopback; ignored"
                        + (f.equals("metrics") ? "" : " (the Kubernetes backend passes it to the pods as PET_*)"));
            }
        }
        return procs;
    }

    /**
     * An elastic job's rendezvous settings, for a backend that runs its ranks apart (Kubernetes turns them into the
     * training-operator's PET_RDZV_*, PET_NNODES=min:max and the like); locally the ranks meet on the loopback and
     * these variables are not read.
     */
    private static Map<String, String> elasticRendezvous(JsonNode elastic, List<ReplicaGroup> groups) {
        var env = new java.util.LinkedHashMap<String, String>();
        var p = "CAPSTAN_ELASTIC_";
        if (elastic.has("minReplicas") || elastic.has("maxReplicas")) {
            int min = elastic.path("minReplicas").asInt(1);
            env.put(p + "NNODES", min + ":" + elastic.path("maxReplicas").asInt(Math.max(min, MAX_REPLICAS)));
        } else {
            env.put(p + "NNODES", Integer.toString(groups.stream().filter(g -> g.type().equals(ReplicaGroup.WORKER)).mapToInt(ReplicaGroup::replicas).sum()));
        }
        if (elastic.path("rdzvBackend").isTextual()) env.put(p + "RDZV_BACKEND", elastic.get("rdzvBackend").asText());
        if (elastic.path("rdzvHost").isTextual()) env.put(p + "RDZV_HOST", elastic.get("rdzvHost").asText());
        if (elastic.path("rdzvPort").canConvertToInt()) env.put(p + "RDZV_PORT", Integer.toString(elastic.get("rdzvPort").asInt()));
        if (elastic.path("rdzvId").isTextual()) env.put(p + "RDZV_ID", elastic.get("rdzvId").asText());
        if (elastic.path("maxRestarts").canConvertToInt()) env.put(p + "MAX_RESTARTS", Integer.toString(elastic.get("maxRestarts").asInt()));
        if (elastic.path("nProcPerNode").canConvertToInt()) env.put(p + "NPROC_PER_NODE", Integer.toString(elastic.get("nProcPerNode").asInt()));
        if (elastic.path("rdzvConf").isArray() && !elastic.get("rdzvConf").isEmpty()) {
            var conf = new java.util.ArrayList<String>();
            for (var kv : elastic.get("rdzvConf")) conf.add(kv.path("key").asText() + "=" + kv.path("value").asText());
            env.put(p + "RDZV_CONF", String.join(",", conf));
        }
        if (elastic.path("standalone").asBoolean(false)) env.put(p + "STANDALONE", "");
        return env;
    }

    private static RunPolicy runPolicy(JsonNode spec, List<ReplicaGroup> groups, Problems problems, List<String> warnings) {
        var rp = SpecFields.object(spec.get("runPolicy"), "spec.runPolicy", problems).orElse(MissingNode.getInstance());
        var clean = SpecFields.text(rp.get("cleanPodPolicy"), "spec.runPolicy.cleanPodPolicy", ContainerFields.MAX_STRING, problems)
                .map(s -> CleanPodPolicy.of(s).orElseGet(() -> {
                    problems.add("spec.runPolicy.cleanPodPolicy", "'" + Names.printable(s) + "' is not one of None, Running, All");
                    return CleanPodPolicy.None;
                }))
                .orElse(CleanPodPolicy.None);
        int backoff = SpecFields.integer(rp.get("backoffLimit"), "spec.runPolicy.backoffLimit", 0, MAX_BACKOFF_LIMIT, problems).orElse(defaultBackoff(spec));
        if (SpecFields.present(spec.path("elasticPolicy").get("maxRestarts")) && !rp.has("backoffLimit")) {
            backoff = spec.path("elasticPolicy").path("maxRestarts").asInt(0);
        }
        var deadline = seconds(rp, "activeDeadlineSeconds", "spec.runPolicy.activeDeadlineSeconds", 1, problems);
        var ttl = seconds(rp, "ttlSecondsAfterFinished", "spec.runPolicy.ttlSecondsAfterFinished", 0, problems);
        boolean suspend = SpecFields.bool(rp.get("suspend"), "spec.runPolicy.suspend", false, problems);
        if (SpecFields.present(rp.get("schedulingPolicy"))) {
            warnings.add("spec.runPolicy.schedulingPolicy: Capstan admits every job as a gang on this machine; queue and priority class are ignored");
        }
        return new RunPolicy(clean, backoff, deadline, ttl, suspend);
    }

    /**
     * Without a backoffLimit, Kubeflow restarts failed pods whose restartPolicy allows it without end; Capstan restarts
     * the whole job up to {@value #DEFAULT_RESTARTS} times in that case, and never when every replica says Never.
     */
    private static int defaultBackoff(JsonNode spec) {
        for (var kind : Kind.values()) {
            var specs = spec.get(kind.replicaField);
            if (specs == null || !specs.isObject()) continue;
            for (var replica : specs) {
                var policy = replica.path("restartPolicy").asText("OnFailure");
                if (!policy.equals("Never")) return DEFAULT_RESTARTS;
            }
        }
        return 0;
    }

    static Optional<Duration> seconds(JsonNode parent, String field, String path, int min, Problems problems) {
        if (parent == null || !SpecFields.present(parent.get(field))) return Optional.empty();
        var node = parent.get(field);
        if (node.isIntegralNumber() && node.canConvertToLong() && node.asLong() < min) {
            problems.add(path, "must be at least " + min + " second" + (min == 1 ? "" : "s") + ", got " + node.asLong());
            return Optional.empty();
        }
        var v = SpecFields.integer(node, path, min, MAX_SECONDS, problems);
        return v.isPresent() ? Optional.of(Duration.ofSeconds(v.getAsInt())) : Optional.empty();
    }
}
