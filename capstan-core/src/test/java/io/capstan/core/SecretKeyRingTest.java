package io.capstan.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretKeyRingTest {
    @TempDir
    Path home;

    @Test
    void firstLoadCreatesAPrivateKeyFolderAndTheSameKeyOnTheNextLoad() throws Exception {
        var keys = home.resolve("keys");
        var ring = SecretKeyRing.load(keys, Map.of());

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keys))).isEqualTo("rwx------");
        var keyFile = keys.resolve(ring.currentKeyId() + ".key");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile))).isEqualTo("rw-------");
        var again = SecretKeyRing.load(keys, Map.of());
        assertThat(again.currentKeyId()).isEqualTo(ring.currentKeyId());
        var sealed = ring.seal("s3cr3t".getBytes(StandardCharsets.UTF_8), "ctx");
        assertThat(sealed).startsWith("capstan:v1:" + ring.currentKeyId() + ":").doesNotContain("s3cr3t");
        assertThat(new String(again.open(sealed, "ctx", "value"), StandardCharsets.UTF_8)).isEqualTo("s3cr3t");
        assertThat(ring.seal("s3cr3t".getBytes(StandardCharsets.UTF_8), "ctx")).as("a fresh nonce each time").isNotEqualTo(sealed);
    }

    @Test
    void aValueDoesNotOpenUnderOtherAssociatedData() {
        var ring = SecretKeyRing.ofKey(new byte[32]);
        var sealed = ring.seal("v".getBytes(StandardCharsets.UTF_8), "Secret\0default\0a");
        assertThatExceptionOfType(PermanentFailureException.class)
                .isThrownBy(() -> ring.open(sealed, "Secret\0default\0b", "Secret default/b data.x"))
                .withMessageContaining("Secret default/b data.x");
    }

    @Test
    void aKeyFromTheEnvironmentWinsAndAMalformedOneIsRefusedWithoutEchoingIt() {
        var key = new byte[32];
        key[0] = 7;
        var encoded = Base64.getEncoder().encodeToString(key);
        var ring = SecretKeyRing.load(home.resolve("keys"), Map.of(SecretKeyRing.ENV, encoded));
        assertThat(ring.currentKeyId()).isEqualTo(SecretKeyRing.ofKey(key).currentKeyId());

        var shortKey = Base64.getEncoder().encodeToString("too-short-secret-material".getBytes(StandardCharsets.UTF_8));
        for (var bad : new String[] {shortKey, "not base64 at all!!"}) {
            assertThatExceptionOfType(InvalidSpecException.class)
                    .isThrownBy(() -> SecretKeyRing.load(home.resolve("keys"), Map.of(SecretKeyRing.ENV, bad)))
                    .withMessageContaining("CAPSTAN_SECRET_KEY").withMessageNotContaining(bad).withMessageNotContaining("too-short");
        }
        assertThatExceptionOfType(InvalidSpecException.class).isThrownBy(ring::rotate).withMessageContaining("CAPSTAN_SECRET_KEY");
    }

    @Test
    void redactionKeepsKeysAndDropsValuesOfSecretsOnly() {
        var spec = Json.json().createObjectNode();
        spec.putObject("data").put("password", "aHVudGVyMg==");
        spec.putObject("stringData").put("token", "abc");
        var secret = Resource.of("v1", CoreKinds.SECRET, ObjectMeta.named("default", "s"), spec);

        var listed = SecretRedaction.redact(secret);
        assertThat(listed.spec().path("data").path("password").asText()).isEqualTo(SecretRedaction.REDACTED);
        assertThat(listed.spec().path("stringData").path("token").asText()).isEqualTo(SecretRedaction.REDACTED);
        assertThat(SecretRedaction.forCaller(true).apply(secret)).isEqualTo(secret);
        assertThat(SecretRedaction.forCaller(false).apply(secret)).isEqualTo(listed);
        var cm = Resource.of("v1", CoreKinds.CONFIG_MAP, ObjectMeta.named("default", "c"), spec);
        assertThat(SecretRedaction.redact(cm)).isEqualTo(cm);
    }
}
