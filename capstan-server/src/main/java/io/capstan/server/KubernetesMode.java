package io.capstan.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.capstan.backend.Backend;
import io.capstan.core.ConfigResolver;
import io.capstan.core.Problems;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceKind;
import io.capstan.core.ResourceKinds;
import io.capstan.core.SpecValidator;
import io.capstan.server.jobs.JobSpec;
import io.capstan.store.Reconciler;
import io.capstan.store.ResourceStore;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Map;

/**
 * What changes when the server runs its workloads on Kubernetes ({@code capstan server --backend kubernetes}): the
 * engines still hand the backend workloads written for one machine, and only some of them have a Kubernetes shape
 * yet. Resources whose workloads cannot run there are refused when applied (400 naming the field and the reason),
 * and runs created through the KFP API, which does not apply them, end Failed saying why.
 *
 * <p>Runs on Kubernetes: {@code capstan.io/v1} and {@code batch/v1} Jobs with an image, PyTorchJobs, TrainJobs (an Indexed
 * Job) and XGBoostJobs ({@link KubernetesTraining} says what of them is refused), Experiments
 * whose trials are {@code batch/v1} Jobs reporting on stdout, and InferenceServices, whose predictors run as Deployments ({@link KubernetesServing} says what of them is refused).
 */
public final class KubernetesMode {
    /** Where the server runs its workloads instead of on a LocalBackend. */
    public interface WorkloadBackend {
        /** Opens the backend, which keeps what it must remember (states, logs) under {@code stateDir}. */
        Backend open(Path stateDir);

        /** Where Notebooks' StatefulSets and Services go, on the cluster {@code opened} runs on; empty: Notebooks are refused. */
        default java.util.Optional<io.capstan.notebooks.NotebookCluster> notebooks(Backend opened) {
            return java.util.Optional.empty();
        }
    }

    static final String LOCAL_ONLY = "; start the server with --backend local to run it";

    private KubernetesMode() {
    }

    /** {@code kinds}, with validators that also refuse what the Kubernetes backend cannot run. */
    static ResourceKinds restrict(ResourceKinds kinds) {
        return restrict(kinds, false);
    }

    /** As {@link #restrict(ResourceKinds)}, on a server with S3 configured ({@code s3}) or not: PipelineRuns need it. */
    static ResourceKinds restrict(ResourceKinds kinds, boolean s3) {
        var out = new ArrayList<ResourceKind>();
        for (var k : kinds.all()) {
            var extra = k.kind().equals(io.capstan.pipelines.run.PipelineRuns.KIND) ? KubernetesPipelines.validator(s3) : refusals().get(k.kind());
            if (extra == null) {
                out.add(k);
                continue;
            }
            SpecValidator both = (spec, problems) -> {
                k.validator().validate(spec, problems);
                extra.validate(spec, problems);
            };
            out.add(new ResourceKind(k.group(), k.versions(), k.kind(), k.plural(), k.shortNames(), both, k.foreignApiVersions()));
        }
        return ResourceKinds.of(out);
    }

    private static Map<String, SpecValidator> refusals() {
        return Map.of(
                "Experiment", KubernetesMode::experiment,
                "TrainJob", KubernetesTraining::trainJob,
                "XGBoostJob", KubernetesTraining::xgboostJob,
                "Job", KubernetesMode::job,
                "PyTorchJob", KubernetesMode::pytorchJob,
                "InferenceService", KubernetesMode::inferenceService);
    }

    private static void job(ObjectNode spec, Problems problems) {
        JobSpec job;
        try {
            job = JobSpec.of(spec);
        } catch (RuntimeException e) {
            return; // The kind's own validator names what is wrong.
        }
        if (job.image().isEmpty()) {
            problems.add("spec.image", "required on the Kubernetes backend: the image whose command the Job's pod runs");
        }
        boolean references = ConfigResolver.uses(spec, spec.path("volumes"));
        // A batch/v1 Job, as written: its pod template's containers.
        var pod = spec.path("template").path("spec");
        for (var c : pod.path("containers")) references |= ConfigResolver.uses(c, pod.path("volumes"));
        if (references) {
            problems.add("spec", "secret and config-map references (env valueFrom, envFrom, volumes) are resolved on this server's disk, which a "
                    + "pod cannot see, and would put secret values into the pod's spec; the Kubernetes backend does not run them yet");
        }
    }

