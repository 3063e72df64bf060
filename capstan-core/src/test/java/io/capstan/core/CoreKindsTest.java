package io.capstan.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CoreKindsTest {
    private final ResourceParser parser = new ResourceParser(ResourceKinds.of(CoreKinds.all()));

    @Test
    void aSecretAndAConfigMapAreAppliedAsKubernetesWritesThem() {
        var yaml = """
                apiVersion: v1
                kind: Secret
                metadata: {name: db, namespace: team-a}
                type: Opaque
                data:
                  password: czNjcjN0
                stringData:
                  user: admin
                ---
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: settings}
                data:
                  mode: fast
                binaryData:
                  blob: AAEC
                """;
        var resources = parser.parse("config.yaml", yaml);

        var secret = resources.get(0);
        assertThat(secret.key()).isEqualTo(new ResourceKey("Secret", "team-a", "db"));
        assertThat(secret.apiVersion()).isEqualTo("v1");
        var entries = CoreKinds.entries(secret);
        assertThat(new String(entries.get("password"), StandardCharsets.UTF_8)).isEqualTo("s3cr3t");
        assertThat(new String(entries.get("user"), StandardCharsets.UTF_8)).isEqualTo("admin");
        var config = CoreKinds.entries(resources.get(1));
        assertThat(new String(config.get("mode"), StandardCharsets.UTF_8)).isEqualTo("fast");
        assertThat(config.get("blob")).containsExactly(0, 1, 2);
    }

    @Test
    void badDataIsReportedByFieldAndLine() {
        var yaml = """
                apiVersion: v1
                kind: Secret
                metadata: {name: db}
                data:
                  password: "not base64!"
                  count: 3
                """;
        assertThatExceptionOfType(InvalidSpecException.class).isThrownBy(() -> parser.parse("secret.yaml", yaml))
                .satisfies(e -> {
                    assertThat(e.errors()).extracting(FieldError::path).containsExactlyInAnyOrder("data.password", "data.count");
                    assertThat(e.getMessage()).contains("is not base64").contains("stringData").contains("secret.yaml:5: data.password");
                });
    }
}
