package io.capstan.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.core.FieldError;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad, oversized and hostile training specs are rejected with the path of the field to fix. */
class TrainingSpecValidationTest {
    final ResourceParser parser = new ResourceParser(ResourceKinds.of(TrainingKinds.all()));
    @TempDir
    Path dir;
    Testbed bed;

    @BeforeEach
    void setUp() {
        bed = Testbed.h2(dir);
    }

    @AfterEach
    void tearDown() {
        bed.close();
    }

    static String pytorchJob(String master, String worker, String extra) {
        return """
                apiVersion: kubeflow.org/v1
                kind: PyTorchJob
                metadata: {name: p}
                spec:
                %s
                  pytorchReplicaSpecs:
                    Master:
                %s
                      template: {spec: {containers: [{name: pytorch, image: x, command: [python3, train.py]}]}}
                    Worker:
                %s
                      template: {spec: {containers: [{name: pytorch, image: x, command: [python3, train.py]}]}}
                """.formatted(extra, master, worker);
    }

    private FieldError rejected(ResourceParser p, String yaml) {
        try {
            p.parse("job.yaml", yaml);
        } catch (InvalidSpecException e) {
            return e.errors().getFirst();
        }
        throw new AssertionError("accepted:\n" + yaml);
    }

    private FieldError rejected(String yaml) {
        return rejected(parser, yaml);
    }

    @Test
    void aValidPyTorchJobIsAccepted() {
        var job = parser.parse("job.yaml", pytorchJob("      replicas: 1", "      replicas: 3", "  nprocPerNode: 2")).getFirst();
        assertThat(job.kind()).isEqualTo("PyTorchJob");
    }

    @Test
    void hostPathVolumesAndImagePullPolicyAreCheckedNamingTheField() {
        java.util.function.BiFunction<String, String, String> job = (volumes, container) -> """
                apiVersion: kubeflow.org/v1
                kind: PyTorchJob
                metadata: {name: p}
                spec:
                  pytorchReplicaSpecs:
                    Master:
                      replicas: 1
                      template: {spec: {volumes: [%s], containers: [{name: pytorch, image: x, command: [python3], %s}]}}
                """.formatted(volumes, container);
        assertThat(rejected(job.apply("{name: d, hostPath: {path: data}}", "volumeMounts: [{name: d, mountPath: /d}]")).path())
                .isEqualTo("spec.pytorchReplicaSpecs.Master.template.spec.volumes[0].hostPath.path");
        assertThat(rejected(job.apply("{name: d, hostPath: {path: /data}}", "volumeMounts: [{name: d, mountPath: d}]")).path())
                .isEqualTo("spec.pytorchReplicaSpecs.Master.template.spec.containers[0].volumeMounts[0].mountPath");
        var policy = rejected(job.apply("{name: d, hostPath: {path: /data}}", "imagePullPolicy: always"));
        assertThat(policy.path()).isEqualTo("spec.pytorchReplicaSpecs.Master.template.spec.containers[0].imagePullPolicy");
        assertThat(policy.message()).contains("must be Always, IfNotPresent or Never, got 'always'");
        assertThat(parser.parse("job.yaml", job.apply("{name: d, hostPath: {path: /data}}", "volumeMounts: [{name: d, mountPath: /d, readOnly: true}]"))).hasSize(1);
    }

    @Test
    void badReplicaCountsNameTheField() {
        assertThat(rejected(pytorchJob("      replicas: 1", "      replicas: -1", "")).path()).isEqualTo("spec.pytorchReplicaSpecs.Worker.replicas");
        assertThat(rejected(pytorchJob("      replicas: 1", "      replicas: 100000", "")).path()).isEqualTo("spec.pytorchReplicaSpecs.Worker.replicas");
        assertThat(rejected(pytorchJob("      replicas: 1", "      replicas: two", "")).path()).isEqualTo("spec.pytorchReplicaSpecs.Worker.replicas");
        assertThat(rejected(pytorchJob("      replicas: 0", "      replicas: 0", "")).path()).isEqualTo("spec.pytorchReplicaSpecs");
    }

