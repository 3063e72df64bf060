package io.capstan.core;

/** The named object does not exist. */
public class NotFoundException extends CapstanException {
    public NotFoundException(String message) {
        super(message);
    }
}
