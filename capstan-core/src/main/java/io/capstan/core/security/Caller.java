package io.capstan.core.security;

import java.util.Objects;
import java.util.Optional;

/**
 * Who made a request, as the authentication filter established it. The filter registers it in the request's
 * context ({@code req.context().get(Caller.class)}); every route past the filter can rely on finding one.
 *
 * @param user     the user name: an e-mail address for people, {@code system:admin} for the server admin token, and
 *                 {@code system:workload:<namespace>:<purpose>:<subject>} for a workload's token
 * @param kind     what kind of credential it presented
 * @param workload for a workload's token, what it may do; empty for people and the admin
 */
public record Caller(String user, Kind kind, Optional<WorkloadScope> workload) {
    public static final String ADMIN_USER = "system:admin";

    public enum Kind { SERVER_ADMIN, USER, WORKLOAD }

    public Caller {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(workload, "workload");
        if ((kind == Kind.WORKLOAD) != workload.isPresent()) {
            throw new IllegalArgumentException("a workload caller, and only one, has a workload scope");
        }
    }

    public static Caller serverAdmin() {
        return new Caller(ADMIN_USER, Kind.SERVER_ADMIN, Optional.empty());
    }

    public static Caller user(String name) {
        return new Caller(name, Kind.USER, Optional.empty());
    }

    public static Caller workload(WorkloadScope scope) {
        return new Caller("system:workload:" + scope.namespace() + ":" + scope.purpose() + ":" + scope.subject(),
                Kind.WORKLOAD, Optional.of(scope));
    }

    public boolean isServerAdmin() {
        return kind == Kind.SERVER_ADMIN;
    }

    /** Whether this is a workload's token that may do {@code purpose} on {@code subject} in {@code namespace}. */
    public boolean isWorkloadScopedTo(String namespace, String purpose, String subject) {
        return workload.filter(w -> w.namespace().equals(namespace) && w.purpose().equals(purpose)
                && w.subject().equals(subject)).isPresent();
    }
}
