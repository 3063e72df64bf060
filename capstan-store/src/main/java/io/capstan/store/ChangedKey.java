package io.capstan.store;

import io.capstan.core.ResourceKey;
import java.util.Objects;

/** One entry of {@link ResourceStore#changedKeys}: the version a change made and the resource it changed. */
public record ChangedKey(long resourceVersion, ResourceKey key) {
    public ChangedKey {
        Objects.requireNonNull(key, "key");
    }
}
