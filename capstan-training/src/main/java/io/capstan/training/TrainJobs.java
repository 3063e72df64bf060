package io.capstan.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.Names;
import io.capstan.core.Problems;
import io.capstan.core.Resource;
import io.capstan.core.ResourceParser;
import io.capstan.core.SpecFields;
import io.capstan.training.JobPlan.CleanPodPolicy;
import io.capstan.training.JobPlan.Container;
import io.capstan.training.JobPlan.Framework;
import io.capstan.training.JobPlan.ReplicaGroup;
import io.capstan.training.JobPlan.RunPolicy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/** Trainer's v1alpha1 TrainJob and (Cluster)TrainingRuntime: validation, and the plan of a TrainJob on its runtime. */
final class TrainJobs {
    static final String GROUP = "trainer.kubeflow.org";
    static final String NODE = "node";
    private static final Set<String> RUNTIME_KINDS = Set.of("TrainingRuntime", "ClusterTrainingRuntime");
    private static final List<String> POLICIES = List.of("torch", "xgboost", "mpi", "jax", "flux", "mlx", "deepspeed", "plainml");

    private TrainJobs() {
    }

    /** The runtime a TrainJob names: kind and name. */
    record RuntimeRef(String kind, String name) {
    }

    static void validateTrainJob(ObjectNode spec, Problems problems, Function<RuntimeRef, Optional<Resource>> runtimes) {
        var ref = runtimeRef(spec, problems);
        if (ref.isEmpty() || !problems.isEmpty()) {
            readTrainer(spec, problems, new ArrayList<>());
            return;
        }
        var runtime = runtimes.apply(ref.get());
        if (runtime.isEmpty()) {
            problems.add("spec.runtimeRef.name", "no " + ref.get().kind() + " named '" + Names.printable(ref.get().name())
                    + "'; built-in runtimes are " + String.join(", ", BuiltInRuntimes.NAMES) + ", or apply your own first");
            readTrainer(spec, problems, new ArrayList<>());
            return;
        }
        plan(spec, runtime.get().spec(), problems);
    }

    /** Structure only: for the static kind constant, which cannot see which runtimes exist. */
    static void validateTrainJob(ObjectNode spec, Problems problems) {
        validateTrainJob(spec, problems, ref -> BuiltInRuntimes.find(ref.name())
                .or(() -> Optional.of(Resource.of(GROUP + "/v1alpha1", ref.kind(), io.capstan.core.ObjectMeta.named("default", ref.name()),
                        io.capstan.core.Json.json().createObjectNode()))));
    }

    static void validateRuntime(ObjectNode spec, Problems problems) {
        runtimePolicy(spec, problems);
        nodeContainer(spec, problems, new ArrayList<>());
    }

    static Optional<RuntimeRef> runtimeRef(JsonNode spec, Problems problems) {
        var ref = SpecFields.object(spec.get("runtimeRef"), "spec.runtimeRef", problems);
        if (ref.isEmpty()) {
            if (!SpecFields.present(spec.get("runtimeRef"))) {
                problems.add("spec.runtimeRef", "required: the TrainingRuntime or ClusterTrainingRuntime to run on, such as {name: torch-distributed}");
            }
            return Optional.empty();
        }
        var name = SpecFields.text(ref.get().get("name"), "spec.runtimeRef.name", ContainerFields.MAX_STRING, problems);
        if (name.isEmpty() && !SpecFields.present(ref.get().get("name"))) problems.add("spec.runtimeRef.name", "required: the runtime's name");
        var group = SpecFields.text(ref.get().get("apiGroup"), "spec.runtimeRef.apiGroup", ContainerFields.MAX_STRING, problems).orElse(GROUP);
        if (!group.equals(GROUP)) problems.add("spec.runtimeRef.apiGroup", "must be " + GROUP + ", got '" + Names.printable(group) + "'");
        var kind = SpecFields.text(ref.get().get("kind"), "spec.runtimeRef.kind", ContainerFields.MAX_STRING, problems).orElse("ClusterTrainingRuntime");
        if (!RUNTIME_KINDS.contains(kind)) {
            problems.add("spec.runtimeRef.kind", "must be TrainingRuntime or ClusterTrainingRuntime, got '" + Names.printable(kind) + "'");
        }
        return name.map(n -> new RuntimeRef(kind, n));
    }

