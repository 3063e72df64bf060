package io.capstan.core;

/** A failure that retrying cannot fix: record it and stop. */
public class PermanentFailureException extends CapstanException {
    public PermanentFailureException(String message) {
        super(message);
    }

    public PermanentFailureException(String message, Throwable cause) {
        super(message, cause);
    }
}
