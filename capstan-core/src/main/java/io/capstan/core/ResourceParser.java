package io.capstan.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Turns YAML or JSON text into validated resources. Every problem in every document is reported at once, each
 * naming the source, the document, the field path and the line; nothing is returned unless all documents are valid.
 * Server-assigned metadata and {@code status} in the input are ignored. Thread-safe.
 */
public final class ResourceParser {
    /** Most documents accepted in one apply. */
    public static final int MAX_DOCUMENTS = 500;
    static final int MAX_ANNOTATION_BYTES = 256 * 1024;

    private final ResourceKinds kinds;

    /** Kubernetes kinds that samples ship beside their workloads, with what Capstan does instead, in one sentence. */
    private static final Map<String, String> LOCALLY_REFUSED = refusals();

    private static Map<String, String> refusals() {
        var m = new LinkedHashMap<String, String>();
        var serving = "Capstan serves models through an InferenceService and routes to it itself; apply the InferenceService alone";
        m.put("Service", serving);
        m.put("Ingress", serving);
        m.put("VirtualService", serving);
        m.put("Gateway", serving);
        var workloads = "Capstan runs containers as a Job (batch/v1 or capstan.io/v1), a training job, a pipeline step or an "
                + "InferenceService predictor; apply one of those instead";
        for (var k : List.of("Deployment", "Pod", "ReplicaSet", "StatefulSet", "DaemonSet", "CronJob")) m.put(k, workloads);
        var rbac = "Capstan authorises callers with its own tokens (capstan token), so Kubernetes RBAC and service accounts have nothing to grant";
        for (var k : List.of("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "ServiceAccount")) m.put(k, rbac);
        var storage = "Capstan keeps artifacts and models in its artifact store and pipeline PVCs in folders it creates, so there is no storage to provision";
        for (var k : List.of("StorageClass", "PersistentVolume", "PersistentVolumeClaim")) m.put(k, storage);
        m.put("Kustomization", "a kustomization file is build instructions, not a resource; run kustomize build and apply the resources it prints");
        m.put("Namespace", "namespaces exist as soon as a resource names one; apply the resources with their metadata.namespace");
        m.put("HorizontalPodAutoscaler", "an InferenceService scales its own replicas (minReplicas, maxReplicas, scaleTarget)");
        return Map.copyOf(m);
    }

    public ResourceParser(ResourceKinds kinds) {
        this.kinds = Objects.requireNonNull(kinds, "kinds");
    }

    public List<Resource> parse(String source, String text) {
        return parse(source, text, ObjectMeta.DEFAULT_NAMESPACE);
    }

    /** As {@link #parse(String, String)}, placing documents that name no namespace in {@code defaultNamespace}. */
    public List<Resource> parse(String source, String text, String defaultNamespace) {
        Names.checkLabel(defaultNamespace).ifPresent(m -> {
            throw InvalidSpecException.of("namespace", "namespace " + m);
        });
        var docs = DocumentReader.read(source, text);
        if (docs.isEmpty()) {
            throw new InvalidSpecException(List.of(new FieldError(source, 0, "", 0, "no resource found; expected a YAML or JSON document with apiVersion, kind and metadata.name")));
        }
        if (docs.size() > MAX_DOCUMENTS) {
            throw new InvalidSpecException(List.of(new FieldError(source, 0, "", 0,
                    docs.size() + " documents in one input; the limit is " + MAX_DOCUMENTS)));
        }
        var errors = new ArrayList<FieldError>();
        var resources = new ArrayList<Resource>();
        for (var doc : docs) {
            var problems = new Problems();
            var resource = toResource(doc.root(), defaultNamespace, problems);
            problems.errors().forEach(e -> errors.add(doc.locate(e)));
            if (problems.isEmpty()) resources.add(resource);
        }
        if (!errors.isEmpty()) throw new InvalidSpecException(errors);
        return resources;
    }

    /** Parses exactly one resource, as a REST endpoint addressed by name expects. */
    public Resource parseOne(String source, String text, String defaultNamespace) {
        var all = parse(source, text, defaultNamespace);
        if (all.size() != 1) {
            throw new InvalidSpecException(List.of(new FieldError(source, 1, "", 0, "expected one resource, got " + all.size())));
        }
        return all.getFirst();
    }

    /** Validates a resource built in code, such as one a controller creates, by the same rules as parsed input. */
    public Resource validate(Resource resource) {
        var tree = Json.json().<ObjectNode>valueToTree(resource);
        var problems = new Problems();
        var checked = toResource(tree, resource.metadata().namespace(), problems);
        problems.throwIfAny();
        return checked.withMetadata(resource.metadata()).withStatus(resource.status());
    }

    private Resource toResource(JsonNode root, String defaultNamespace, Problems problems) {
        if (!root.isObject()) {
            problems.add("", "expected an object with apiVersion, kind, metadata and spec, got " + describe(root));
            return null;
        }
        var apiVersion = requiredText(root, "apiVersion", problems);
        var kindName = requiredText(root, "kind", problems);
        ResourceKind kind = null;
        if (kindName != null) {
            kind = kinds.findByKind(kindName).orElse(null);
            var elsewhere = LOCALLY_REFUSED.get(kindName);
            if (kind == null && elsewhere != null) {
                problems.add("kind", "kind " + kindName + " is not applied locally: " + elsewhere);
            } else if (kind == null) {
                problems.add("kind", "unknown kind '" + Names.printable(kindName) + "'; supported kinds: "
                        + String.join(", ", kinds.all().stream().map(ResourceKind::kind).sorted().toList()));
            } else if (apiVersion != null && !kind.accepts(apiVersion)) {
                problems.add("apiVersion", "kind " + kindName + " does not exist in apiVersion '" + Names.printable(apiVersion)
                        + "'; use " + kind.apiVersion());
            }
        }
        var metadata = metadata(root.get("metadata"), defaultNamespace, problems);
        var specNode = root.get("spec");
        if (specNode == null && kind != null && kind.hasTopLevelBody()) specNode = topLevelBody((ObjectNode) root);
        ObjectNode spec = null;
        if (specNode == null || specNode.isNull()) {
            spec = Json.json().createObjectNode();
        } else if (!specNode.isObject()) {
            problems.add("spec", "expected an object, got " + describe(specNode));
        } else {
            spec = (ObjectNode) specNode;
        }
        if (kind != null && spec != null && problems.isEmpty()) kind.validator().validate(spec, problems);
        if (!problems.isEmpty()) return null;
        return Resource.of(kind.apiVersion(), kind.kind(), metadata, spec);
    }

    /** Kubernetes core and RBAC kinds such as Secret and RoleBinding keep their body at the top level, not under {@code spec}. */
    private static ObjectNode topLevelBody(ObjectNode root) {
        var body = root.deepCopy();
        body.remove(List.of("apiVersion", "kind", "metadata", "status"));
        return body;
    }

    private static ObjectMeta metadata(JsonNode node, String defaultNamespace, Problems problems) {
        if (node == null || node.isNull()) {
            problems.add("metadata", "required: set metadata.name");
            return null;
        }
        if (!node.isObject()) {
            problems.add("metadata", "expected an object, got " + describe(node));
            return null;
        }
        var name = requiredText(node, "name", "metadata.name", problems);
        if (name != null) Names.checkSubdomain(name).ifPresent(m -> problems.add("metadata.name", m));
        String namespace = defaultNamespace;
        var ns = node.get("namespace");
        if (ns != null && !ns.isNull()) {
            if (!ns.isTextual()) problems.add("metadata.namespace", "expected a string, got " + describe(ns));
            else {
                namespace = ns.asText();
                Names.checkLabel(namespace).ifPresent(m -> problems.add("metadata.namespace", m));
            }
        }
        var labels = stringMap(node.get("labels"), "metadata.labels", problems);
        labels.forEach((k, v) -> {
            Names.checkLabelKey(k).ifPresent(m -> problems.add("metadata.labels." + k, m));
            Names.checkLabelValue(v).ifPresent(m -> problems.add("metadata.labels." + k, m));
        });
        var annotations = stringMap(node.get("annotations"), "metadata.annotations", problems);
        long annotationBytes = annotations.entrySet().stream().mapToLong(e -> e.getKey().length() + e.getValue().length()).sum();
        if (annotationBytes > MAX_ANNOTATION_BYTES) {
            problems.add("metadata.annotations", "annotations total " + annotationBytes + " bytes; the limit is " + MAX_ANNOTATION_BYTES);
        }
        annotations.keySet().forEach(k -> Names.checkLabelKey(k).ifPresent(m -> problems.add("metadata.annotations." + k, m)));
        if (name == null || !problems.isEmpty()) return null;
        return new ObjectMeta(name, namespace, "", labels, annotations, null, 0, "", List.of());
    }

    private static Map<String, String> stringMap(JsonNode node, String path, Problems problems) {
        var out = new LinkedHashMap<String, String>();
        if (node == null || node.isNull()) return out;
        if (!node.isObject()) {
            problems.add(path, "expected a map of strings, got " + describe(node));
            return out;
        }
        node.properties().forEach(e -> {
            if (!e.getValue().isValueNode() || e.getValue().isNull()) {
                problems.add(path + "." + e.getKey(), "expected a string, got " + describe(e.getValue()));
            } else {
                out.put(e.getKey(), e.getValue().asText());
            }
        });
        return out;
    }

    private static String requiredText(JsonNode node, String field, Problems problems) {
        return requiredText(node, field, field, problems);
    }

    private static String requiredText(JsonNode node, String field, String path, Problems problems) {
        var value = node.get(field);
        if (value == null || value.isNull()) {
            problems.add(path, "required: set " + path);
            return null;
        }
        if (!value.isTextual()) {
            problems.add(path, "expected a string, got " + describe(value));
            return null;
        }
        if (value.asText().isBlank()) {
            problems.add(path, "must not be empty");
            return null;
        }
        return value.asText();
    }

    /** Describes the JSON type of {@code node} for error messages: "a number", "a list", ... */
    public static String describe(JsonNode node) {
        return SpecFields.describe(node);
    }
}