    /** The plan of a TrainJob on a runtime's spec; null after adding every problem. */
    static JobPlan plan(JsonNode spec, JsonNode runtimeSpec, Problems problems) {
        var warnings = new ArrayList<String>();
        var policy = runtimePolicy(runtimeSpec, problems);
        var base = nodeContainer(runtimeSpec, problems, warnings);
        var trainer = readTrainer(spec, problems, warnings);
        if (!problems.isEmpty() || base == null) return null;
        var framework = switch (policy.name()) {
            case "torch" -> Framework.TORCH;
            case "xgboost" -> Framework.XGBOOST;
            default -> Framework.OTHER;
        };
        var command = trainer.command.isEmpty() ? base.command() : trainer.command;
        var args = trainer.command.isEmpty() && trainer.args.isEmpty() ? base.args() : trainer.args;
        if (framework == Framework.XGBOOST && command.isEmpty()) {
            command = JavaCommand.of(io.capstan.training.xgboost.XGBoostWorker.class);
        }
        if (command.isEmpty() && framework != Framework.OTHER) {
            problems.add("spec.trainer.command", "required: the runtime's image has no command Capstan can run locally; set trainer.command");
            return null;
        }
        var env = new LinkedHashMap<>(base.env());
        env.putAll(trainer.env);
        var container = new Container(trainer.image.or(base::image), command, args, env,
                trainer.resources.orElse(base.resources()), base.workingDir(), ContainerFields.configRefs(base.configRefs(), spec.path("trainer")));
        int nodes = trainer.numNodes.orElse(policy.numNodes);
        int procs = trainer.numProcPerNode.or(() -> policy.numProcPerNode).map(p -> procs(p, container)).orElse(1);
        if (framework == Framework.XGBOOST && procs > 1) {
            problems.add("spec.trainer.numProcPerNode", "is " + procs + " but the xgboost runtime runs one worker per node; set numNodes instead");
            return null;
        }
        var initializers = Initializer.read(spec, problems);
        if (!problems.isEmpty()) return null;
        var envWithInit = new LinkedHashMap<>(container.env());
        initializers.forEach(i -> envWithInit.putAll(i.env()));
        var finalContainer = new Container(container.image(), container.command(), container.args(), envWithInit,
                container.resources(), container.workingDir(), container.configRefs());
        boolean suspend = SpecFields.bool(spec.get("suspend"), "spec.suspend", false, problems);
        int maxRestarts = SpecFields.integer(runtimeSpec.path("template").path("spec").path("failurePolicy").get("maxRestarts"),
                "spec.template.spec.failurePolicy.maxRestarts", 0, V1Jobs.MAX_BACKOFF_LIMIT, problems).orElse(0);
        if (SpecFields.present(spec.get("runtimePatches")) || SpecFields.present(spec.get("podTemplateOverrides"))) {
            warnings.add("spec.runtimePatches: pod metadata and scheduling fields have no meaning for local processes and are ignored");
        }
        var runPolicy = new RunPolicy(CleanPodPolicy.All, maxRestarts, Optional.empty(), Optional.empty(), suspend);
        var fetches = initializers.stream().filter(i -> i.fetchUri().isPresent()).toList();
        var plan = new JobPlan(framework, List.of(new ReplicaGroup(NODE, nodes, finalContainer)), procs, runPolicy, Optional.empty(), warnings)
                .withFetches(fetches);
        var unreachable = initializers.stream().flatMap(i -> i.refusal().stream()).findFirst();
        if (unreachable.isPresent()) return plan.refused(unreachable.get());
        if (framework == Framework.OTHER) {
            return plan.refused("mlPolicy." + policy.name() + ": Capstan runs torch and xgboost runtimes locally; "
                    + policy.name() + " needs a launcher (such as mpirun over ssh) that only Kubernetes provides here");
        }
        return plan;
    }

    private static int procs(JsonNode node, Container container) {
        if (node.isIntegralNumber()) return node.asInt();
        if (node.isTextual() && node.asText().matches("[0-9]{1,3}")) return Integer.parseInt(node.asText());
        return Math.max(1, container.resources().gpuCount());
    }

    private record Policy(String name, int numNodes, Optional<JsonNode> numProcPerNode) {
    }

    private static Policy runtimePolicy(JsonNode runtimeSpec, Problems problems) {
        var ml = SpecFields.object(runtimeSpec.get("mlPolicy"), "spec.mlPolicy", problems);
        if (ml.isEmpty()) return new Policy("plainml", 1, Optional.empty());
        int numNodes = SpecFields.integer(ml.get().get("numNodes"), "spec.mlPolicy.numNodes", 1, V1Jobs.MAX_REPLICAS, problems).orElse(1);
        var named = POLICIES.stream().filter(p -> SpecFields.present(ml.get().get(p))).toList();
        if (named.size() > 1) {
            problems.add("spec.mlPolicy", "names " + String.join(" and ", named) + "; a runtime has exactly one ML policy");
            return new Policy("plainml", numNodes, Optional.empty());
        }
        var name = named.isEmpty() ? "plainml" : named.getFirst();
        Optional<JsonNode> procs = Optional.empty();
        if (name.equals("torch")) {
            var torch = SpecFields.object(ml.get().get("torch"), "spec.mlPolicy.torch", problems);
            procs = torch.map(t -> t.get("numProcPerNode")).filter(SpecFields::present);
            procs.ifPresent(p -> checkProcs(p, "spec.mlPolicy.torch.numProcPerNode", problems));
        }
        if (name.equals("mpi")) {
            var mpi = SpecFields.object(ml.get().get("mpi"), "spec.mlPolicy.mpi", problems);
            mpi.ifPresent(m -> SpecFields.integer(m.get("numProcPerNode"), "spec.mlPolicy.mpi.numProcPerNode", 1, V1Jobs.MAX_PROCS_PER_NODE, problems));
        }
        return new Policy(name, numNodes, procs);
    }