    @Test
    void conflictingMasterAndWorkerSettingsAreRejected() {
        var twoMasters = rejected(pytorchJob("      replicas: 2", "      replicas: 1", ""));
        assertThat(twoMasters.path()).isEqualTo("spec.pytorchReplicaSpecs.Master.replicas");
        assertThat(twoMasters.message()).contains("one master");
        var elastic = rejected(pytorchJob("      replicas: 1", "      replicas: 5", "  elasticPolicy: {minReplicas: 1, maxReplicas: 3}"));
        assertThat(elastic.path()).isEqualTo("spec.pytorchReplicaSpecs.Worker.replicas");
        assertThat(rejected(pytorchJob("      replicas: 1", "      replicas: 1", "  elasticPolicy: {minReplicas: 4, maxReplicas: 2}")).path())
                .isEqualTo("spec.elasticPolicy.minReplicas");
        assertThat(rejected(pytorchJob("      replicas: 1", "      replicas: 1", "  nprocPerNode: 2\n  elasticPolicy: {nProcPerNode: 4}")).path())
                .isEqualTo("spec.elasticPolicy.nProcPerNode");
    }

    @Test
    void negativeDeadlinesAndBadRunPoliciesAreRejected() {
        assertThat(rejected(pytorchJob("      replicas: 1", "      replicas: 1", "  runPolicy: {activeDeadlineSeconds: -5}")).path())
                .isEqualTo("spec.runPolicy.activeDeadlineSeconds");
        assertThat(rejected(pytorchJob("      replicas: 1", "      replicas: 1", "  runPolicy: {ttlSecondsAfterFinished: -1}")).path())
                .isEqualTo("spec.runPolicy.ttlSecondsAfterFinished");
        assertThat(rejected(pytorchJob("      replicas: 1", "      replicas: 1", "  runPolicy: {backoffLimit: -1}")).path())
                .isEqualTo("spec.runPolicy.backoffLimit");
        assertThat(rejected(pytorchJob("      replicas: 1", "      replicas: 1", "  runPolicy: {cleanPodPolicy: Sometimes}")).path())
                .isEqualTo("spec.runPolicy.cleanPodPolicy");
        assertThat(rejected(pytorchJob("      replicas: 1", "      replicas: 1", "  runPolicy: {suspend: maybe}")).path())
                .isEqualTo("spec.runPolicy.suspend");
    }

    @Test
    void aMissingCommandIsRejected() {
        var noCommand = """
                apiVersion: kubeflow.org/v1
                kind: PyTorchJob
                metadata: {name: p}
                spec:
                  pytorchReplicaSpecs:
                    Worker:
                      replicas: 2
                      template: {spec: {containers: [{name: pytorch, args: [--epochs, '1']}]}}
                """;
        assertThat(rejected(noCommand).path()).isEqualTo("spec.pytorchReplicaSpecs.Worker.template.spec.containers[0].command");
        var trainJob = """
                apiVersion: trainer.kubeflow.org/v1alpha1
                kind: TrainJob
                metadata: {name: t}
                spec:
                  runtimeRef: {name: torch-distributed}
                  trainer: {numNodes: 2}
                """;
        assertThat(rejected(trainJob).path()).isEqualTo("spec.trainer.command");
        assertThat(rejected(trainJob.replace("{numNodes: 2}", "{numNodes: 2, command: []}")).path()).isEqualTo("spec.trainer.command");
    }

    @Test
    void anUnknownRuntimeIsRejectedWhereTheStoreIsKnown() {
        var strict = bed.parser;
        var yaml = """
                apiVersion: trainer.kubeflow.org/v1alpha1
                kind: TrainJob
                metadata: {name: t}
                spec:
                  runtimeRef: {name: no-such-runtime}
                  trainer: {command: [python3, x.py]}
                """;
        var error = rejected(strict, yaml);
        assertThat(error.path()).isEqualTo("spec.runtimeRef.name");
        assertThat(error.message()).contains("torch-distributed");
        assertThat(rejected(yaml.replace("{name: no-such-runtime}", "{name: torch-distributed, kind: Runtime}")).path()).isEqualTo("spec.runtimeRef.kind");
        assertThat(rejected(yaml.replace("  runtimeRef: {name: no-such-runtime}\n", "")).path()).isEqualTo("spec.runtimeRef");

        bed.store.create(strict.parse("rt.yaml", """
                apiVersion: trainer.kubeflow.org/v1alpha1
                kind: ClusterTrainingRuntime
                metadata: {name: no-such-runtime}
                spec:
                  mlPolicy: {numNodes: 1, torch: {}}
                """).getFirst());
        assertThat(strict.parse("job.yaml", yaml)).hasSize(1);
    }

