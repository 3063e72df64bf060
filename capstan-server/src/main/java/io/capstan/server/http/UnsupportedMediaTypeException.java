package io.capstan.server.http;

import io.capstan.core.CapstanException;

/** A request body in a format the endpoint does not read; answered with 415. */
public class UnsupportedMediaTypeException extends CapstanException {
    public UnsupportedMediaTypeException(String message) {
        super(message);
    }
}