    private static void checkProcs(JsonNode node, String path, Problems problems) {
        if (node.isIntegralNumber() && node.canConvertToInt()) {
            if (node.asInt() < 1 || node.asInt() > V1Jobs.MAX_PROCS_PER_NODE) problems.add(path, "must be from 1 to " + V1Jobs.MAX_PROCS_PER_NODE + ", got " + node.asInt());
            return;
        }
        if (node.isTextual() && (Set.of("auto", "cpu", "gpu").contains(node.asText()) || node.asText().matches("[1-9][0-9]?"))) return;
        problems.add(path, "expected a number of processes or auto, cpu or gpu; got " + ResourceParser.describe(node));
    }

    /** The trainer ("node") container of a runtime's JobSet template; empty command when it relies on the image. */
    private static Container nodeContainer(JsonNode runtimeSpec, Problems problems, List<String> warnings) {
        var template = runtimeSpec.path("template");
        var jobs = template.path("spec").get("replicatedJobs");
        var path = "spec.template.spec.replicatedJobs";
        if (!SpecFields.present(jobs)) {
            return new Container(Optional.empty(), List.of(), List.of(), java.util.Map.of(), io.capstan.backend.ResourceRequest.NONE, Optional.empty());
        }
        if (!jobs.isArray()) {
            problems.add(path, "expected a list of replicated jobs, got " + ResourceParser.describe(jobs));
            return null;
        }
        Container node = null;
        for (int i = 0; i < jobs.size(); i++) {
            var job = jobs.get(i);
            var at = path + "[" + i + "]";
            if (!job.isObject()) {
                problems.add(at, "expected a replicated job, got " + ResourceParser.describe(job));
                continue;
            }
            var name = SpecFields.text(job.get("name"), at + ".name", ContainerFields.MAX_STRING, problems);
            if (name.isEmpty()) {
                if (!SpecFields.present(job.get("name"))) problems.add(at + ".name", "required: the replicated job's name, such as node");
                continue;
            }
            SpecFields.integer(job.get("replicas"), at + ".replicas", 0, V1Jobs.MAX_REPLICAS, problems);
            var podTemplate = job.path("template").path("spec").get("template");
            var c = V1Jobs.podContainer(podTemplate, at + ".template.spec.template", NODE, problems, new ArrayList<>(), false);
            if (name.get().equals(NODE)) node = c;
        }
        return node != null ? node
                : new Container(Optional.empty(), List.of(), List.of(), java.util.Map.of(), io.capstan.backend.ResourceRequest.NONE, Optional.empty());
    }

    private static final class Trainer {
        Optional<String> image = Optional.empty();
        List<String> command = List.of();
        List<String> args = List.of();
        java.util.Map<String, String> env = java.util.Map.of();
        Optional<Integer> numNodes = Optional.empty();
        Optional<JsonNode> numProcPerNode = Optional.empty();
        Optional<io.capstan.backend.ResourceRequest> resources = Optional.empty();
    }

    private static Trainer readTrainer(JsonNode spec, Problems problems, List<String> warnings) {
        var t = new Trainer();
        var trainer = SpecFields.object(spec.get("trainer"), "spec.trainer", problems);
        if (trainer.isEmpty()) return t;
        var node = trainer.get();
        t.image = SpecFields.text(node.get("image"), "spec.trainer.image", ContainerFields.MAX_STRING, problems);
        t.command = SpecFields.strings(node.get("command"), "spec.trainer.command", ContainerFields.MAX_ARGS, ContainerFields.MAX_STRING, problems);
        if (SpecFields.present(node.get("command")) && node.get("command").isArray() && node.get("command").isEmpty()) {
            problems.add("spec.trainer.command", "must name at least the program to run");
        }
        t.args = SpecFields.strings(node.get("args"), "spec.trainer.args", ContainerFields.MAX_ARGS, ContainerFields.MAX_STRING, problems);
        t.env = ContainerFields.env(node.get("env"), "spec.trainer.env", problems, warnings);
        if (SpecFields.present(node.get("numNodes"))) {
            t.numNodes = Optional.of(SpecFields.integer(node.get("numNodes"), "spec.trainer.numNodes", 1, V1Jobs.MAX_REPLICAS, problems).orElse(1));
        }
        if (SpecFields.present(node.get("numProcPerNode"))) {
            checkProcs(node.get("numProcPerNode"), "spec.trainer.numProcPerNode", problems);
            t.numProcPerNode = Optional.of(node.get("numProcPerNode"));
        }
        if (SpecFields.present(node.get("resourcesPerNode"))) {
            t.resources = Optional.of(ContainerFields.resources(node.get("resourcesPerNode"), "spec.trainer.resourcesPerNode", problems));
        }
        return t;
    }
}
