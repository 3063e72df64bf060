package io.capstan.pipelines;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

/**
 * The optional second document of a compiled pipeline: per-platform settings such as Kubernetes volumes, node
 * selectors and secrets. Capstan keeps it whole for the Kubernetes backend; locally its fields are reported as
 * {@link PipelineWarning}s.
 *
 * @param raw the document as written, or an empty object when the pipeline has none
 */
public record PlatformSpec(JsonNode raw) {
    public static final PlatformSpec NONE = new PlatformSpec(JsonNodeFactory.instance.objectNode());

    public PlatformSpec {
        raw = raw.deepCopy();
    }

    public boolean isEmpty() {
        return raw.isEmpty();
    }
}
