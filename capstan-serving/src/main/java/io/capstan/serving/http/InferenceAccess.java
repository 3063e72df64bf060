package io.capstan.serving.http;

import io.capstan.serving.api.InferenceEndpoint;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Which inference requests may come without a token. Inference needs a token unless the InferenceService opted out
 * with {@value #ENABLE_AUTH_ANNOTATION}{@code : "false"} (named after KServe's {@code serving.kserve.io/enable-auth},
 * whose default is the other way round). Only the model's own routes open up: its inference, metadata and
 * readiness under {@code /v2/models/{name}}, {@code /v1/models/{name}} and {@code /serving/{namespace}/...}; the
 * server-wide routes ({@code /v2}, {@code /v2/health/*}, {@code /v1/models}) and InferenceGraphs still need one.
 */
public final class InferenceAccess {
    public static final String ENABLE_AUTH_ANNOTATION = "serving.capstan.io/enable-auth";

    /** A model a path addresses. */
    public record ModelRef(String namespace, String name) {
    }

    private final InferenceEndpoint endpoint;

    public InferenceAccess(InferenceEndpoint endpoint) {
        this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
    }

    /** Whether the annotations opt an InferenceService out of authentication: exactly "false", in any case. */
    public static boolean optsOut(Map<String, String> annotations) {
        var v = annotations.get(ENABLE_AUTH_ANNOTATION);
        return v != null && v.strip().toLowerCase(Locale.ROOT).equals("false");
    }

    /** Whether a request without a token may go to {@code path}: a model route of a model that opted out. */
    public boolean allowsAnonymous(String path) {
        return modelOf(path).filter(m -> endpoint.allowsAnonymous(m.namespace(), m.name())).isPresent();
    }

    /** The model a model route of the OIP v2 or V1 protocol addresses; empty for any other path. */
    public static Optional<ModelRef> modelOf(String path) {
        var namespace = InferenceEndpoint.DEFAULT_NAMESPACE;
        var rest = path;
        if (rest.startsWith("/serving/")) {
            int slash = rest.indexOf('/', "/serving/".length());
            if (slash < 0) return Optional.empty();
            namespace = rest.substring("/serving/".length(), slash);
            rest = rest.substring(slash);
        }
        if (namespace.isEmpty()) return Optional.empty();
        if (rest.startsWith("/v2/models/")) {
            var parts = rest.substring("/v2/models/".length()).split("/", -1);
            boolean known = switch (parts.length) {
                case 1 -> true;
                case 2 -> parts[1].equals("ready") || parts[1].equals("infer");
                case 3 -> parts[1].equals("versions") && !parts[2].isEmpty();
                case 4 -> parts[1].equals("versions") && !parts[2].isEmpty() && (parts[3].equals("ready") || parts[3].equals("infer"));
                default -> false;
            };
            return known && !parts[0].isEmpty() ? Optional.of(new ModelRef(namespace, parts[0])) : Optional.empty();
        }
        if (rest.startsWith("/v1/models/")) {
            var name = rest.substring("/v1/models/".length());
            if (name.endsWith(":predict")) name = name.substring(0, name.length() - ":predict".length());
            return name.isEmpty() || name.contains("/") || name.contains(":") ? Optional.empty() : Optional.of(new ModelRef(namespace, name));
        }
        return Optional.empty();
    }

    /** Whether {@code path} is an inference route of any kind (model, server-wide or graph), which takes JSON. */
    public static boolean isInferencePath(String path) {
        return path.equals("/v2") || path.startsWith("/v2/") || path.startsWith("/v1/models") || path.startsWith("/serving/");
    }
}
