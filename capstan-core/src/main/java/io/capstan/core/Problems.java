package io.capstan.core;

import java.util.ArrayList;
import java.util.List;

/**
 * Collects every problem a validator finds, so that the caller reports them all at once. Paths are absolute
 * within the document, for example {@code spec.command[0]}. Not thread-safe: one instance per validation.
 */
public final class Problems {
    private final List<FieldError> errors = new ArrayList<>();

    public Problems add(String path, String message) {
        errors.add(FieldError.of(path, message));
        return this;
    }

    public boolean isEmpty() {
        return errors.isEmpty();
    }

    public List<FieldError> errors() {
        return List.copyOf(errors);
    }

    /** Throws {@link InvalidSpecException} listing every problem, if there is any. */
    public void throwIfAny() {
        if (!errors.isEmpty()) throw new InvalidSpecException(errors);
    }
}
