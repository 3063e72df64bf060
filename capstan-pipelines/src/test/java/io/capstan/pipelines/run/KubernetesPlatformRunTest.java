package io.capstan.pipelines.run;

import static io.capstan.pipelines.run.RunFixture.state;
import static io.capstan.pipelines.run.RunFixture.task;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.capstan.core.CoreKinds;
import io.capstan.core.ObjectMeta;
import io.capstan.core.Resource;
import io.capstan.kfpruntime.KfpRuntime;
import io.capstan.kfpruntime.LightweightSteps;
import io.capstan.kfpruntime.PythonImports;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kfp-kubernetes platform settings emulated on real child processes: PVCs as run folders seen at their mount path,
 * secrets and config maps from the store, downward-API env, and warnings for what a local run cannot apply.
 */
class KubernetesPlatformRunTest {
    @TempDir
    Path dir;
    RunFixture fx;

    @BeforeEach
    void setUp() {
        var runtime = KfpRuntime.install(dir.resolve("python"));
        var imports = PythonImports.create();
        fx = new RunFixture(dir, step -> {
            var r = LightweightSteps.rewrite(step.command(), step.args(), runtime, imports::isImportable);
            if (!r.isLightweight()) return step;
            var env = new HashMap<>(step.env());
            env.putAll(r.env());
            return new StepCommand(r.command(), r.args(), env);
        });
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    private void secret(String name, Map<String, String> values) {
        var spec = JsonNodeFactory.instance.objectNode();
        var data = spec.putObject("data");
        values.forEach((k, v) -> data.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))));
        fx.store.create(Resource.of("v1", CoreKinds.SECRET, ObjectMeta.named("default", name), spec));
    }

    private void configMap(String name, Map<String, String> values) {
        var spec = JsonNodeFactory.instance.objectNode();
        var data = spec.putObject("data");
        values.forEach(data::put);
        fx.store.create(Resource.of("v1", CoreKinds.CONFIG_MAP, ObjectMeta.named("default", name), spec));
    }

    /** Kubeflow's compiled pipelines, read in place from the nearest {@code shared/conformance} above this module. */
    private static Path corpus(String file) {
        for (var p = Path.of(System.getProperty("user.dir")).toAbsolutePath(); p != null; p = p.getParent()) {
            var path = p.resolve("shared/conformance/kubeflow-pipelines/test_data/sdk_compiled_pipelines/valid").resolve(file);
            if (Files.isRegularFile(path)) return path;
        }
        Assumptions.abort("conformance corpus not found above " + System.getProperty("user.dir"));
        throw new IllegalStateException("unreachable");
    }

    @Test
    void aCreatedPvcCarriesAFileFromOneStepToTheNextAndSecretsConfigMapsAndFieldPathsReachTheStep() throws Exception {
        secret("db", Map.of("password", "s3cr3t", "user", "admin"));
        configMap("settings", Map.of("mode", "fast"));
        var run = fx.runToEnd(fx.submit("k8s", "kubernetes_platform.yaml", Map.of("dir", dir.toString())));

        assertThat(run.status().phase()).as(run.status().toString()).isEqualTo("Succeeded");
        var pvcName = task(run, "root/createpvc").path("outputs").path("parameters").path("name").asText();
        assertThat(pvcName).isEqualTo("k8s-scratch");
        assertThat(Files.readString(dir.resolve("note.txt"))).isEqualTo("from write\n");
        var workloadId = task(run, "root/read").path("workloadId").asText();
        assertThat(Files.readAllLines(dir.resolve("env.txt"))).containsExactly("s3cr3t", "fast", "admin", workloadId, "default", "k8s", "ml");
        assertThat(state(run, "root/deletepvc")).isEqualTo("SUCCEEDED");
        var runFolder = Path.of(run.status().field("runFolder").orElseThrow().asText());
        assertThat(runFolder.resolve("volumes/pvc")).isEmptyDirectory();

        var warnings = run.status().field("warnings").orElseThrow().toString();
        var prefix = "platforms.kubernetes.deploymentSpec.executors.";
        assertThat(warnings).contains(prefix + "exec-write.imagePullPolicy: executor 'exec-write': image pull policy \\\"Always\\\" is not applied locally")
                .contains(prefix + "exec-write.nodeSelector: executor 'exec-write': node selector")
                .contains(prefix + "exec-write.tolerations: executor 'exec-write': tolerations")
                .contains(prefix + "exec-read.nodeAffinity: executor 'exec-read': nodeAffinity")
                .doesNotContain("pvcMount", "secretAsEnv", "secretAsVolume", "configMapAsEnv", "fieldPathAsEnv", "podMetadata");
    }

    @Test
    void aMissingSecretFailsTheTaskNamingIt() {
        configMap("settings", Map.of("mode", "fast"));
        var run = fx.runToEnd(fx.submit("nosecret", "kubernetes_platform.yaml", Map.of("dir", dir.toString())));

        assertThat(run.status().phase()).isEqualTo("Failed");
        assertThat(state(run, "root/write")).isEqualTo("SUCCEEDED");
        assertThat(state(run, "root/read")).isEqualTo("FAILED");
        assertThat(task(run, "root/read").path("message").asText()).isEqualTo(
                "task root/read: secret 'db' not found in namespace 'default'; create it (apiVersion: v1, kind: Secret) or mark it optional");
        assertThat(task(run, "root/read").path("workloadId").asText()).isEmpty();
        assertThat(dir.resolve("env.txt")).doesNotExist();
    }

    @Test
    void kfpsOwnCreateMountDeletePvcPipelineRunsItsPythonStepsOnTheSharedFolder() {
        var run = fx.runToEnd(fx.submit("volume", RunFixture.specOf(readCorpus("pipeline_with_volume.yaml"), Map.of())));

        assertThat(run.status().phase()).as(run.status().toString()).isEqualTo("Succeeded");
        assertThat(task(run, "root/createpvc").path("outputs").path("parameters").path("name").asText()).isEqualTo("volume-my-pvc");
        assertThat(task(run, "root/consumer").path("outputs").path("parameters").path("Output").asText()).isEqualTo("Hello world");
        assertThat(state(run, "root/deletepvc")).isEqualTo("SUCCEEDED");
    }

    @Test
    void kfpsOwnPvcMountPipelineMountsAnExistingPvcNamedByAParameter() {
        var run = fx.runToEnd(fx.submit("mount", RunFixture.specOf(readCorpus("pvc_mount.yaml"),
                Map.of("pvc_name", "shared-data"))));

        assertThat(run.status().phase()).as(run.status().toString()).isEqualTo("Succeeded");
        assertThat(task(run, "root/producer").path("outputs").path("parameters").path("Output").asText()).isEqualTo("hello");
        var runFolder = Path.of(run.status().field("runFolder").orElseThrow().asText());
        assertThat(runFolder.resolve("volumes/pvc/shared-data/file.txt")).hasContent("hello");
    }

    @Test
    void kfpsOwnSecretAsVolumePipelineReadsTheSecretFiles() {
        secret("test-secret-1", Map.of("username", "user1"));
        var run = fx.runToEnd(fx.submit("secretvol", RunFixture.specOf(readCorpus("pipeline_with_secret_as_volume.yaml"), Map.of())));

        assertThat(run.status().phase()).as(run.status().toString()).isEqualTo("Succeeded");
        assertThat(run.status().field("warnings")).isEmpty();
    }

    private static String readCorpus(String file) {
        try {
            return Files.readString(corpus(file));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
