package io.capstan.notebooks;

import io.capstan.core.Resource;
import java.net.URI;
import java.util.Optional;
import java.util.Set;

/**
 * Where notebook servers run in Kubernetes mode: each Notebook is a StatefulSet and a Service on the cluster, as the
 * upstream notebook controller makes them, and the {@code /notebook/} proxy forwards to the Service.
 */
public interface NotebookCluster {
    /** What the cluster says of a notebook's StatefulSet. */
    record Observed(int replicas, int readyReplicas) {
    }

    /**
     * Creates or updates the notebook's StatefulSet (one replica, none while {@code kubeflow-resource-stopped} is set)
     * and Service. Where pods reach Capstan ({@link #capstanUrl()}), its container also gets {@code CAPSTAN_SERVER}
     * and its token's file, and {@code newToken}, when present, becomes that token.
     *
     * @throws io.capstan.core.InvalidSpecException naming the field the cluster cannot take
     */
    void apply(Resource notebook, Optional<String> newToken);

    /** The URL the cluster's pods reach this Capstan server by; empty when it is not configured, and notebooks get no token. */
    Optional<URI> capstanUrl();

    /** Its StatefulSet's replicas and ready replicas; empty when there is none. */
    Optional<Observed> observe(String namespace, String name);

    /** Deletes its StatefulSet and Service. */
    void delete(String namespace, String name);

    /** Deletes the objects of every notebook not in {@code live} ({@code namespace/name}). */
    void reap(Set<String> namespaces, Set<String> live);

    /** The Service's address, {@code http://<name>.<namespace>.svc:80}. */
    URI address(String namespace, String name);
}
