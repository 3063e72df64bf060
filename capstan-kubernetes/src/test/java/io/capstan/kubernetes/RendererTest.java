package io.capstan.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * What {@code capstan render} prints for each kind, compared with golden files in {@code src/test/resources/golden}
 * ({@code -Dcapstan.golden.update=true} rewrites them; review the diff), plus the upstream contract checked field by field.
 */
class RendererTest {
    static final Path GOLDEN = Path.of("src/test/resources/golden");

    static List<HasMetadata> render(String name) throws IOException {
        var doc = Json.yaml().readTree(Files.readString(GOLDEN.resolve(name + ".input.yaml")));
        return Renderer.render(doc, "default", runtime -> runtime.equals("torch-distributed")
                ? Optional.of("pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime") : Optional.empty(), "capstan:0.1.0");
    }

    static void assertGolden(String name, List<HasMetadata> objects) throws IOException {
        var actual = WorkloadObjects.yaml(objects);
        var expected = GOLDEN.resolve(name + ".expected.yaml");
        if (Boolean.getBoolean("capstan.golden.update")) Files.writeString(expected, actual);
        assertThat(actual).isEqualTo(Files.readString(expected));
    }

    static Map<String, String> env(Pod pod) {
        return pod.getSpec().getContainers().getFirst().getEnv().stream().filter(e -> e.getValue() != null)
                .collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
    }

    @Test
    void anElasticPyTorchJobRendersTheOperatorsRendezvous() throws IOException {
        var doc = Json.yaml().readTree(Files.readString(GOLDEN.resolve("pytorchjob.input.yaml")));
        ((com.fasterxml.jackson.databind.node.ObjectNode) doc.path("spec")).set("elasticPolicy",
                Json.yaml().readTree("{minReplicas: 1, maxReplicas: 4, maxRestarts: 3, rdzvId: r1}"));
        var pods = Renderer.render(doc, "default", r -> Optional.empty()).stream().filter(Pod.class::isInstance).map(Pod.class::cast).toList();
        assertThat(pods).isNotEmpty().allSatisfy(p -> assertThat(env(p)).containsEntry("PET_RDZV_ENDPOINT", "pytorch-ddp-worker-0:23456")
                .containsEntry("PET_RDZV_BACKEND", "c10d").containsEntry("PET_NNODES", "1:4").containsEntry("PET_MAX_RESTARTS", "3")
                .containsEntry("PET_RDZV_ID", "r1").doesNotContainKey("CAPSTAN_ELASTIC_NNODES"));
        // Not elastic: no rendezvous.
        assertThat(env(Renderer.render(Json.yaml().readTree(Files.readString(GOLDEN.resolve("pytorchjob.input.yaml"))), "default", r -> Optional.empty())
                .stream().filter(Pod.class::isInstance).map(Pod.class::cast).findFirst().orElseThrow())).doesNotContainKey("PET_RDZV_ENDPOINT");
    }

