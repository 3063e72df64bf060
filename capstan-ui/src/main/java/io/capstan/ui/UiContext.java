package io.capstan.ui;

import io.capstan.backend.Backend;
import io.capstan.core.NotFoundException;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.security.AccessPolicy;
import io.capstan.core.security.Caller;
import io.capstan.core.security.Role;
import io.capstan.metadata.MetadataStore;
import io.capstan.store.LabelSelector;
import io.capstan.store.ListQuery;
import io.capstan.store.ResourceStore;
import io.helidon.webserver.http.ServerRequest;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** What every page reads: the stores, the backend's logs, the access policy, the run index and the layout cache. */
record UiContext(ResourceStore store, MetadataStore metadata, Backend backend, AccessPolicy policy, Clock clock,
                 RunIndex runs, DagLayout layouts) {

    static Caller caller(ServerRequest req) {
        return req.context().get(Caller.class).orElseThrow(() -> new io.capstan.core.security.UnauthenticatedException(
                "log in to see this page"));
    }

    boolean canView(ServerRequest req, String namespace) {
        return policy.allows(caller(req), namespace, Role.VIEW);
    }

    /** Every resource of {@code kind} the caller may see, in every namespace. */
    List<Resource> visible(ServerRequest req, String kind) {
        var caller = caller(req);
        var out = new ArrayList<Resource>();
        Optional<String> token = Optional.empty();
        var allowed = new java.util.HashMap<String, Boolean>();
        do {
            var page = store.list(new ListQuery(kind, Optional.empty(), LabelSelector.EVERYTHING, ListQuery.MAX_LIMIT, token));
            for (var r : page.items()) {
                if (allowed.computeIfAbsent(r.metadata().namespace(), ns -> policy.allows(caller, ns, Role.VIEW))) out.add(r);
            }
            token = page.continueToken();
        } while (token.isPresent());
        return out;
    }

    /** The last lines of a workload's log; none when the backend no longer knows the workload. */
    List<io.capstan.backend.LogLine> tail(String workloadId, int lines) {
        if (backend.find(workloadId).isEmpty()) return List.of();
        try {
            return backend.tail(workloadId, lines);
        } catch (NotFoundException e) {
            return List.of();
        }
    }

    /** The resource, if the caller may see it; otherwise the same not-found as a missing one, so that names do not leak. */
    Resource get(ServerRequest req, String kind, String namespace, String name) {
        if (!canView(req, namespace)) throw new NotFoundException(kind + " '" + namespace + "/" + name + "' not found");
        return store.find(new ResourceKey(kind, namespace, name))
                .orElseThrow(() -> new NotFoundException(kind + " '" + namespace + "/" + name + "' not found"));
    }
}
