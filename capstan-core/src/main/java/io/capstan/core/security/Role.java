package io.capstan.core.security;

/**
 * What a caller may do in a namespace, as Kubeflow's ClusterRoles {@code kubeflow-view}, {@code kubeflow-edit} and
 * {@code kubeflow-admin} grant it: view reads, edit also writes, admin also manages who has access.
 */
public enum Role {
    VIEW("kubeflow-view"), EDIT("kubeflow-edit"), ADMIN("kubeflow-admin");

    private final String clusterRole;

    Role(String clusterRole) {
        this.clusterRole = clusterRole;
    }

    public String clusterRole() {
        return clusterRole;
    }

    /** Whether holding this role grants {@code needed}. */
    public boolean includes(Role needed) {
        return compareTo(needed) >= 0;
    }

    public static java.util.Optional<Role> ofClusterRole(String name) {
        for (var r : values()) {
            if (r.clusterRole.equals(name)) return java.util.Optional.of(r);
        }
        return java.util.Optional.empty();
    }
}
