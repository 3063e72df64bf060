package io.capstan.server.http;

import io.capstan.core.CapstanException;

/** A request body over the server's limit; answered with 413. */
public class PayloadTooLargeException extends CapstanException {
    public PayloadTooLargeException(String message) {
        super(message);
    }
}
