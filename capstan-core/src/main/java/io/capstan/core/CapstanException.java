package io.capstan.core;

/** Root of Capstan's unchecked exceptions; subclasses say what the caller can do about the failure. */
public abstract class CapstanException extends RuntimeException {
    protected CapstanException(String message) {
        super(message);
    }

    protected CapstanException(String message, Throwable cause) {
        super(message, cause);
    }
}
