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

    /** Where a notebook's token Secret is mounted; the token is the file {@code token} there. */
    public static final String TOKEN_DIR = "/var/run/secrets/capstan.io";
    static final String TOKEN_VOLUME = "capstan-token";

    /** What the cluster says of a notebook's StatefulSet. */
    public record Observed(int replicas, int readyReplicas) {
    }

    /**
     * How a notebook's pod reaches this Capstan server: {@code serverUrl} is what it finds in {@code CAPSTAN_SERVER},
     * and {@code newToken}, when present, replaces the token in its Secret (the pod reads the mounted file, which the
     * kubelet refreshes, so a running notebook keeps working across the token's rotation).
     */
    public record Access(String serverUrl, Optional<String> newToken) {
        public Access {
            Objects.requireNonNull(serverUrl, "serverUrl");
            Objects.requireNonNull(newToken, "newToken");
        }
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

    /** The Secret that holds the notebook's Capstan token. */
    public String tokenSecretName(String namespace, String name) {
        return CapstanLabels.objectName(objectName(namespace, name) + "-capstan");
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
        apply(doc, namespace, name, Optional.empty());
    }

    /**
     * As {@link #apply(JsonNode, String, String)}; with {@code access} the notebook's container also gets
     * {@code CAPSTAN_SERVER}, {@code CAPSTAN_NAMESPACE}, {@code CAPSTAN_NOTEBOOK}, and its token as the file
     * {@code CAPSTAN_TOKEN_FILE} from a Secret, which KFP's SDK also reads ({@code KF_PIPELINES_SA_TOKEN_PATH}).
     */
    public void apply(JsonNode doc, String namespace, String name, Optional<Access> access) {
        var ns = clusterNamespace(namespace);
        var objects = new java.util.ArrayList<HasMetadata>(NotebookRender.render(doc, name, namespace, objectName(namespace, name), ns));
        if (access.isPresent()) {
            var secret = tokenSecretName(namespace, name);
            for (var o : objects) {
                if (o instanceof StatefulSet set) wireAccess(set, access.get().serverUrl(), secret, namespace, name);
            }
            // The Secret goes first: a pod that starts before it exists waits on its volume.
            access.get().newToken().ifPresent(token -> objects.addFirst(new io.fabric8.kubernetes.api.model.SecretBuilder()
                    .withNewMetadata().withName(secret).withNamespace(ns).endMetadata().withType("Opaque")
                    .addToData("token", java.util.Base64.getEncoder().encodeToString(token.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                    .build()));
        }
        for (var o : objects) {
            var labels = new HashMap<>(o.getMetadata().getLabels() == null ? Map.of() : o.getMetadata().getLabels());
            labels.put(CapstanLabels.MANAGED_BY, CapstanLabels.MANAGED_BY_VALUE);
            labels.put(CapstanLabels.OWNER_KIND, "Notebook");
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

    private static void wireAccess(StatefulSet set, String serverUrl, String secret, String namespace, String name) {
        var pod = set.getSpec().getTemplate().getSpec();
        var container = pod.getContainers().getFirst();
        var env = new java.util.ArrayList<>(container.getEnv() == null ? List.<io.fabric8.kubernetes.api.model.EnvVar>of() : container.getEnv());
        var named = new java.util.HashSet<String>();
        env.forEach(e -> named.add(e.getName()));
        var tokenFile = TOKEN_DIR + "/token";
        // What the notebook's own template sets wins, as upstream's PodDefaults leave a container's env alone.
        var wired = new java.util.LinkedHashMap<String, String>();
        wired.put("CAPSTAN_SERVER", serverUrl);
        wired.put("CAPSTAN_NAMESPACE", namespace);
        wired.put("CAPSTAN_NOTEBOOK", name);
        wired.put("CAPSTAN_TOKEN_FILE", tokenFile);
        wired.put("KF_PIPELINES_SA_TOKEN_PATH", tokenFile);
        wired.forEach((k, v) -> {
            if (!named.contains(k)) env.add(new io.fabric8.kubernetes.api.model.EnvVar(k, v, null));
        });
        container.setEnv(env);
        var mounts = new java.util.ArrayList<>(container.getVolumeMounts() == null ? List.<io.fabric8.kubernetes.api.model.VolumeMount>of() : container.getVolumeMounts());
        if (mounts.stream().anyMatch(m -> TOKEN_DIR.equals(m.getMountPath()) || TOKEN_VOLUME.equals(m.getName()))) {
            throw InvalidSpecException.of("spec.template.spec.containers[0].volumeMounts",
                    "'" + TOKEN_DIR + "' and the volume name '" + TOKEN_VOLUME + "' are Capstan's, for the notebook's token");
        }
        mounts.add(new io.fabric8.kubernetes.api.model.VolumeMountBuilder().withName(TOKEN_VOLUME).withMountPath(TOKEN_DIR).withReadOnly(true).build());
        container.setVolumeMounts(mounts);
        var volumes = new java.util.ArrayList<>(pod.getVolumes() == null ? List.<io.fabric8.kubernetes.api.model.Volume>of() : pod.getVolumes());
        volumes.add(new io.fabric8.kubernetes.api.model.VolumeBuilder().withName(TOKEN_VOLUME).withNewSecret().withSecretName(secret)
                .addNewItem().withKey("token").withPath("token").endItem().endSecret().build());
        pod.setVolumes(volumes);
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
            client.secrets().inNamespace(ns).withName(tokenSecretName(namespace, name)).delete();
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
                owned.addAll(client.secrets().inNamespace(ns).withLabel(CapstanLabels.OWNER_KIND, "Notebook")
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
                    else if (o instanceof io.fabric8.kubernetes.api.model.Secret) client.secrets().inNamespace(ns).withName(o.getMetadata().getName()).delete();
                    else client.apps().statefulSets().inNamespace(ns).withName(o.getMetadata().getName()).delete();
                } catch (KubernetesClientException e) {
                    throw new TransientException("cannot delete " + o.getKind() + " " + ns + "/" + o.getMetadata().getName() + ": " + e.getMessage(), e);
                }
            }
        }
    }
}
