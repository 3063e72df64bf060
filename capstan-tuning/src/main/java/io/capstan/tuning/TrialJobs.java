package io.capstan.tuning;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.capstan.core.Names;
import io.capstan.core.ObjectMeta;
import io.capstan.core.Problems;
import io.capstan.core.SpecFields;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Trials whose trialSpec is a resource another controller runs: a training job ({@code PyTorchJob},
 * {@code XGBoostJob}, {@code TrainJob}) or a Capstan {@code PipelineRun}. The trial creates the resource and mirrors
 * its status; it never calls that controller. Everything is read generically as JSON, so this module depends on
 * neither capstan-training nor capstan-pipelines.
 *
 * <p>A training job reports its workloads in {@code status.workloads: [{id, replicaType, index, rank}]} and its
 * outcome in {@code status.phase} (Created, Running, Restarting, Suspended, Succeeded, Failed) and the {@code Failed}
 * condition. A pipeline run reports its steps in {@code status.tasks: {path: {workloadId, endTime, ...}}} and ends
 * Succeeded, Failed or Cancelled, with {@code status.message}.
 */
final class TrialJobs {
    /** Label on every resource a trial creates, naming the trial (the experiment label is there too). */
    static final String TRIAL_LABEL = "katib.kubeflow.org/trial";
    /** What a trial may be, for messages. */
    static final String SUPPORTED = "batch/v1 Job, kubeflow.org/v1 PyTorchJob, kubeflow.org/v1 XGBoostJob, trainer.kubeflow.org/v1alpha1 TrainJob"
            + " and pipelines.capstan.io/v1 PipelineRun";
    /** primaryPodLabels keys that name the pipeline task whose log the StdOut collector reads. */
    private static final List<String> TASK_LABELS = List.of("pipelines.capstan.io/task", "pipelines.kubeflow.org/task_name");
    /** Katib's primaryPodLabels keys that name the replica type of the primary pod. */
    private static final List<String> REPLICA_LABELS = List.of("training.kubeflow.org/replica-type", "training.kubeflow.org/job-role",
            "replica-type", "job-role");
    private static final String TRACKER = "tracker";

    /** A job kind a trial can create. */
    enum Kind {
        PYTORCH_JOB("kubeflow.org", List.of("v1"), "PyTorchJob"),
        XGBOOST_JOB("kubeflow.org", List.of("v1", "v1alpha1"), "XGBoostJob"),
        TRAIN_JOB("trainer.kubeflow.org", List.of("v1alpha1"), "TrainJob"),
        PIPELINE_RUN("pipelines.capstan.io", List.of("v1"), "PipelineRun");

        final String group;
        final List<String> versions;
        final String kind;

        Kind(String group, List<String> versions, String kind) {
            this.group = group;
            this.versions = versions;
            this.kind = kind;
        }

        static Optional<Kind> of(JsonNode trialSpec) {
            var apiVersion = trialSpec.path("apiVersion").asText("");
            var kind = trialSpec.path("kind").asText("");
            for (var k : values()) {
                if (k.kind.equals(kind) && k.versions.stream().anyMatch(v -> (k.group + "/" + v).equals(apiVersion))) return Optional.of(k);
            }
            return Optional.empty();
        }
    }

    /** Job phases, as the training controller writes them; a pipeline run may also end Cancelled. */
    static final String SUCCEEDED = "Succeeded";
    static final String FAILED = "Failed";
    static final String CANCELLED = "Cancelled";

    /** Whether the job has ended, well or not. */
    static boolean isFinished(Resource job) {
        var phase = job.status().phase();
        return SUCCEEDED.equals(phase) || isFailed(job);
    }

    static boolean isFailed(Resource job) {
        var phase = job.status().phase();
        return FAILED.equals(phase) || CANCELLED.equals(phase);
    }

    private TrialJobs() {
    }

    /** Whether Capstan can run a trial of this spec's kind: a batch/v1 Job, or a job kind in {@link Kind}. */
    static boolean isRunnable(JsonNode trialSpec) {
        return TrialCommand.isBatchJob(trialSpec) || Kind.of(trialSpec).isPresent();
    }

