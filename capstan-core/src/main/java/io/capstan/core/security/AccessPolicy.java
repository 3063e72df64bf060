package io.capstan.core.security;

import java.util.Optional;

/** Which role a caller holds in a namespace. The server admin holds admin everywhere; a workload's token holds none. */
public interface AccessPolicy {
    Optional<Role> roleIn(Caller caller, String namespace);

    default boolean allows(Caller caller, String namespace, Role needed) {
        if (caller.isServerAdmin()) return true;
        return roleIn(caller, namespace).filter(r -> r.includes(needed)).isPresent();
    }

    /** Throws {@link AccessDeniedException} naming the role and namespace unless the caller holds {@code needed}. */
    default void require(Caller caller, String namespace, Role needed) {
        if (!allows(caller, namespace, needed)) {
            throw new AccessDeniedException(caller.user() + " may not " + switch (needed) {
                case VIEW -> "read";
                case EDIT -> "change";
                case ADMIN -> "manage access to";
            } + " namespace '" + namespace + "'; this needs the " + needed.clusterRole() + " role there");
        }
    }

    /** Only the server admin has access; the policy before any Profile grants more. */
    static AccessPolicy serverAdminOnly() {
        return (caller, namespace) -> caller.isServerAdmin() ? Optional.of(Role.ADMIN) : Optional.empty();
    }
}
