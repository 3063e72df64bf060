package io.capstan.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --kubeconfig} and {@code --context}: which cluster and namespace a kubeconfig file selects. */
class KubeClientsTest {
    static final String KUBECONFIG = """
            apiVersion: v1
            kind: Config
            current-context: laptop
            clusters:
              - name: kind
                cluster: {server: "https://127.0.0.1:6443"}
              - name: prod
                cluster: {server: "https://prod.example:6443"}
            users:
              - name: dev
                user: {token: dev-token}
            contexts:
              - name: laptop
                context: {cluster: kind, user: dev, namespace: ml}
              - name: production
                context: {cluster: prod, user: dev, namespace: serving}
            """;

    @TempDir
    Path dir;

    @Test
    void aKubeconfigFileSelectsItsCurrentContextOrTheOneNamed() throws Exception {
        var file = Files.writeString(dir.resolve("config"), KUBECONFIG);
        var current = KubeClients.config(Optional.of(file), Optional.empty());
        assertThat(current.getMasterUrl()).startsWith("https://127.0.0.1:6443");
        assertThat(current.getNamespace()).isEqualTo("ml");
        assertThat(current.getAutoOAuthToken()).isEqualTo("dev-token");

        var production = KubeClients.config(Optional.of(file), Optional.of("production"));
        assertThat(production.getMasterUrl()).startsWith("https://prod.example:6443");
        assertThat(production.getNamespace()).isEqualTo("serving");
    }

    @Test
    void aMissingKubeconfigNamesTheFile() {
        var missing = dir.resolve("nope");
        assertThatThrownBy(() -> KubeClients.config(Optional.of(missing), Optional.empty())).hasMessageContaining(missing.toString());
    }
}