    @Test
    void pytorchJobIsAPodAndHeadlessServicePerReplicaWithTheOperatorsEnvironment() throws IOException {
        var objects = render("pytorchjob");
        assertGolden("pytorchjob", objects);
        var pods = objects.stream().filter(Pod.class::isInstance).map(Pod.class::cast).toList();
        var services = objects.stream().filter(Service.class::isInstance).map(Service.class::cast).toList();
        assertThat(pods).extracting(p -> p.getMetadata().getName()).containsExactly("pytorch-ddp-master-0", "pytorch-ddp-worker-0", "pytorch-ddp-worker-1");
        assertThat(services).extracting(s -> s.getMetadata().getName()).containsExactly("pytorch-ddp-master-0", "pytorch-ddp-worker-0", "pytorch-ddp-worker-1");
        assertThat(services).allSatisfy(s -> assertThat(s.getSpec().getClusterIP()).isEqualTo("None"));
        assertThat(pods).allSatisfy(p -> assertThat(p.getMetadata().getNamespace()).isEqualTo("ml"));
        var worker1 = env(pods.get(2));
        assertThat(worker1).containsEntry("MASTER_ADDR", "pytorch-ddp-master-0").containsEntry("MASTER_PORT", "23456")
                .containsEntry("WORLD_SIZE", "6").containsEntry("RANK", "2").containsEntry("PYTHONUNBUFFERED", "0")
                .containsEntry("PET_NPROC_PER_NODE", "2").containsEntry("PET_NODE_RANK", "2").containsEntry("PET_NNODES", "3");
        assertThat(env(pods.get(0))).containsEntry("RANK", "0").containsEntry("DATA_DIR", "/data");
        var master = pods.get(0).getSpec().getContainers().getFirst();
        assertThat(master.getPorts()).anySatisfy(p -> {
            assertThat(p.getName()).isEqualTo("pytorchjob-port");
            assertThat(p.getContainerPort()).isEqualTo(23456);
        });
        assertThat(master.getCommand()).containsExactly("python3", "train.py", "--epochs", "3");
        assertThat(pods.get(1).getSpec().getContainers().getFirst().getResources().getLimits()).containsKey("nvidia.com/gpu");
        // The Service must select exactly its own pod.
        assertThat(pods.get(1).getMetadata().getLabels()).containsAllEntriesOf(services.get(1).getSpec().getSelector());
        assertThat(pods.get(2).getMetadata().getLabels()).doesNotContainEntry(CapstanLabels.WORKLOAD_ID, "pytorch-ddp-worker-0");
        assertThat(pods.get(0).getMetadata().getLabels()).containsEntry(CapstanLabels.OWNER_KIND, "PyTorchJob")
                .containsEntry(CapstanLabels.OWNER_NAME, "pytorch-ddp").containsEntry("training.kubeflow.org/replica-type", "master");
    }

    @Test
    void xgboostJobGivesEveryReplicaTheTrackerInTheMaster() throws IOException {
        var objects = render("xgboostjob");
        assertGolden("xgboostjob", objects);
        var pods = objects.stream().filter(Pod.class::isInstance).map(Pod.class::cast).toList();
        assertThat(pods).extracting(p -> p.getMetadata().getName()).containsExactly("xgboost-dist-iris-master-0", "xgboost-dist-iris-worker-0",
                "xgboost-dist-iris-worker-1");
        assertThat(objects.stream().filter(Service.class::isInstance)).hasSize(3);
        assertThat(env(pods.get(2))).containsEntry("MASTER_ADDR", "xgboost-dist-iris-master-0").containsEntry("MASTER_PORT", "9991")
                .containsEntry("WORLD_SIZE", "3").containsEntry("RANK", "2")
                .containsEntry("WORKER_ADDRS", "xgboost-dist-iris-worker-0,xgboost-dist-iris-worker-1").containsEntry("WORKER_PORT", "9991")
                .containsEntry("DMLC_TRACKER_URI", "xgboost-dist-iris-master-0").containsEntry("DMLC_TRACKER_PORT", "9991")
                .containsEntry("DMLC_NUM_WORKER", "3").containsEntry("DMLC_TASK_ID", "2");
        assertThat(pods.get(0).getMetadata().getLabels()).containsEntry("training.kubeflow.org/operator-name", "xgboostjob-controller");
    }

