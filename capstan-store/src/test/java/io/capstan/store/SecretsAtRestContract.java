package io.capstan.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import io.capstan.core.CoreKinds;
import io.capstan.core.Json;
import io.capstan.core.ObjectMeta;
import io.capstan.core.PermanentFailureException;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.SecretKeyRing;
import io.capstan.core.SecretSealer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Secret values are encrypted in the database, rows and change feed alike, and survive a key rotation. */
abstract class SecretsAtRestContract {
    private static final String PASSWORD = "hunter2-plaintext-7e1f";
    private static final String TOKEN = "tok-plaintext-c0ffee";

    @TempDir
    Path home;
    private Database db;

    abstract Database openDatabase();

    @BeforeEach
    void open() {
        db = openDatabase();
        db.migrate("store");
    }

    @AfterEach
    void close() {
        if (db != null) db.close();
    }

    private JdbiResourceStore store(SecretKeyRing ring) {
        return new JdbiResourceStore(db, Clock.systemUTC(), new SimpleMeterRegistry(), new SecretSealer(ring));
    }

    private static Resource secret(String name, String password, String token) {
        var spec = Json.json().createObjectNode();
        spec.putObject("data").put("password", Base64.getEncoder().encodeToString(password.getBytes(StandardCharsets.UTF_8)));
        spec.putObject("stringData").put("token", token);
        spec.put("type", "Opaque");
        return Resource.of("v1", CoreKinds.SECRET, ObjectMeta.named("default", name), spec);
    }

    private List<String> rawBodies() {
        return db.jdbi().withHandle(h -> {
            var out = new java.util.ArrayList<>(h.createQuery("SELECT body FROM resources WHERE kind = 'Secret'").mapTo(String.class).list());
            out.addAll(h.createQuery("SELECT body FROM resource_events WHERE kind = 'Secret'").mapTo(String.class).list());
            return out;
        });
    }

    private static Map<String, String> values(Resource r) {
        var entries = CoreKinds.entries(r);
        var out = new java.util.TreeMap<String, String>();
        entries.forEach((k, v) -> out.put(k, new String(v, StandardCharsets.UTF_8)));
        return out;
    }

    @Test
    void theDatabaseHoldsNoPlaintextYetEveryReadGetsTheValues() {
        var store = store(SecretKeyRing.load(home.resolve("keys"), Map.of()));
        store.create(secret("db", PASSWORD, TOKEN));
        store.apply(secret("db", PASSWORD, TOKEN + "-2"));

        var raw = rawBodies();
        assertThat(raw).hasSize(3);
        var base64 = Base64.getEncoder().encodeToString(PASSWORD.getBytes(StandardCharsets.UTF_8));
        for (var body : raw) {
            assertThat(body).doesNotContain(PASSWORD, base64, TOKEN).contains("\"password\"", "\"token\"", "capstan:v1:");
        }
        var key = new ResourceKey(CoreKinds.SECRET, "default", "db");
        assertThat(values(store.get(key))).containsEntry("password", PASSWORD).containsEntry("token", TOKEN + "-2");
        assertThat(store.list(ListQuery.all(CoreKinds.SECRET, "default")).items()).singleElement()
                .satisfies(r -> assertThat(values(r)).containsEntry("password", PASSWORD));
        assertThat(store.changes(WatchQuery.EVERYTHING, 0, 10, Duration.ZERO)).hasSize(2)
                .allSatisfy(e -> assertThat(values(e.resource())).containsEntry("password", PASSWORD));
        // The same content applied again is no change, though each sealing draws a new nonce.
        var before = store.currentVersion();
        store.apply(secret("db", PASSWORD, TOKEN + "-2"));
        assertThat(store.currentVersion()).isEqualTo(before);
    }