    /** Admission of a trialSpec that is not a batch/v1 Job: its kind must be one a trial can create. */
    static void check(ObjectNode trialSpec, String path, Problems problems) {
        TrialTemplateReader.checkKindPresent(trialSpec, path, problems);
        if (!trialSpec.path("apiVersion").isTextual() || !trialSpec.path("kind").isTextual()) return;
        if (Kind.of(trialSpec).isEmpty()) {
            problems.add(path + ".kind", "'" + Names.printable(trialSpec.path("apiVersion").asText()) + " " + Names.printable(trialSpec.path("kind").asText())
                    + "' cannot run as a trial here; a trial is a " + SUPPORTED);
            return;
        }
        var spec = trialSpec.get("spec");
        if (spec == null || !spec.isObject()) {
            problems.add(path + ".spec", "required: the " + trialSpec.path("kind").asText() + "'s spec, got " + SpecFields.describe(spec));
        }
    }

    /** Where the trial's job is recorded in its status before the job is created. */
    static ResourceKey keyOf(Resource trial, Kind kind) {
        return new ResourceKey(kind.kind, trial.metadata().namespace(), trial.metadata().name());
    }

    /**
     * The resource to create for a trial: its substituted runSpec named after the trial, in its namespace, labelled
     * with trial and experiment, owned by the trial; {@code env} added to every container (and to a TrainJob's
     * trainer) unless a container sets that variable itself; every string mapped through {@code rewrite}.
     */
    static Resource resourceFor(Resource trial, ObjectNode runSpec, Map<String, String> env, UnaryOperator<String> rewrite) {
        var tree = runSpec.deepCopy();
        mapStrings(tree, rewrite);
        var spec = tree.get("spec") instanceof ObjectNode o ? o : tree.putObject("spec");
        addEnv(spec, env);
        if (Kind.of(tree).orElse(null) == Kind.TRAIN_JOB && spec.get("trainer") instanceof ObjectNode trainer) addEnvTo(trainer, env);
        if (Kind.of(tree).orElse(null) == Kind.PIPELINE_RUN) addEnvToPipelineSteps(spec, env);
        var labels = new LinkedHashMap<String, String>();
        tree.path("metadata").path("labels").properties().forEach(e -> labels.put(e.getKey(), e.getValue().asText()));
        labels.put(Experiments.EXPERIMENT_LABEL, trial.metadata().labels().getOrDefault(Experiments.EXPERIMENT_LABEL, ""));
        labels.put(TRIAL_LABEL, trial.metadata().name());
        var annotations = new LinkedHashMap<String, String>();
        tree.path("metadata").path("annotations").properties().forEach(e -> annotations.put(e.getKey(), e.getValue().asText()));
        var owner = new ObjectMeta.OwnerReference(Experiments.API_VERSION, Experiments.TRIAL, trial.metadata().name(), trial.metadata().uid(), true);
        var metadata = ObjectMeta.named(trial.metadata().namespace(), trial.metadata().name()).withLabels(labels)
                .withAnnotations(annotations).withOwnerReferences(List.of(owner));
        return Resource.of(tree.path("apiVersion").asText(), tree.path("kind").asText(), metadata, spec);
    }

    static boolean isOwnedBy(Resource job, Resource trial) {
        return job.metadata().ownerReferences().stream().anyMatch(o -> o.uid().equals(trial.metadata().uid()));
    }

    /** One workload of the job's current attempt, as its status lists it. */
    record Member(String workloadId, String replicaType, int index, int rank) {
    }

    static List<Member> members(Resource job) {
        var out = new ArrayList<Member>();
        if (job.kind().equals(Kind.PIPELINE_RUN.kind)) {
            // Steps in the order they ended (those still running last), each as its own "replica" named by its task path.
            var steps = new ArrayList<Map.Entry<String, JsonNode>>();
            job.status().field("tasks").filter(JsonNode::isObject).ifPresent(tasks -> tasks.properties().forEach(e -> {
                if (e.getValue().path("workloadId").isTextual()) steps.add(e);
            }));
            steps.sort(java.util.Comparator.comparing(e -> e.getValue().path("endTime").asText("~")));
            for (int i = 0; i < steps.size(); i++) out.add(new Member(steps.get(i).getValue().path("workloadId").asText(), steps.get(i).getKey(), 0, i));
            return out;
        }
        job.status().field("workloads").filter(JsonNode::isArray).ifPresent(array -> array.forEach(w -> out.add(
                new Member(w.path("id").asText(), w.path("replicaType").asText(), w.path("index").asInt(), w.path("rank").asInt()))));
        return out;
    }

