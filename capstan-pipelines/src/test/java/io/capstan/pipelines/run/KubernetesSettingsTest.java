package io.capstan.pipelines.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import io.capstan.core.PermanentFailureException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KubernetesSettingsTest {
    @TempDir
    Path dir;

    private KubernetesSettings settings(String executorYaml) throws Exception {
        var platform = Json.yaml().readTree("""
                platforms:
                  kubernetes:
                    deploymentSpec:
                      executors:
                        exec-a:
                """ + executorYaml.indent(10));
        var layout = new RunLayout("run-1", "Run one", "team-a", "uid-1", "2026-01-02T03:04:05Z", dir.resolve("run"), "file://" + dir);
        return new KubernetesSettings(platform, layout, KubernetesSettings.ConfigSource.NONE);
    }

    private static Optional<JsonNode> constants(JsonNode spec) {
        return Optional.ofNullable(spec.path("runtimeValue").get("constant"));
    }

    @Test
    void aMountPathIsRewrittenOnlyWhereItStandsAsAPathOfItsOwn() throws Exception {
        var s = settings("""
                pvcMount:
                - mountPath: /data
                  pvcNameParameter: {runtimeValue: {constant: scratch}}
                emptyDirMounts:
                - {volumeName: cache, mountPath: /data/cache}
                """);
        var command = new StepCommand(List.of("sh", "-c", "cp /data/in /data2/x /mnt/data/y '/data' --out=/data/cache/z /data.bak"),
                List.of("/data"), Map.of("TARGET", "/data/out"));

        var out = s.resolve("root/a", "exec-a", "w1", KubernetesSettingsTest::constants).applyTo(command, dir.resolve("attempt"));

        var pvc = dir.resolve("run/volumes/pvc/scratch").toAbsolutePath();
        var cache = dir.resolve("attempt/mounts").toAbsolutePath().resolve(RunLayout.safe("/data/cache"));
        assertThat(out.command().get(2)).isEqualTo("cp " + pvc + "/in /data2/x /mnt/data/y '" + pvc + "' --out=" + cache + "/z /data.bak");
        assertThat(out.args()).containsExactly(pvc.toString());
        assertThat(out.env()).containsEntry("TARGET", pvc + "/out");
        assertThat(Json.json().readTree(out.env().get(KubernetesSettings.PATH_MAP_ENV)).path("/data").asText()).isEqualTo(pvc.toString());
        assertThat(pvc).isDirectory();
        assertThat(cache).isDirectory();
    }

    @Test
    void fieldPathsGetThePodsValuesAndAnUnknownOneFailsNamingIt() throws Exception {
        var s = settings("""
                fieldPathAsEnv:
                - {name: NS, fieldPath: metadata.namespace}
                - {name: RUN, fieldPath: "metadata.annotations['pipelines.kubeflow.org/run_name']"}
                - {name: RUN_ID, fieldPath: "metadata.labels[\\"pipeline/runid\\"]"}
                - {name: MISSING, fieldPath: "metadata.labels['nope']"}
                """);
        var env = s.resolve("root/a", "exec-a", "w1", KubernetesSettingsTest::constants).env();
        assertThat(env).containsExactlyInAnyOrderEntriesOf(Map.of("NS", "team-a", "RUN", "Run one", "RUN_ID", "uid-1", "MISSING", ""));

        var bad = settings("fieldPathAsEnv: [{name: X, fieldPath: status.phase}]");
        assertThatExceptionOfType(PermanentFailureException.class)
                .isThrownBy(() -> bad.resolve("root/a", "exec-a", "w1", KubernetesSettingsTest::constants))
                .withMessageStartingWith("task root/a: fieldPathAsEnv 'status.phase' has no local value");
    }

    @Test
    void aSubPathThatLeavesTheVolumeIsRefused() throws Exception {
        var s = settings("""
                pvcMount:
                - mountPath: /data
                  subPath: ../../etc
                  pvcNameParameter: {runtimeValue: {constant: scratch}}
                """);
        assertThatExceptionOfType(PermanentFailureException.class)
                .isThrownBy(() -> s.resolve("root/a", "exec-a", "w1", KubernetesSettingsTest::constants))
                .withMessage("task root/a: subPath '../../etc' of PVC 'scratch' leaves the volume");
        assertThat(Files.exists(dir.resolve("etc"))).isFalse();
    }
}
