package io.capstan.notebooks;

import io.capstan.core.security.AccessPolicy;
import io.capstan.core.security.Caller;
import io.capstan.core.security.Role;
import io.capstan.core.security.UnauthenticatedException;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;

/**
 * Lets a request to {@code /notebook/<namespace>/...} on only for a caller who may edit the namespace, else 403. It
 * runs after the authentication filter, for plain requests and for WebSocket upgrades alike (Helidon routes an upgrade
 * through the HTTP filters before the WebSocket listener sees it), so that a refused upgrade says 403, not 400.
 */
final class NotebookAccessFilter implements Filter {
    private static final String PREFIX = "/notebook/";
    private final AccessPolicy policy;

    NotebookAccessFilter(AccessPolicy policy) {
        this.policy = policy;
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        // The raw path names the server the WebSocket listener connects to, the decoded one the route's; both are checked.
        for (var path : java.util.List.of(req.path().rawPath(), req.path().path())) {
            if (!path.startsWith(PREFIX)) continue;
            var caller = req.context().get(Caller.class).orElseThrow(() -> new UnauthenticatedException(
                    "a notebook needs a token: send 'Authorization: Bearer <token>'"));
            policy.require(caller, namespaceOf(path), Role.EDIT);
        }
        chain.proceed();
    }

    static String namespaceOf(String path) {
        int end = path.indexOf('/', PREFIX.length());
        return path.substring(PREFIX.length(), end < 0 ? path.length() : end);
    }
}
