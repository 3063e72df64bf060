package io.capstan.metadata;

import io.capstan.core.InvalidSpecException;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/** Field checks shared by the records' compact constructors. */
final class Checks {
    static final int MAX_NAME = 255;
    static final int MAX_URI = 2048;

    private Checks() {
    }

    static String name(String what, String value) {
        Objects.requireNonNull(value, what);
        if (value.isBlank()) throw new InvalidSpecException(what + " must not be blank");
        return bounded(what, value, MAX_NAME);
    }

    /** An optional text field: empty means unset, as in MLMD's protos. */
    static String optional(String what, String value, int max) {
        Objects.requireNonNull(value, what + " (use \"\" for none)");
        return bounded(what, value, max);
    }

    static long id(String what, long id) {
        if (id < 0) throw new InvalidSpecException(what + " must be >= 0 (0 = not stored yet), got " + id);
        return id;
    }

    static <V> Map<String, V> properties(String what, Map<String, V> properties) {
        Objects.requireNonNull(properties, what);
        var copy = new TreeMap<String, V>();
        properties.forEach((k, v) -> {
            name(what + " name", k);
            copy.put(k, Objects.requireNonNull(v, () -> what + " '" + k + "' has a null value"));
        });
        return java.util.Collections.unmodifiableMap(copy);
    }

    static <V> Map<String, V> with(Map<String, V> map, String key, V value) {
        var copy = new TreeMap<>(map);
        copy.put(key, value);
        return copy;
    }

    private static String bounded(String what, String value, int max) {
        if (value.length() > max) {
            throw new InvalidSpecException(what + " is " + value.length() + " characters long; the limit is " + max);
        }
        return value;
    }
}
