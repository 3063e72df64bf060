package io.capstan.core;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Objects;

/**
 * A resource in the Kubernetes envelope. The spec is kept as a JSON tree so that fields Capstan does not model
 * survive a round trip; engines bind it to their own spec records.
 */
@JsonPropertyOrder({"apiVersion", "kind", "metadata", "spec", "status"})
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Resource(String apiVersion, String kind, ObjectMeta metadata, ObjectNode spec, ResourceStatus status) {
    public Resource {
        Objects.requireNonNull(apiVersion, "apiVersion");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(metadata, "metadata");
        spec = spec == null ? JsonNodeFactory.instance.objectNode() : spec.deepCopy();
        status = status == null ? ResourceStatus.EMPTY : status;
    }

    public static Resource of(String apiVersion, String kind, ObjectMeta metadata, ObjectNode spec) {
        return new Resource(apiVersion, kind, metadata, spec, ResourceStatus.EMPTY);
    }

    public ResourceKey key() {
        return new ResourceKey(kind, metadata.namespace(), metadata.name());
    }

    /** The spec as a fresh mutable copy; the record's own copy is never handed out for mutation. */
    @Override
    public ObjectNode spec() {
        return spec.deepCopy();
    }

    public Resource withMetadata(ObjectMeta newMetadata) {
        return new Resource(apiVersion, kind, newMetadata, spec, status);
    }

    public Resource withSpec(ObjectNode newSpec) {
        return new Resource(apiVersion, kind, metadata, newSpec, status);
    }

    public Resource withStatus(ResourceStatus newStatus) {
        return new Resource(apiVersion, kind, metadata, spec, newStatus);
    }
}
