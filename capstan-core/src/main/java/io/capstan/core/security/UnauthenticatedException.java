package io.capstan.core.security;

import io.capstan.core.CapstanException;

/** The request carried no credential, or one that is unknown, expired or revoked; HTTP answers 401. */
public class UnauthenticatedException extends CapstanException {
    public UnauthenticatedException(String message) {
        super(message);
    }
}
