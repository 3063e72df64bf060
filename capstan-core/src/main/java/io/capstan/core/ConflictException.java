package io.capstan.core;

/** The object changed since the caller read it, or already exists; re-read and try again. */
public class ConflictException extends CapstanException {
    public ConflictException(String message) {
        super(message);
    }
}
