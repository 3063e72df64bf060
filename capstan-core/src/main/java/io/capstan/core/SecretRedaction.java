package io.capstan.core;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.function.UnaryOperator;

/**
 * What of a Secret a reader may see. Listings and watches never carry values: each value under {@code data} and
 * {@code stringData} is replaced by {@value #REDACTED}, keys kept. A read of one Secret carries its values when the
 * caller may edit it. This is the one place that decides; tenancy passes the caller's role to {@link #forCaller}.
 */
public final class SecretRedaction {
    public static final String REDACTED = "<redacted>";

    private SecretRedaction() {
    }

    /**
     * What a GET of one resource shows a caller: everything when {@code mayEdit}, else the Secret redacted. Until
     * roles exist every caller may edit.
     */
    public static UnaryOperator<Resource> forCaller(boolean mayEdit) {
        return mayEdit ? UnaryOperator.identity() : SecretRedaction::redact;
    }

    /** The resource as a list or watch shows it: a Secret without its values; any other kind unchanged. */
    public static Resource redact(Resource resource) {
        if (!resource.kind().equals(CoreKinds.SECRET)) return resource;
        var spec = resource.spec();
        for (var field : SecretSealer.FIELDS) {
            if (spec.get(field) instanceof ObjectNode values) values.properties().forEach(e -> e.setValue(values.textNode(REDACTED)));
        }
        return resource.withSpec(spec);
    }
}
