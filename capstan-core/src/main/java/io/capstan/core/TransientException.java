package io.capstan.core;

/** A failure that may go away: retry later with back-off. */
public class TransientException extends CapstanException {
    public TransientException(String message) {
        super(message);
    }

    public TransientException(String message, Throwable cause) {
        super(message, cause);
    }
}
