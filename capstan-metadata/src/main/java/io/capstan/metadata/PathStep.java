package io.capstan.metadata;

import io.capstan.core.InvalidSpecException;
import java.util.Objects;

/**
 * One step of an event's path, as MLMD's {@code Event.Path.Step}: a key names an input or output slot, and an
 * index picks an element of a list of artifacts in that slot.
 */
public sealed interface PathStep {

    static PathStep index(long index) {
        return new Index(index);
    }

    static PathStep key(String key) {
        return new Key(key);
    }

    record Index(long index) implements PathStep {
        public Index {
            if (index < 0) throw new InvalidSpecException("event path index must be >= 0, got " + index);
        }
    }

    record Key(String key) implements PathStep {
        public Key {
            Objects.requireNonNull(key, "key");
        }
    }
}
