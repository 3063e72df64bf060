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
     * and Service.
     *
     * @throws io.capstan.core.InvalidSpecException naming the field the cluster cannot take
     */
    void apply(Resource notebook);

    /** Its StatefulSet's replicas and ready replicas; empty when there is none. */
    Optional<Observed> observe(String namespace, String name);

    /** Deletes its StatefulSet and Service. */
    void delete(String namespace, String name);

    /** Deletes the objects of every notebook not in {@code live} ({@code namespace/name}). */
    void reap(Set<String> namespaces, Set<String> live);

    /** The Service's address, {@code http://<name>.<namespace>.svc:80}. */
    URI address(String namespace, String name);
}
