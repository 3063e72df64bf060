package io.capstan.server.http;

import io.capstan.core.security.AccessPolicy;
import io.capstan.core.security.Caller;
import io.capstan.core.security.Role;
import io.capstan.core.security.UnauthenticatedException;
import io.helidon.webserver.http.ServerRequest;
import java.util.Objects;

/**
 * The access decision as routes ask it: the caller the {@link AuthenticationFilter} registered in the request's
 * context, and what the {@link AccessPolicy} grants it in a namespace. A request that reached a route without a
 * caller answers 401: only {@code /healthz}, {@code /readyz} (and {@code /metrics} when public) pass the filter
 * without one, and they do not ask.
 */
public final class Access {
    private final AccessPolicy policy;

    public Access(AccessPolicy policy) {
        this.policy = Objects.requireNonNull(policy, "policy");
    }

    public AccessPolicy policy() {
        return policy;
    }

    public static Caller caller(ServerRequest req) {
        return req.context().get(Caller.class).orElseThrow(() -> new UnauthenticatedException(
                "this endpoint needs a token: send 'Authorization: Bearer <token>'"));
    }

    /** @throws io.capstan.core.security.AccessDeniedException naming the role and namespace, unless the caller holds it */
    public void require(ServerRequest req, String namespace, Role needed) {
        policy.require(caller(req), namespace, needed);
    }

    public boolean allows(ServerRequest req, String namespace, Role needed) {
        return policy.allows(caller(req), namespace, needed);
    }

    /** @throws io.capstan.core.security.AccessDeniedException unless the caller is the server admin */
    public static void requireServerAdmin(ServerRequest req, String what) {
        var caller = caller(req);
        if (!caller.isServerAdmin()) {
            throw new io.capstan.core.security.AccessDeniedException(caller.user() + " may not " + what + "; only the server admin may");
        }
    }
}