    /**
     * Trials run as their template's {@code batch/v1} Job and report through their pod's log, which the backend
     * streams into Capstan's log store; what needs this server's disk (metrics files, PBT checkpoints) or its
     * loopback address (pushed metrics) is refused.
     */
    private static void experiment(ObjectNode spec, Problems problems) {
        var collector = spec.path("metricsCollectorSpec").path("collector").path("kind").asText("StdOut");
        if (!collector.equals("StdOut") && !collector.equals("None")) {
            problems.add("spec.metricsCollectorSpec.collector.kind", "'" + io.capstan.core.Names.printable(collector) + "' cannot run on the "
                    + "Kubernetes backend yet: trials there report through their pod's log (StdOut)" + LOCAL_ONLY);
        }
        if ("pbt".equals(spec.path("algorithm").path("algorithmName").asText())) {
            problems.add("spec.algorithm.algorithmName", "pbt keeps its checkpoints in this server's folders, which a pod cannot see; the Kubernetes "
                    + "backend does not run it yet" + LOCAL_ONLY);
        }
        var template = spec.path("trialTemplate");
        var trialSpec = template.path("trialSpec");
        if (!trialSpec.isObject()) return; // A config-map template is read on the server; the backend refuses a kind it cannot run.
        var path = "spec.trialTemplate.trialSpec";
        if (!"batch/v1".equals(trialSpec.path("apiVersion").asText()) || !"Job".equals(trialSpec.path("kind").asText())) {
            problems.add(path + ".kind", "trials of kind " + trialSpec.path("apiVersion").asText("?") + " " + trialSpec.path("kind").asText("?")
                    + " cannot run on the Kubernetes backend yet: it runs batch/v1 Job trials" + LOCAL_ONLY);
            return;
        }
        var pod = trialSpec.path("spec").path("template").path("spec");
        var containers = pod.path("containers");
        var primary = template.path("primaryContainerName").asText("");
        for (int i = 0; i < containers.size(); i++) {
            var c = containers.get(i);
            boolean isPrimary = primary.isEmpty() ? i == 0 : primary.equals(c.path("name").asText());
            if (isPrimary && c.path("image").asText("").isBlank()) {
                problems.add(path + ".spec.template.spec.containers[" + i + "].image", "required on the Kubernetes backend: the image the trial's pod runs");
            }
            if (ConfigResolver.uses(c, pod.path("volumes"))) {
                problems.add(path + ".spec.template.spec.containers[" + i + "]", "secret and config-map references (env valueFrom, envFrom, volumes) are "
                        + "resolved on this server's disk, which a pod cannot see, and would put secret values into the pod's spec; the Kubernetes "
                        + "backend does not run them yet");
            }
        }
    }

    private static void pytorchJob(ObjectNode spec, Problems problems) {
        var replicas = spec.path("pytorchReplicaSpecs");
        replicas.fieldNames().forEachRemaining(type -> {
            var path = "spec.pytorchReplicaSpecs." + type + ".template.spec";
            var pod = replicas.path(type).path("template").path("spec");
            var containers = pod.path("containers");
            JsonNode main = null;
            for (var c : containers) if ("pytorch".equals(c.path("name").asText())) main = c;
            if (main == null && containers.size() > 0) main = containers.get(0);
            if (main != null && main.path("image").asText("").isBlank()) {
                problems.add(path + ".containers[0].image", "required on the Kubernetes backend: the image the replica's pod runs");
            }
            if (pod.has("volumes")) {
                problems.add(path + ".volumes", "volumes are mounted from this server's disk and are not carried to the pod on the Kubernetes backend yet");
            }
        });
    }

    private static void inferenceService(ObjectNode spec, Problems problems) {
        KubernetesServing.inferenceService(spec, problems);
    }

    /** In place of the PipelineRun controller without S3: a run created through the KFP API ends Failed, saying why. */
    static Reconciler refusingPipelineRuns(ResourceStore store, Clock clock) {
        return new Reconciler() {
            @Override
            public String kind() {
                return io.capstan.pipelines.run.PipelineRuns.KIND;
            }

            @Override
            public Result reconcile(ResourceKey key) {
                var found = store.find(key);
                if (found.isEmpty()) return Result.done();
                var run = found.get();
                if (io.capstan.pipelines.run.RunPhase.ofWire(run.status().phase()).isTerminal()) return Result.done();
                var message = KubernetesPipelines.NO_S3 + LOCAL_ONLY;
                var now = clock.instant();
                store.updateStatus(run, run.status().withPhase(io.capstan.pipelines.run.RunPhase.FAILED.wireName())
                        .withField("message", TextNode.valueOf(message))
                        .withCondition("Succeeded", false, "BackendUnsupported", message, now));
                return Result.done();
            }
        };
    }
}
