package io.capstan.core;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Encrypts the values of a Secret's {@code data} and {@code stringData} for storage and decrypts them when read,
 * with a {@link SecretKeyRing}. Each value is sealed on its own, bound to the secret's kind, namespace and name and
 * to its field and key, so a ciphertext copied into another secret, or under another key, does not open. Keys,
 * {@code type}, metadata and every other kind pass through unchanged. A value that is not sealed (a row written
 * before encryption existed) opens as itself; sealing it again encrypts it. Thread-safe.
 */
public final class SecretSealer {
    static final List<String> FIELDS = List.of("data", "stringData");

    private final SecretKeyRing ring;

    public SecretSealer(SecretKeyRing ring) {
        this.ring = Objects.requireNonNull(ring, "ring");
    }

    public SecretKeyRing ring() {
        return ring;
    }

    /** The resource with every Secret value sealed with the current key (already sealed ones are re-sealed if older). */
    public Resource seal(Resource resource) {
        return changeValues(resource, (field, key, text) -> {
            if (SecretKeyRing.keyIdOf(text).filter(ring.currentKeyId()::equals).isPresent()) return Optional.empty();
            var plain = SecretKeyRing.isSealed(text) ? ring.open(text, aad(resource.key(), field, key), where(resource, field, key))
                    : text.getBytes(StandardCharsets.UTF_8);
            return Optional.of(ring.seal(plain, aad(resource.key(), field, key)));
        });
    }

    /**
     * The resource with every sealed Secret value decrypted.
     *
     * @throws PermanentFailureException naming the secret, field and key of a value whose key is missing or which
     *                                   does not decrypt
     */
    public Resource open(Resource resource) {
        return changeValues(resource, (field, key, text) -> SecretKeyRing.isSealed(text)
                ? Optional.of(new String(ring.open(text, aad(resource.key(), field, key), where(resource, field, key)), StandardCharsets.UTF_8))
                : Optional.empty());
    }

    /** A new text for a Secret value, or empty to keep it. */
    @FunctionalInterface
    private interface ValueChange {
        Optional<String> apply(String field, String key, String text);
    }

    private static Resource changeValues(Resource resource, ValueChange change) {
        if (!resource.kind().equals(CoreKinds.SECRET)) return resource;
        var spec = resource.spec();
        boolean changed = false;
        for (var field : FIELDS) {
            if (!(spec.get(field) instanceof ObjectNode values)) continue;
            for (var e : values.properties()) {
                if (!e.getValue().isTextual()) continue;
                var next = change.apply(field, e.getKey(), e.getValue().asText());
                if (next.isEmpty()) continue;
                e.setValue(values.textNode(next.get()));
                changed = true;
            }
        }
        return changed ? resource.withSpec(spec) : resource;
    }

    /** The ids of the keys that sealed the values of a stored (sealed) Secret; empty for other kinds. */
    public static Set<String> keyIds(Resource stored) {
        var ids = new TreeSet<String>();
        if (!stored.kind().equals(CoreKinds.SECRET)) return ids;
        var spec = stored.spec();
        for (var field : FIELDS) {
            spec.path(field).properties().forEach(e -> SecretKeyRing.keyIdOf(e.getValue().asText()).ifPresent(ids::add));
        }
        return ids;
    }

    /** Whether every value of a stored Secret is sealed with the ring's current key. */
    public boolean isCurrent(Resource stored) {
        if (!stored.kind().equals(CoreKinds.SECRET)) return true;
        var spec = stored.spec();
        for (var field : FIELDS) {
            for (var e : spec.path(field).properties()) {
                if (SecretKeyRing.keyIdOf(e.getValue().asText()).filter(ring.currentKeyId()::equals).isEmpty()) return false;
            }
        }
        return true;
    }

    private static String aad(ResourceKey key, String field, String entry) {
        return String.join("\0", key.kind(), key.namespace(), key.name(), field, entry);
    }

    private static String where(Resource r, String field, String entry) {
        return "Secret " + r.metadata().namespace() + "/" + r.metadata().name() + " " + field + "." + entry;
    }
}