    @Test
    void trainJobIsAnIndexedJobWithAHeadlessServiceAsItsSubdomain() throws IOException {
        var objects = render("trainjob");
        assertGolden("trainjob", objects);
        var job = (Job) objects.get(0);
        var svc = (Service) objects.get(1);
        assertThat(job.getMetadata().getName()).isEqualTo("torch-multi-node-node-0");
        assertThat(job.getSpec().getCompletionMode()).isEqualTo("Indexed");
        assertThat(job.getSpec().getCompletions()).isEqualTo(2);
        assertThat(job.getSpec().getParallelism()).isEqualTo(2);
        assertThat(job.getSpec().getTemplate().getSpec().getSubdomain()).isEqualTo("torch-multi-node");
        assertThat(svc.getMetadata().getName()).isEqualTo("torch-multi-node");
        assertThat(job.getSpec().getTemplate().getMetadata().getLabels()).containsAllEntriesOf(svc.getSpec().getSelector());
        var env = job.getSpec().getTemplate().getSpec().getContainers().getFirst().getEnv();
        assertThat(env).anySatisfy(e -> {
            assertThat(e.getName()).isEqualTo("PET_NODE_RANK");
            assertThat(e.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("metadata.annotations['batch.kubernetes.io/job-completion-index']");
        });
        assertThat(env).extracting(EnvVar::getName, EnvVar::getValue).contains(
                org.assertj.core.groups.Tuple.tuple("PET_NNODES", "2"), org.assertj.core.groups.Tuple.tuple("PET_NPROC_PER_NODE", "2"),
                org.assertj.core.groups.Tuple.tuple("PET_MASTER_ADDR", "torch-multi-node-node-0-0.torch-multi-node"),
                org.assertj.core.groups.Tuple.tuple("PET_MASTER_PORT", "29500"), org.assertj.core.groups.Tuple.tuple("PET_REDIRECTS", "2"));
        assertThat(job.getSpec().getTemplate().getSpec().getContainers().getFirst().getImage()).isEqualTo("pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime");
    }

    @Test
    void batchJobStaysABatchJobThatCapstanRetriesItself() throws IOException {
        var objects = render("batch-job");
        assertGolden("batch-job", objects);
        assertThat(objects).hasSize(1);
        var job = (Job) objects.getFirst();
        assertThat(job.getSpec().getBackoffLimit()).isZero();
        assertThat(job.getSpec().getActiveDeadlineSeconds()).isEqualTo(300);
        assertThat(job.getMetadata().getLabels()).containsEntry("katib.kubeflow.org/trial", "trial-lr-0-01")
                .containsEntry(CapstanLabels.MANAGED_BY, "capstan");
        assertThat(job.getSpec().getTemplate().getSpec().getContainers().getFirst().getName()).isEqualTo("training-container");
    }

    @Test
    void refusesWhatItCannotRenderNamingTheField() {
        var noCommand = Json.yaml().createObjectNode();
        assertThatThrownBy(() -> Renderer.render(Json.yaml().readTree("""
                apiVersion: kubeflow.org/v1
                kind: PyTorchJob
                metadata: {name: p}
                spec:
                  pytorchReplicaSpecs:
                    Master: {template: {spec: {containers: [{name: pytorch, image: x}]}}}
                """), "default", r -> Optional.empty()))
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("spec.pytorchReplicaSpecs.Master.template.spec.containers[0].command");
        assertThatThrownBy(() -> Renderer.render(Json.yaml().readTree("""
                apiVersion: trainer.kubeflow.org/v1alpha1
                kind: TrainJob
                metadata: {name: t}
                spec: {runtimeRef: {name: mine}, trainer: {command: [python3]}}
                """), "default", r -> Optional.empty()))
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("spec.trainer.image");
        assertThatThrownBy(() -> Renderer.render(Json.yaml().readTree("""
                apiVersion: kubeflow.org/v1
                kind: MPIJob
                metadata: {name: s}
                spec: {}
                """), "default", r -> Optional.empty()))
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("does not know");
        assertThat(noCommand).isEmpty();
    }

    @Test
    void anExperimentRendersItsFirstTrialAtTheGridsFirstPoint() throws IOException {
        var objects = render("experiment");
        assertGolden("experiment", objects);
        assertThat(objects).hasSize(1);
        var job = (Job) objects.getFirst();
        assertThat(job.getMetadata().getName()).isEqualTo("mnist-grid-1");
        assertThat(job.getMetadata().getNamespace()).isEqualTo("tuning");
        assertThat(job.getSpec().getTemplate().getSpec().getContainers().getFirst().getCommand()).containsExactly("python3",
                "/opt/pytorch-mnist/mnist.py", "--lr=0.01", "--layers=2", "--optimizer=sgd", "--run-name=mnist-grid-1");
        assertThat(job.getMetadata().getLabels()).containsEntry("katib.kubeflow.org/experiment", "mnist-grid")
                .containsEntry("katib.kubeflow.org/trial", "mnist-grid-1").containsEntry(CapstanLabels.OWNER_KIND, "Trial")
                .containsEntry(CapstanLabels.OWNER_NAME, "mnist-grid-1");
        assertThat(job.getSpec().getTemplate().getMetadata().getLabels()).containsEntry("katib.kubeflow.org/trial", "mnist-grid-1")
                .containsEntry(CapstanLabels.WORKLOAD_ID, "mnist-grid-1");
    }

    @Test
    void aPipelineRunIsOnePodPerStepLabelledWithRunTaskAndAttempt() throws IOException {
        var objects = render("pipelinerun");
        assertGolden("pipelinerun", objects);
        var pods = objects.stream().map(Pod.class::cast).toList();
        // Dependency order: train before evaluate; one pod each, no driver pods.
        assertThat(pods).extracting(p -> p.getMetadata().getName()).containsExactly("train-eval-train-1", "train-eval-evaluate-1");
        var train = pods.get(0);
        assertThat(train.getMetadata().getLabels()).containsEntry(CapstanLabels.RUN, "train-eval").containsEntry(CapstanLabels.TASK, "train")
                .containsEntry(CapstanLabels.ATTEMPT, "1").containsEntry(CapstanLabels.OWNER_KIND, "PipelineRun");
        var c = train.getSpec().getContainers().getFirst();
        // The run's parameter and the task's constant are known before the run; the output path is filled at launch.
        // The step runs through the wrapper that leaves its exit code for the push sidecar, as the server's pods do.
        assertThat(c.getCommand()).containsExactly("sh", "-c", PipelineStepPod.WRAPPER, "capstan-step", "python3", "/app/train.py", "--epochs", "5",
                "--optimizer", "adam", "--model", "{{$.outputs.artifacts['model'].path}}");
        assertThat(train.getSpec().getInitContainers()).extracting(x -> x.getName()).containsExactly(PipelineStepPod.PULL_CONTAINER);
        assertThat(train.getSpec().getContainers()).extracting(x -> x.getName()).containsExactly("main", PipelineStepPod.PUSH_CONTAINER);
        assertThat(train.getSpec().getVolumes()).extracting(v -> v.getEmptyDir() != null).containsExactly(true);
        assertThat(env(train)).containsEntry(PipelineStepPod.STAGE_ENV, "s3://team-bucket/pipeline-steps/pr_train-eval_train_1/");
        assertThat(env(train)).containsEntry("CAPSTAN_PIPELINE_ROOT", "s3://team-bucket/runs/train-eval");
        assertThat(c.getEnvFrom().getFirst().getSecretRef().getName()).isEqualTo("capstan-s3");
        assertThat(c.getResources().getRequests().get("cpu").toString()).isEqualTo("500m");
        assertThat(pods.get(1).getSpec().getContainers().getFirst().getCommand()).contains("{{$.inputs.parameters['threshold']}}");

        // The compiled pipeline alone renders as a run of its defaults, named after it.
        var ir = Json.yaml().readTree(Files.readString(GOLDEN.resolve("pipelinerun.input.yaml"))).path("spec").path("pipelineSpec");
        var alone = Renderer.render(ir, "default", r -> Optional.empty()).stream().map(Pod.class::cast).toList();
        assertThat(alone.getFirst().getSpec().getContainers().getFirst().getCommand()).containsSubsequence("--epochs", "1");
        assertThat(alone.getFirst().getMetadata().getNamespace()).isEqualTo("default");
    }

    @Test
    void anInferenceServiceIsADeploymentServiceAndHpaAsKServeRawModeMakesThem() throws IOException {
        var objects = render("inferenceservice");
        assertGolden("inferenceservice", objects);
        var deployment = (io.fabric8.kubernetes.api.model.apps.Deployment) objects.get(0);
        var service = (Service) objects.get(1);
        var hpa = (io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler) objects.get(2);
        assertThat(deployment.getMetadata().getName()).isEqualTo("iris-xgb-predictor");
        assertThat(service.getMetadata().getName()).isEqualTo("iris-xgb-predictor");
        assertThat(deployment.getSpec().getTemplate().getMetadata().getLabels()).containsAllEntriesOf(deployment.getSpec().getSelector().getMatchLabels())
                .containsAllEntriesOf(service.getSpec().getSelector()).containsEntry("serving.kserve.io/inferenceservice", "iris-xgb");
        var pod = deployment.getSpec().getTemplate().getSpec();
        assertThat(pod.getContainers().getFirst().getImage()).isEqualTo("capstan:0.1.0");
        assertThat(pod.getContainers().getFirst().getArgs()).containsExactly("model-server", "--model-name=iris-xgb", "--model-dir=/mnt/models", "--port=8080", "--format=xgboost");
        assertThat(pod.getInitContainers().getFirst().getArgs()).containsExactly("s3://models/iris-xgb/v2", "/mnt/models");
        assertThat(service.getSpec().getPorts().getFirst().getTargetPort().getIntVal()).isEqualTo(8080);
        assertThat(hpa.getSpec().getMinReplicas()).isEqualTo(1);
        assertThat(hpa.getSpec().getMaxReplicas()).isEqualTo(4);
        assertThat(hpa.getSpec().getMetrics().getFirst().getResource().getName()).isEqualTo("cpu");
        assertThat(hpa.getSpec().getMetrics().getFirst().getResource().getTarget().getAverageUtilization()).isEqualTo(60);
        assertThat(deployment.getMetadata().getAnnotations()).containsEntry("serving.capstan.io/canary-traffic-percent", "20");

        var custom = render("inferenceservice-custom");
        assertGolden("inferenceservice-custom", custom);
        var customDeployment = (io.fabric8.kubernetes.api.model.apps.Deployment) custom.get(0);
        assertThat(customDeployment.getSpec().getTemplate().getSpec().getContainers().getFirst().getImage()).isEqualTo("pytorch/torchserve-kfs:0.9.0");
        assertThat(customDeployment.getSpec().getReplicas()).isEqualTo(1);
        assertThat(((Service) custom.get(1)).getSpec().getPorts().getFirst().getTargetPort().getIntVal()).isEqualTo(8085);
        assertThat(((io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler) custom.get(2)).getSpec().getMetrics().getFirst()
                .getResource().getName()).isEqualTo("memory");
    }

    @Test
    void refusesTheNewKindsWhatTheClusterCannotRunNamingTheField() {
        assertThatThrownBy(() -> Renderer.render(Json.yaml().readTree("""
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: s}
                spec: {predictor: {onnx: {storageUri: /home/me/model.onnx}}}
                """), "default", r -> Optional.empty()))
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("spec.predictor.onnx.storageUri").hasMessageContaining("cannot see");
        assertThatThrownBy(() -> Renderer.render(Json.yaml().readTree("""
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: s}
                spec: {predictor: {model: {modelFormat: {name: sklearn}, storageUri: s3://b/m}}}
                """), "default", r -> Optional.empty()))
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("spec.predictor.model.modelFormat.name");
        assertThatThrownBy(() -> Renderer.render(Json.yaml().readTree("""
                apiVersion: kubeflow.org/v1beta1
                kind: Experiment
                metadata: {name: e}
                spec:
                  parameters: [{name: lr, parameterType: double, feasibleSpace: {min: abc, max: "1"}}]
                  trialTemplate: {trialSpec: {apiVersion: batch/v1, kind: Job}}
                """), "default", r -> Optional.empty()))
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("spec.parameters[0].feasibleSpace.min");
        assertThatThrownBy(() -> Renderer.render(Json.yaml().readTree("""
                apiVersion: kubeflow.org/v1beta1
                kind: Experiment
                metadata: {name: e}
                spec:
                  parameters: [{name: lr, parameterType: double, feasibleSpace: {min: "0.1", max: "1"}}]
                  trialTemplate:
                    trialParameters: [{name: lr, reference: lr}]
                    trialSpec: {apiVersion: batch/v1, kind: Job, spec: {template: {spec: {containers: [{name: c, image: i, command: ["${trialParameters.momentum}"]}]}}}}
                """), "default", r -> Optional.empty()))
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("${trialParameters.momentum}");
    }
}
