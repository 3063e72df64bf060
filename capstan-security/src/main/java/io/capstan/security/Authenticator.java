package io.capstan.security;

import io.capstan.core.security.Caller;
import java.util.Optional;

/** Turns a bearer credential into the caller it belongs to; empty when it is unknown, expired or revoked. */
@FunctionalInterface
public interface Authenticator {
    Optional<Caller> authenticate(String bearerToken);

    /** This authenticator, then {@code next} for credentials this one does not know. */
    default Authenticator orElse(Authenticator next) {
        return token -> authenticate(token).or(() -> next.authenticate(token));
    }
}