    @Test
    void trainJobFieldsAreChecked() {
        var base = """
                apiVersion: trainer.kubeflow.org/v1alpha1
                kind: TrainJob
                metadata: {name: t}
                spec:
                  runtimeRef: {name: torch-distributed}
                  trainer: {command: [python3, x.py], %s}
                """;
        assertThat(rejected(base.formatted("numNodes: 0")).path()).isEqualTo("spec.trainer.numNodes");
        assertThat(rejected(base.formatted("numProcPerNode: lots")).path()).isEqualTo("spec.trainer.numProcPerNode");
        assertThat(rejected(base.formatted("resourcesPerNode: {requests: {cpu: -2}}")).path()).isEqualTo("spec.trainer.resourcesPerNode.requests.cpu");
        assertThat(rejected(base.formatted("env: [{value: x}]")).path()).isEqualTo("spec.trainer.env[0].name");
        assertThat(rejected(base.formatted("env: [{name: '1BAD', value: x}]")).path()).isEqualTo("spec.trainer.env[0].name");
        assertThat(rejected(base.formatted("numNodes: 1") + "  initializer: {dataset: {storageUri: relative/path}}\n").path())
                .isEqualTo("spec.initializer.dataset.storageUri");
        var xgb = base.replace("torch-distributed", "xgboost-distributed").formatted("numProcPerNode: 4");
        assertThat(rejected(xgb).path()).isEqualTo("spec.trainer.numProcPerNode");
    }

    @Test
    void runtimesWithTwoPoliciesAreRejected() {
        var error = rejected("""
                apiVersion: trainer.kubeflow.org/v1alpha1
                kind: TrainingRuntime
                metadata: {name: r}
                spec:
                  mlPolicy: {numNodes: 1, torch: {}, mpi: {}}
                """);
        assertThat(error.path()).isEqualTo("spec.mlPolicy");
    }

    @Test
    void hostileAndOversizedInputIsRejectedWithoutCrashing() {
        var huge = "x".repeat(ContainerFields.MAX_STRING + 1);
        assertThat(rejected(pytorchJob("      replicas: 1", "      replicas: 1", "").replace("[python3, train.py]}]}}\n    Worker",
                "[python3, '" + huge + "']}]}}\n    Worker")).path()).isEqualTo("spec.pytorchReplicaSpecs.Master.template.spec.containers[0].command[1]");
        var manyArgs = new StringBuilder("[");
        for (int i = 0; i <= ContainerFields.MAX_ARGS; i++) manyArgs.append(i == 0 ? "" : ",").append("a");
        manyArgs.append("]");
        assertThat(rejected(pytorchJob("      replicas: 1", "      replicas: 1", "").replaceFirst("\\[python3, train.py\\]", manyArgs.toString())).path())
                .isEqualTo("spec.pytorchReplicaSpecs.Master.template.spec.containers[0].command");
        assertThat(rejected(pytorchJob("      replicas: 1", "      replicas: 1", "").replace("train.py", "\"a\\0b\"")).message()).contains("NUL");
        assertThat(rejected("""
                apiVersion: kubeflow.org/v1
                kind: PyTorchJob
                metadata: {name: p}
                spec: {pytorchReplicaSpecs: [1, 2]}
                """).path()).isEqualTo("spec.pytorchReplicaSpecs");
        assertThat(rejected("""
                apiVersion: kubeflow.org/v1
                kind: PyTorchJob
                metadata: {name: p}
                spec: {pytorchReplicaSpecs: {Chief: {replicas: 1}}}
                """).path()).isEqualTo("spec.pytorchReplicaSpecs.Chief");
        assertThat(rejected("""
                apiVersion: kubeflow.org/v1
                kind: XGBoostJob
                metadata: {name: x}
                spec: {xgbReplicaSpecs: {Worker: {replicas: 2, template: {spec: {containers: [{name: xgboost, command: [x]}]}}}}}
                """).path()).isEqualTo("spec.xgbReplicaSpecs.Master");
        assertThat(rejected("""
                apiVersion: kubeflow.org/v1
                kind: PyTorchJob
                metadata: {name: p}
                spec: {pytorchReplicaSpecs: {Worker: {replicas: 1, template: {spec: {containers: "no"}}}}}
                """).path()).isEqualTo("spec.pytorchReplicaSpecs.Worker.template.spec.containers");
        assertThat(rejected(pytorchJob("      replicas: 1", "      replicas: 1", "").replaceFirst("image: x,", "image: x, resources: {limits: {nvidia.com/gpu: 1000}},")).path())
                .isEqualTo("spec.pytorchReplicaSpecs.Master.template.spec.containers[0].resources.limits.nvidia.com/gpu");
    }