    /**
     * The workload whose log the StdOut collector reads: the replica {@code primaryPodLabels} names (Katib's
     * {@code training.kubeflow.org/replica-type: master}), index 0; otherwise global rank 0. Empty before the job
     * has launched anything.
     */
    static Optional<Member> primary(Resource job, Map<String, String> primaryPodLabels) {
        if (job.kind().equals(Kind.PIPELINE_RUN.kind)) return primaryStep(job, primaryPodLabels);
        var members = members(job).stream().filter(m -> !m.replicaType().equalsIgnoreCase(TRACKER)).toList();
        for (var key : REPLICA_LABELS) {
            var type = primaryPodLabels.get(key);
            if (type == null) continue;
            var found = members.stream().filter(m -> m.replicaType().equalsIgnoreCase(type) && m.index() == 0).findFirst();
            if (found.isPresent()) return found;
        }
        return members.stream().filter(m -> m.rank() == 0).findFirst();
    }

    /**
     * For a pipeline run: the task {@code primaryPodLabels} names (by its name or its full path, as
     * {@code pipelines.capstan.io/task: train}); otherwise the step that ended last, which in a pipeline that
     * trains and then evaluates is the evaluation.
     */
    private static Optional<Member> primaryStep(Resource run, Map<String, String> primaryPodLabels) {
        var steps = members(run);
        for (var key : TASK_LABELS) {
            var task = primaryPodLabels.get(key);
            if (task == null) continue;
            return steps.stream().filter(m -> m.replicaType().equals(task) || m.replicaType().endsWith("/" + task)).findFirst();
        }
        return steps.isEmpty() ? Optional.empty() : Optional.of(steps.getLast());
    }

    /** Why the job failed: its {@code Failed} condition as "reason: message", or a pipeline run's message. */
    static String failure(Resource job) {
        return job.status().condition(FAILED).map(c -> c.reason() + (c.message().isEmpty() ? "" : ": " + c.message()))
                .or(() -> job.status().field("message").map(JsonNode::asText).filter(m -> !m.isEmpty()))
                .orElse(CANCELLED.equals(job.status().phase()) ? "it was cancelled" : "no reason given");
    }

    /**
     * Gives every container step of an inline pipeline the trial's variables, unless the step sets them itself. A
     * pipeline given as text is read into an object first; text holding a platform spec too is left as it is.
     */
    private static void addEnvToPipelineSteps(ObjectNode spec, Map<String, String> env) {
        var pipeline = spec.get("pipelineSpec");
        if (pipeline != null && pipeline.isTextual()) {
            try {
                var documents = io.capstan.core.DocumentReader.read("spec.pipelineSpec", pipeline.asText());
                if (documents.size() != 1 || !documents.getFirst().root().isObject()) return;
                pipeline = documents.getFirst().root();
                spec.set("pipelineSpec", pipeline);
            } catch (io.capstan.core.InvalidSpecException e) {
                return; // the pipeline controller reports it, naming the line
            }
        }
        if (!(pipeline instanceof ObjectNode ir) || !(ir.path("deploymentSpec").path("executors") instanceof ObjectNode executors)) return;
        executors.properties().forEach(e -> {
            if (e.getValue().get("container") instanceof ObjectNode container) addEnvTo(container, env);
        });
    }

    private static void addEnv(JsonNode node, Map<String, String> env) {
        if (node instanceof ObjectNode obj) {
            if (obj.get("containers") instanceof ArrayNode containers) {
                containers.forEach(c -> {
                    if (c instanceof ObjectNode container) addEnvTo(container, env);
                });
            }
            obj.properties().forEach(e -> {
                if (!e.getKey().equals("containers")) addEnv(e.getValue(), env);
            });
        } else if (node instanceof ArrayNode arr) {
            arr.forEach(n -> addEnv(n, env));
        }
    }

    private static void addEnvTo(ObjectNode container, Map<String, String> env) {
        var list = container.get("env") instanceof ArrayNode a ? a : container.putArray("env");
        var present = new java.util.HashSet<String>();
        list.forEach(e -> present.add(e.path("name").asText()));
        env.forEach((k, v) -> {
            if (!present.contains(k)) list.addObject().put("name", k).put("value", v);
        });
    }

    private static void mapStrings(JsonNode node, UnaryOperator<String> f) {
        if (node instanceof ObjectNode obj) {
            for (var e : List.copyOf(obj.properties())) {
                if (e.getValue().isTextual()) obj.set(e.getKey(), TextNode.valueOf(f.apply(e.getValue().asText())));
                else mapStrings(e.getValue(), f);
            }
        } else if (node instanceof ArrayNode arr) {
            for (int i = 0; i < arr.size(); i++) {
                if (arr.get(i).isTextual()) arr.set(i, TextNode.valueOf(f.apply(arr.get(i).asText())));
                else mapStrings(arr.get(i), f);
            }
        }
    }
}
