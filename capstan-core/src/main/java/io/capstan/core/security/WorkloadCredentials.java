package io.capstan.core.security;

/** Makes the token a workload finds in {@code CAPSTAN_TOKEN}: scoped to its namespace and one purpose, and short-lived. */
@FunctionalInterface
public interface WorkloadCredentials {
    String ENV = "CAPSTAN_TOKEN";
    /** How long a workload's token is valid; a long-lived workload is handed a new one before then. */
    java.time.Duration TTL = java.time.Duration.ofHours(24);

    /** A new token for {@code scope}; empty where the server asks for none (a controller tested without a server). */
    String tokenFor(WorkloadScope scope);

    static WorkloadCredentials none() {
        return scope -> "";
    }
}