    @Test
    void anElasticJobsRendezvousReachesEveryRankForABackendThatRunsThemApart() {
        var problems = new io.capstan.core.Problems();
        var plan = V1Jobs.plan(V1Jobs.Kind.PYTORCH, parser.parse("job.yaml", pytorchJob("      replicas: 1", "      replicas: 2",
                "  elasticPolicy: {minReplicas: 1, maxReplicas: 3, rdzvBackend: etcd, rdzvPort: 2379, maxRestarts: 2, "
                        + "rdzvConf: [{key: timeout, value: '60'}, {key: k, value: v}]}")).getFirst().spec(), problems);
        assertThat(problems.isEmpty()).isTrue();
        for (var group : plan.groups()) {
            assertThat(group.container().env()).containsEntry("CAPSTAN_ELASTIC_NNODES", "1:3").containsEntry("CAPSTAN_ELASTIC_RDZV_BACKEND", "etcd")
                    .containsEntry("CAPSTAN_ELASTIC_RDZV_PORT", "2379").containsEntry("CAPSTAN_ELASTIC_MAX_RESTARTS", "2")
                    .containsEntry("CAPSTAN_ELASTIC_RDZV_CONF", "timeout=60,k=v").doesNotContainKeys("CAPSTAN_ELASTIC_RDZV_HOST", "CAPSTAN_ELASTIC_STANDALONE");
        }
        // Without min and max, the node count is the workers', as upstream's.
        var fixed = V1Jobs.plan(V1Jobs.Kind.PYTORCH, parser.parse("job.yaml", pytorchJob("      replicas: 1", "      replicas: 2",
                "  elasticPolicy: {rdzvId: run-7}")).getFirst().spec(), problems);
        assertThat(fixed.groups().getFirst().container().env()).containsEntry("CAPSTAN_ELASTIC_NNODES", "2").containsEntry("CAPSTAN_ELASTIC_RDZV_ID", "run-7");
        var plain = V1Jobs.plan(V1Jobs.Kind.PYTORCH, parser.parse("job.yaml", pytorchJob("      replicas: 1", "      replicas: 2", "")).getFirst().spec(), problems);
        assertThat(plain.groups().getFirst().container().env()).doesNotContainKey("CAPSTAN_ELASTIC_NNODES");
    }

    @Test
    void refusedKindsAreValidatedThenRefusedWithAReason() {
        var problems = new io.capstan.core.Problems();
        var plan = V1Jobs.plan(V1Jobs.Kind.TF, parser.parse("tf.yaml", """
                apiVersion: kubeflow.org/v1
                kind: TFJob
                metadata: {name: tf}
                spec: {tfReplicaSpecs: {Worker: {replicas: 2, template: {spec: {containers: [{name: tensorflow, image: t, command: [python, a.py]}]}}}}}
                """).getFirst().spec(), problems);
        assertThat(problems.isEmpty()).isTrue();
        assertThat(plan.refusal()).get().asString().contains("TFJob");
        assertThatThrownBy(() -> parser.parse("tf.yaml", """
                apiVersion: kubeflow.org/v1
                kind: TFJob
                metadata: {name: tf}
                spec: {tfReplicaSpecs: {Worker: {replicas: -3}}}
                """)).isInstanceOf(InvalidSpecException.class).hasMessageContaining("spec.tfReplicaSpecs.Worker.replicas");
    }
}
