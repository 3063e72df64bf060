package io.capstan.core;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Kubernetes-style object metadata. Server-assigned fields ({@code uid}, {@code creationTimestamp},
 * {@code generation}, {@code resourceVersion}) are empty strings, zero or absent until the store sets them.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record ObjectMeta(
        String name,
        String namespace,
        String uid,
        Map<String, String> labels,
        Map<String, String> annotations,
        Instant creationTimestamp,
        long generation,
        String resourceVersion,
        List<OwnerReference> ownerReferences) {

    public static final String DEFAULT_NAMESPACE = "default";

    public ObjectMeta {
        Objects.requireNonNull(name, "name");
        namespace = namespace == null || namespace.isEmpty() ? DEFAULT_NAMESPACE : namespace;
        uid = uid == null ? "" : uid;
        labels = labels == null ? Map.of() : Map.copyOf(labels);
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
        resourceVersion = resourceVersion == null ? "" : resourceVersion;
        ownerReferences = ownerReferences == null ? List.of() : List.copyOf(ownerReferences);
    }

    public static ObjectMeta named(String namespace, String name) {
        return new ObjectMeta(name, namespace, "", Map.of(), Map.of(), null, 0, "", List.of());
    }

    public Optional<Instant> created() {
        return Optional.ofNullable(creationTimestamp);
    }

    public ObjectMeta withLabels(Map<String, String> newLabels) {
        return new ObjectMeta(name, namespace, uid, newLabels, annotations, creationTimestamp, generation, resourceVersion, ownerReferences);
    }

    public ObjectMeta withAnnotations(Map<String, String> newAnnotations) {
        return new ObjectMeta(name, namespace, uid, labels, newAnnotations, creationTimestamp, generation, resourceVersion, ownerReferences);
    }

    public ObjectMeta withResourceVersion(String version) {
        return new ObjectMeta(name, namespace, uid, labels, annotations, creationTimestamp, generation, version, ownerReferences);
    }

    public ObjectMeta withOwnerReferences(List<OwnerReference> owners) {
        return new ObjectMeta(name, namespace, uid, labels, annotations, creationTimestamp, generation, resourceVersion, owners);
    }

    /** Used by the store only: stamps the server-assigned fields. */
    public ObjectMeta stamped(String newUid, Instant created, long newGeneration, String version) {
        return new ObjectMeta(name, namespace, newUid, labels, annotations, created, newGeneration, version, ownerReferences);
    }

    /** The owning resource, as in Kubernetes; a controller that created this object names itself here. */
    public record OwnerReference(String apiVersion, String kind, String name, String uid, boolean controller) {
        public OwnerReference {
            Objects.requireNonNull(apiVersion, "apiVersion");
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(name, "name");
            uid = uid == null ? "" : uid;
        }
    }
}
