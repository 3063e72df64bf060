package io.capstan.kubernetes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.backend.PredictorPlacement;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import io.capstan.core.Names;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * InferenceService revisions' predictors on Kubernetes, in the shape {@code capstan render} prints
 * ({@link InferenceServiceRender}): each revision a Deployment {@code <isvc>-predictor-<n>}, a Service of the same
 * name and an HPA, labelled with the revision so that revisions never select each other's pods. Objects are
 * created, or JSON-merge-patched where they exist (a restarted server adopts them by name; the Deployment's replicas
 * are left to the HPA), and deleted one by one (no owner references: nothing relies on the garbage collector). A
 * revision is available when its Deployment's {@code availableReplicas} is at least one; past its progress
 * deadline it has failed.
 */
public final class KubernetesPredictors implements PredictorPlacement {
    private static final Map<String, String> OWNED = Map.of(CapstanLabels.MANAGED_BY, CapstanLabels.MANAGED_BY_VALUE,
            CapstanLabels.OWNER_KIND, "InferenceService");

    private final KubernetesClient client;
    private final ServerBackend.NamespaceMap namespaces;
    private final String modelServerImage;
    private final Function<Service, InetSocketAddress> addresses;
    /** The revisions this server created or patched: while one starts, it is only looked at. */
    private final Set<String> applied = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * @param modelServerImage Capstan's image, whose {@code capstan model-server} serves the built-in formats
     * @param addresses where a predictor's Service answers; {@link #clusterAddress} from inside the cluster
     */
    public KubernetesPredictors(KubernetesClient client, ServerBackend.NamespaceMap namespaces, String modelServerImage,
                                Function<Service, InetSocketAddress> addresses) {
        this.client = Objects.requireNonNull(client, "client");
        this.namespaces = Objects.requireNonNull(namespaces, "namespaces");
        this.modelServerImage = Objects.requireNonNull(modelServerImage, "modelServerImage");
        this.addresses = Objects.requireNonNull(addresses, "addresses");
    }

    /** The Service's cluster DNS name and first port: reachable from a server that runs in the cluster. */
    public static InetSocketAddress clusterAddress(Service service) {
        var meta = service.getMetadata();
        return InetSocketAddress.createUnresolved(meta.getName() + "." + meta.getNamespace() + ".svc", service.getSpec().getPorts().getFirst().getPort());
    }

    @Override
    public Optional<InetSocketAddress> place(String namespace, String name, int revision, JsonNode spec) {
        var where = where(namespace, name);
        var objectName = where.owner() + "-predictor-" + revision;
        var id = where.ns() + "/" + objectName;
        Deployment deployment = applied.contains(id) ? client.apps().deployments().inNamespace(where.ns()).withName(objectName).get() : null;
        Service service = deployment == null ? null : client.services().inNamespace(where.ns()).withName(objectName).get();
        if (deployment == null || service == null) {
            var objects = InferenceServiceRender.render(name, where.owner(), objectName, where.ns(), spec, modelServerImage,
                    Map.of(InferenceServiceRender.REVISION_LABEL, Integer.toString(revision)));
            for (var object : objects) {
                var current = apply(object);
                if (current instanceof Deployment d) deployment = d;
                if (current instanceof Service s) service = s;
            }
            Objects.requireNonNull(deployment, "rendered without a Deployment");
            applied.add(id);
        }
        var status = deployment.getStatus();
        if (status != null && status.getConditions() != null) {
            for (var c : status.getConditions()) {
                if ("Progressing".equals(c.getType()) && "False".equals(c.getStatus())) {
                    throw new IllegalStateException("Deployment " + where.ns() + "/" + deployment.getMetadata().getName() + " did not become available: "
                            + Objects.requireNonNullElse(c.getReason(), "") + " " + Objects.requireNonNullElse(c.getMessage(), ""));
                }
            }
        }
        if (status == null || status.getAvailableReplicas() == null || status.getAvailableReplicas() < 1) return Optional.empty();
        return Optional.of(addresses.apply(service));
    }

    @Override
    public void retain(String namespace, String name, Set<Integer> revisions) {
        var where = where(namespace, name);
        var labels = new java.util.HashMap<>(OWNED);
        labels.put(CapstanLabels.OWNER_NAME, CapstanLabels.label(where.owner()));
        var found = new ArrayList<HasMetadata>();
        found.addAll(client.autoscaling().v2().horizontalPodAutoscalers().inNamespace(where.ns()).withLabels(labels).list().getItems());
        found.addAll(client.services().inNamespace(where.ns()).withLabels(labels).list().getItems());
        found.addAll(client.apps().deployments().inNamespace(where.ns()).withLabels(labels).list().getItems());
        for (var object : found) {
            var revision = object.getMetadata().getLabels().get(InferenceServiceRender.REVISION_LABEL);
            if (revision != null && revisions.contains(parse(revision))) continue;
            applied.remove(where.ns() + "/" + object.getMetadata().getName());
            client.resource(object).inNamespace(where.ns()).delete();
        }
        // the pods' ReplicaSets go with the Deployment where the cluster collects garbage; where it does not, name them too
        for (var rs : client.apps().replicaSets().inNamespace(where.ns()).withLabels(labels).list().getItems()) {
            var revision = rs.getMetadata().getLabels().get(InferenceServiceRender.REVISION_LABEL);
            if (revision == null || !revisions.contains(parse(revision))) client.resource(rs).inNamespace(where.ns()).delete();
        }
    }

    private static int parse(String revision) {
        try {
            return Integer.parseInt(revision);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private record Where(String ns, String owner) {
    }

    /** The cluster namespace, and the InferenceService's name there (its Capstan namespace first where namespaces are folded). */
    private Where where(String namespace, String name) {
        var ns = namespaces.map(namespace);
        if (!CapstanLabels.isDnsLabel(ns)) {
            throw InvalidSpecException.of("metadata.namespace", "namespace '" + Names.printable(ns) + "' is not a Kubernetes namespace name; map it with --namespace-map");
        }
        return new Where(ns, ns.equals(namespace) ? name : namespace + "-" + name);
    }

    /** Creates the object, or merge-patches the one there with its labels and spec (a Deployment's replicas aside). */
    private HasMetadata apply(HasMetadata object) {
        var existing = client.resource(object).get();
        if (existing == null) return client.resource(object).create();
        ObjectNode desired;
        try {
            desired = (ObjectNode) Json.json().readTree(Serialization.asJson(object));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        var patch = Json.json().createObjectNode();
        patch.putObject("metadata").set("labels", desired.path("metadata").path("labels"));
        var spec = desired.path("spec").deepCopy();
        if (object instanceof Deployment && spec instanceof ObjectNode s) s.remove("replicas");
        if (object instanceof Service && spec instanceof ObjectNode s) s.remove("clusterIP");
        patch.set("spec", spec);
        return client.resource(existing).patch(PatchContext.of(PatchType.JSON_MERGE), patch.toString());
    }
}