    @Test
    void aCiphertextCopiedIntoAnotherSecretDoesNotDecrypt() {
        var store = store(SecretKeyRing.load(home.resolve("keys"), Map.of()));
        store.create(secret("a", PASSWORD, TOKEN));
        store.create(secret("b", "other", "other"));
        db.jdbi().useHandle(h -> h.createUpdate("UPDATE resources SET body = (SELECT body FROM resources WHERE name = 'a' AND kind = 'Secret')"
                + " WHERE name = 'b' AND kind = 'Secret'").execute());
        // The moved body still names secret "a" in its metadata; put b's name back so only the ciphertexts moved.
        db.jdbi().useHandle(h -> {
            var body = h.createQuery("SELECT body FROM resources WHERE name = 'b' AND kind = 'Secret'").mapTo(String.class).one();
            h.createUpdate("UPDATE resources SET body = :body WHERE name = 'b' AND kind = 'Secret'")
                    .bind("body", body.replace("\"name\":\"a\"", "\"name\":\"b\"")).execute();
        });

        assertThatExceptionOfType(PermanentFailureException.class)
                .isThrownBy(() -> store.get(new ResourceKey(CoreKinds.SECRET, "default", "b")))
                .withMessageContaining("Secret default/b").withMessageContaining("copied from another secret")
                .withMessageNotContaining(PASSWORD);
        assertThat(values(store.get(new ResourceKey(CoreKinds.SECRET, "default", "a")))).containsEntry("password", PASSWORD);
    }

    @Test
    void rotationStoppedHalfWayLeavesEverySecretReadableAndFinishingItRetiresTheOldKey() {
        var keys = home.resolve("keys");
        var ring = SecretKeyRing.load(keys, Map.of());
        var old = ring.currentKeyId();
        var store = store(ring);
        for (int i = 0; i < 5; i++) store.create(secret("s" + i, PASSWORD + i, TOKEN + i));
        long version = store.currentVersion();

        var rotated = ring.rotate();
        int rewritten = store(rotated).resealSecrets(new SecretSealer(rotated), 3);
        assertThat(rewritten).isEqualTo(3);
        // "Crash": a new server loads the ring from disk and finds rows sealed with both keys.
        var reloaded = SecretKeyRing.load(keys, Map.of());
        assertThat(reloaded.currentKeyId()).isEqualTo(rotated.currentKeyId()).isNotEqualTo(old);
        var afterCrash = store(reloaded);
        assertThat(afterCrash.secretKeyIdsInUse()).containsExactlyInAnyOrder(old, rotated.currentKeyId());
        for (int i = 0; i < 5; i++) {
            assertThat(values(afterCrash.get(new ResourceKey(CoreKinds.SECRET, "default", "s" + i)))).containsEntry("password", PASSWORD + i);
        }

        afterCrash.resealSecrets(new SecretSealer(reloaded));
        assertThat(afterCrash.secretKeyIdsInUse()).containsExactly(reloaded.currentKeyId());
        assertThat(reloaded.retire(afterCrash.secretKeyIdsInUse())).containsExactly(old);
        assertThat(Files.exists(keys.resolve(old + ".key"))).isFalse();
        assertThat(store.currentVersion()).as("re-encryption changes no resource").isEqualTo(version);
        var fresh = store(SecretKeyRing.load(keys, Map.of()));
        for (int i = 0; i < 5; i++) {
            assertThat(values(fresh.get(new ResourceKey(CoreKinds.SECRET, "default", "s" + i)))).containsEntry("token", TOKEN + i);
        }
        assertThat(fresh.changes(WatchQuery.EVERYTHING, 0, 10, Duration.ZERO)).hasSize(5);
    }

    @Test
    void secretsStoredBeforeEncryptionAreReadAndThenSealedByRotation() {
        var plain = new JdbiResourceStore(db, Clock.systemUTC());
        plain.create(secret("legacy", PASSWORD, TOKEN));
        assertThat(String.join("", rawBodies())).contains(TOKEN);

        var ring = SecretKeyRing.load(home.resolve("keys"), Map.of());
        var store = store(ring);
        assertThat(values(store.get(new ResourceKey(CoreKinds.SECRET, "default", "legacy")))).containsEntry("token", TOKEN);
        store.resealSecrets(new SecretSealer(ring));
        assertThat(String.join("", rawBodies())).doesNotContain(TOKEN);
        assertThat(values(store.get(new ResourceKey(CoreKinds.SECRET, "default", "legacy")))).containsEntry("token", TOKEN);
    }
}
