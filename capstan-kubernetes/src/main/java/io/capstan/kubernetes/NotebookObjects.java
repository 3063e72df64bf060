package io.capstan.kubernetes;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import io.capstan.core.TransientException;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A Kubeflow Notebook's objects on the cluster in Kubernetes mode, as the upstream notebook controller makes them
 * ({@link NotebookRender}): a StatefulSet of one replica, none while {@code kubeflow-resource-stopped} is set, and a
 * Service on port 80 that the {@code /notebook/} proxy reaches at {@code http://<name>.<namespace>.svc}. A Capstan
 * namespace mapped onto another cluster namespace prefixes the objects' names, as the backend's Jobs are.
 */
public final class NotebookObjects {
    /** The Capstan namespace a notebook's objects belong to; with {@link CapstanLabels#OWNER_NAME} it names the Notebook. */
    public static final String OWNER_NAMESPACE = "capstan.io/owner-namespace";

    /** What the cluster says of a notebook's StatefulSet. */
    public record Observed(int replicas, int readyReplicas) {
    }

    private final KubernetesClient client;
    private final ServerBackend.NamespaceMap namespaces;

    public NotebookObjects(KubernetesClient client, ServerBackend.NamespaceMap namespaces) {
        this.client = Objects.requireNonNull(client, "client");
        this.namespaces = Objects.requireNonNull(namespaces, "namespaces");
    }

    /** The cluster namespace of Capstan namespace {@code namespace}'s notebooks. */
    public String clusterNamespace(String namespace) {
        var ns = namespaces.map(namespace);
        if (!CapstanLabels.isDnsLabel(ns)) {
            throw InvalidSpecException.of("metadata.namespace", "namespace '" + Names.printable(ns) + "' is not a Kubernetes namespace name; map it with --namespace-map");
        }
        return ns;
    }

    /** The StatefulSet's and Service's name. */
    public String objectName(String namespace, String name) {
        var ns = clusterNamespace(namespace);
        return CapstanLabels.objectName(ns.equals(namespace) ? name : namespace + "-" + name);
    }

    /** The Service's host name in the cluster's DNS. */
    public String host(String namespace, String name) {
        return objectName(namespace, name) + "." + clusterNamespace(namespace) + ".svc";
    }

    /**
     * Creates or replaces the notebook's StatefulSet and Service from the Notebook document {@code doc}.
     *
     * @throws InvalidSpecException naming the field the cluster cannot take
     */
    public void apply(JsonNode doc, String namespace, String name) {
        var ns = clusterNamespace(namespace);
        var objects = NotebookRender.render(doc, name, namespace, objectName(namespace, name), ns);
        for (var o : objects) {
            var labels = new HashMap<>(o.getMetadata().getLabels() == null ? Map.of() : o.getMetadata().getLabels());
            labels.put(CapstanLabels.MANAGED_BY, CapstanLabels.MANAGED_BY_VALUE);
            labels.put(OWNER_NAMESPACE, CapstanLabels.label(namespace));
            labels.put(CapstanLabels.OWNER_NAME, CapstanLabels.label(name));
            o.getMetadata().setLabels(labels);
            try {
                client.resource(o).inNamespace(ns).createOr(existing -> existing.update());
            } catch (KubernetesClientException e) {
                if (e.getCode() == 422 || e.getCode() == 400) {
                    throw InvalidSpecException.of("spec.template", "the cluster refused the notebook's " + o.getKind() + ": " + e.getMessage());
                }
                throw new TransientException("cannot write the notebook's " + o.getKind() + " " + ns + "/" + o.getMetadata().getName()
                        + ": " + e.getMessage(), e);
            }
        }
    }

    /** The StatefulSet's replicas and ready replicas; empty when it does not exist. */
    public Optional<Observed> observe(String namespace, String name) {
        StatefulSet set;
        try {
            set = client.apps().statefulSets().inNamespace(clusterNamespace(namespace)).withName(objectName(namespace, name)).get();
        } catch (KubernetesClientException e) {
            throw new TransientException("cannot read notebook " + namespace + "/" + name + "'s StatefulSet: " + e.getMessage(), e);
        }
        if (set == null) return Optional.empty();
        int replicas = set.getSpec() == null || set.getSpec().getReplicas() == null ? 0 : set.getSpec().getReplicas();
        int ready = set.getStatus() == null || set.getStatus().getReadyReplicas() == null ? 0 : set.getStatus().getReadyReplicas();
        return Optional.of(new Observed(replicas, ready));
    }

    /** Deletes the notebook's StatefulSet (and so its pod) and Service; the PVCs stay, as upstream's do. */
    public void delete(String namespace, String name) {
        var ns = clusterNamespace(namespace);
        var object = objectName(namespace, name);
        try {
            client.apps().statefulSets().inNamespace(ns).withName(object).delete();
            client.services().inNamespace(ns).withName(object).delete();
        } catch (KubernetesClientException e) {
            throw new TransientException("cannot delete notebook " + namespace + "/" + name + "'s objects: " + e.getMessage(), e);
        }
    }

    /**
     * Deletes the StatefulSets and Services of notebooks that no longer exist: those labelled as a Capstan Notebook's
     * whose {@code namespace/name} is not in {@code live}, in the cluster namespaces {@code namespaces} map to.
     */
    public void reap(Set<String> capstanNamespaces, Set<String> live) {
        var clusterNamespaces = new java.util.TreeSet<String>();
        for (var ns : capstanNamespaces) clusterNamespaces.add(clusterNamespace(ns));
        namespaces.fallback().ifPresent(clusterNamespaces::add);
        clusterNamespaces.addAll(namespaces.entries().values());
        for (var ns : clusterNamespaces) {
            List<HasMetadata> owned = new java.util.ArrayList<>();
            try {
                owned.addAll(client.apps().statefulSets().inNamespace(ns).withLabel(CapstanLabels.OWNER_KIND, "Notebook")
                        .withLabel(CapstanLabels.MANAGED_BY, CapstanLabels.MANAGED_BY_VALUE).list().getItems());
                owned.addAll(client.services().inNamespace(ns).withLabel(CapstanLabels.OWNER_KIND, "Notebook")
                        .withLabel(CapstanLabels.MANAGED_BY, CapstanLabels.MANAGED_BY_VALUE).list().getItems());
            } catch (KubernetesClientException e) {
                throw new TransientException("cannot list notebooks' objects in " + ns + ": " + e.getMessage(), e);
            }
            for (var o : owned) {
                var labels = o.getMetadata().getLabels();
                var key = labels.getOrDefault(OWNER_NAMESPACE, "") + "/" + labels.getOrDefault(CapstanLabels.OWNER_NAME, "");
                if (live.contains(key)) continue;
                try {
                    if (o instanceof Service) client.services().inNamespace(ns).withName(o.getMetadata().getName()).delete();
                    else client.apps().statefulSets().inNamespace(ns).withName(o.getMetadata().getName()).delete();
                } catch (KubernetesClientException e) {
                    throw new TransientException("cannot delete " + o.getKind() + " " + ns + "/" + o.getMetadata().getName() + ": " + e.getMessage(), e);
                }
            }
        }
    }
}
