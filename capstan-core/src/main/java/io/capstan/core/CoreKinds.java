package io.capstan.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Kubernetes' core {@code v1 Secret} and {@code ConfigMap}, so that pipelines can read them as kfp-kubernetes steps
 * do. As in Kubernetes their body ({@code data}, {@code stringData}, {@code binaryData}, {@code type}) sits at the
 * top level of the document; {@link ResourceParser} keeps it as the resource's spec. A Secret's {@code data} is
 * base64, as in Kubernetes; the server stores its values encrypted ({@link SecretSealer}).
 */
public final class CoreKinds {
    public static final String SECRET = "Secret";
    public static final String CONFIG_MAP = "ConfigMap";
    public static final String SERVICE_ACCOUNT = "ServiceAccount";
    private static final java.util.regex.Pattern WHITESPACE = java.util.regex.Pattern.compile("\\s+");
    private static final java.util.regex.Pattern CONFIG_KEY = java.util.regex.Pattern.compile("[-._a-zA-Z0-9]{1,253}");
    public static final ResourceKind SECRET_KIND = new ResourceKind("", List.of("v1"), SECRET, "secrets", List.of("secret"),
            (spec, problems) -> {
                base64Map(spec, "data", problems);
                stringMap(spec, "stringData", problems);
                text(spec, "type", problems);
            });
    public static final ResourceKind CONFIG_MAP_KIND = new ResourceKind("", List.of("v1"), CONFIG_MAP, "configmaps", List.of("cm"),
            (spec, problems) -> {
                stringMap(spec, "data", problems);
                base64Map(spec, "binaryData", problems);
            });

    /** A ServiceAccount only lists {@code secrets}: an InferenceService finds its storage credentials there, as in KServe. */
    public static final ResourceKind SERVICE_ACCOUNT_KIND = new ResourceKind("", List.of("v1"), SERVICE_ACCOUNT, "serviceaccounts", List.of("sa"),
            (spec, problems) -> {
                var secrets = spec.get("secrets");
                if (secrets == null || secrets.isNull()) return;
                if (!secrets.isArray()) {
                    problems.add("secrets", "expected a list of {name}, got " + ResourceParser.describe(secrets));
                    return;
                }
                for (int i = 0; i < secrets.size(); i++) {
                    if (!secrets.get(i).path("name").isTextual() || secrets.get(i).path("name").asText().isEmpty()) {
                        problems.add("secrets[" + i + "].name", "required: the name of a Secret in the same namespace");
                    }
                }
            });

    private CoreKinds() {
    }

    public static List<ResourceKind> all() {
        return List.of(SECRET_KIND, CONFIG_MAP_KIND, SERVICE_ACCOUNT_KIND);
    }

    /**
     * The key-value pairs of a stored Secret or ConfigMap, decoded: {@code data} (base64 for a Secret, text for a
     * ConfigMap), {@code binaryData} (base64) and a Secret's {@code stringData}, which wins as in Kubernetes.
     */
    public static Map<String, byte[]> entries(Resource resource) {
        var spec = resource.spec();
        var out = new LinkedHashMap<String, byte[]>();
        boolean secret = resource.kind().equals(SECRET);
        spec.path("data").properties().forEach(e -> out.put(e.getKey(), secret ? decode(e.getValue().asText())
                : e.getValue().asText().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        spec.path("binaryData").properties().forEach(e -> out.put(e.getKey(), decode(e.getValue().asText())));
        if (secret) {
            spec.path("stringData").properties().forEach(e ->
                    out.put(e.getKey(), e.getValue().asText().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        }
        return out;
    }

    /** Standard base64; line breaks and spaces, which YAML block scalars bring, are ignored. */
    private static byte[] decode(String base64) {
        return Base64.getDecoder().decode(WHITESPACE.matcher(base64).replaceAll(""));
    }

    private static Optional<ObjectNode> map(ObjectNode spec, String field, Problems problems) {
        var node = spec.get(field);
        if (node == null || node.isNull()) return Optional.empty();
        if (!node.isObject()) {
            problems.add(field, "expected a map of strings, got " + ResourceParser.describe(node));
            return Optional.empty();
        }
        node.properties().forEach(e -> {
            if (!CONFIG_KEY.matcher(e.getKey()).matches()) {
                problems.add(field + "." + Names.printable(e.getKey()), "a key must be 1 to 253 letters, digits, '-', '_' or '.'");
            }
            if (!e.getValue().isTextual()) {
                problems.add(field + "." + e.getKey(), "expected a string, got " + ResourceParser.describe(e.getValue()));
            }
        });
        return Optional.of((ObjectNode) node);
    }

    private static void stringMap(ObjectNode spec, String field, Problems problems) {
        map(spec, field, problems);
    }

    private static void base64Map(ObjectNode spec, String field, Problems problems) {
        map(spec, field, problems).ifPresent(m -> m.properties().forEach(e -> {
            JsonNode v = e.getValue();
            if (!v.isTextual()) return;
            try {
                decode(v.asText());
            } catch (IllegalArgumentException ex) {
                problems.add(field + "." + e.getKey(), "is not base64 (" + ex.getMessage() + "); encode the value, e.g. with `base64`, "
                        + (field.equals("data") ? "or give it as plain text under stringData" : "or give it as text under data"));
            }
        }));
    }

    private static void text(ObjectNode spec, String field, Problems problems) {
        var node = spec.get(field);
        if (node != null && !node.isNull() && !node.isTextual()) {
            problems.add(field, "expected a string, got " + ResourceParser.describe(node));
        }
    }
}
