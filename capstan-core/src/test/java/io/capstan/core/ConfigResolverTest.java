package io.capstan.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigResolverTest {
    @TempDir
    Path dir;

    private static final ConfigResolver.Source SOURCE = (kind, ns, name) -> switch (kind + "/" + ns + "/" + name) {
        case "Secret/team/db" -> Optional.of(Map.of("password", bytes("pw"), "run.sh", bytes("#!/bin/sh\necho hi\n")));
        case "ConfigMap/team/settings" -> Optional.of(Map.of("MODE", bytes("fast"), "9lives", bytes("x")));
        default -> Optional.empty();
    };

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static com.fasterxml.jackson.databind.JsonNode yaml(String text) {
        try {
            return Json.yaml().readTree(text);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void resolvesEnvEnvFromAndVolumesAsKubernetesDoes() throws Exception {
        var container = yaml("""
                env:
                  - {name: MODE, value: from-env-wins}
                  - {name: PASSWORD, valueFrom: {secretKeyRef: {name: db, key: password}}}
                  - {name: OPTIONAL, valueFrom: {configMapKeyRef: {name: absent, key: k, optional: true}}}
                  - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
                envFrom:
                  - configMapRef: {name: settings}
                  - {secretRef: {name: db}, prefix: DB_}
                volumeMounts:
                  - {name: scripts, mountPath: /opt/scripts/}
                """);
        var volumes = yaml("""
                - name: scripts
                  secret: {secretName: db, defaultMode: 0755, items: [{key: run.sh, path: bin/run.sh}]}
                """);
        var warnings = new ArrayList<String>();

        var resolved = new ConfigResolver(SOURCE).resolve("Job team/x: ", "team", container, volumes, warnings);

        assertThat(resolved.env()).containsEntry("MODE", "from-env-wins").containsEntry("PASSWORD", "pw")
                .containsEntry("DB_password", "pw").doesNotContainKeys("OPTIONAL", "POD", "9lives");
        assertThat(warnings).anySatisfy(w -> assertThat(w).contains("POD", "fieldRef")).anySatisfy(w -> assertThat(w).contains("9lives"));
        var rewrite = resolved.writeMounts(dir.resolve("vols"));
        var folder = Path.of(rewrite.map().get("/opt/scripts"));
        var script = folder.resolve("bin/run.sh");
        assertThat(Files.readString(script)).contains("echo hi");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(script))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(folder))).isEqualTo("rwx------");
        assertThat(rewrite.apply("sh /opt/scripts/bin/run.sh; ls /opt/scriptsX")).isEqualTo("sh " + folder + "/bin/run.sh; ls /opt/scriptsX");
        assertThat(rewrite.applyToEnv(Map.of())).containsKey(ConfigResolver.PATH_MAP_ENV);

        ConfigResolver.deleteMounts(dir.resolve("vols"));
        assertThat(dir.resolve("vols")).doesNotExist();
    }

    @Test
    void aMissingSecretOrKeyNamesItAndNeverAValue() {
        var resolver = new ConfigResolver(SOURCE);
        var missingSecret = yaml("env: [{name: T, valueFrom: {secretKeyRef: {name: nope, key: k}}}]");
        assertThatExceptionOfType(ConfigResolver.ConfigReferenceException.class)
                .isThrownBy(() -> resolver.resolve("Job team/x: ", "team", missingSecret, yaml("[]"), new ArrayList<>()))
                .withMessage("Job team/x: secret 'nope' not found in namespace 'team' (needed by env T); create it (apiVersion: v1, kind: Secret) or mark it optional");
        var missingKey = yaml("env: [{name: T, valueFrom: {secretKeyRef: {name: db, key: token}}}]");
        assertThatExceptionOfType(ConfigResolver.ConfigReferenceException.class)
                .isThrownBy(() -> resolver.resolve("Job team/x: ", "team", missingKey, yaml("[]"), new ArrayList<>()))
                .withMessageContaining("secret 'db'").withMessageContaining("no key 'token'").withMessageContaining("[password, run.sh]")
                .withMessageNotContaining("pw");
    }
}
