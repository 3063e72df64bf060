package io.capstan.core.security;

import io.capstan.core.CapstanException;

/** The caller is known but may not do this; HTTP answers 403. The message names the role and namespace needed. */
public class AccessDeniedException extends CapstanException {
    public AccessDeniedException(String message) {
        super(message);
    }
}
