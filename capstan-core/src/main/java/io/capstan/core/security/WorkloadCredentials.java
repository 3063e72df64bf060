package io.capstan.core.security;

/** Makes the token a workload finds in {@code CAPSTAN_TOKEN}: scoped to its namespace and one purpose, and short-lived. */
@FunctionalInterface
public interface WorkloadCredentials {
    String ENV = "CAPSTAN_TOKEN";

    /** A new token for {@code scope}; empty where the server asks for none (a controller tested without a server). */
    String tokenFor(WorkloadScope scope);

    static WorkloadCredentials none() {
        return scope -> "";
    }
}
