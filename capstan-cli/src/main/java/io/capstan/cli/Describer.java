package io.capstan.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The human view {@code capstan describe} prints: metadata, the spec as YAML, the status and the conditions. */
final class Describer {
    /** Values start after the longest usual label, "  Observed Generation:". */
    private static final int LABEL_WIDTH = 22;
    private static final String NL = System.lineSeparator();

    private Describer() {
    }

    static String describe(JsonNode resource, Instant now) {
        var sb = new StringBuilder();
        var metadata = resource.path("metadata");
        field(sb, "", "Name", metadata.path("name").asText(""));
        field(sb, "", "Namespace", metadata.path("namespace").asText(""));
        field(sb, "", "Kind", resource.path("kind").asText(""));
        field(sb, "", "API Version", resource.path("apiVersion").asText(""));
        field(sb, "", "UID", metadata.path("uid").asText(""));
        map(sb, "Labels", metadata.path("labels"));
        map(sb, "Annotations", metadata.path("annotations"));
        var created = metadata.path("creationTimestamp").asText("");
        field(sb, "", "Created", created.isEmpty() ? "" : created + " (" + Age.since(created, now) + " ago)");
        field(sb, "", "Generation", metadata.path("generation").asText(""));
        field(sb, "", "Resource Version", metadata.path("resourceVersion").asText(""));

        sb.append("Spec:").append(NL);
        var spec = resource.path("spec");
        block(sb, resource.path("kind").asText("").equals("Secret") && spec.isObject() ? sizesOnly((ObjectNode) spec) : spec);

        var status = resource.path("status");
        sb.append("Status:").append(NL);
        if (!status.isObject() || status.isEmpty()) {
            sb.append("  ").append(ResourceTable.NONE).append(NL);
        } else {
            for (Map.Entry<String, JsonNode> e : status.properties()) {
                if (e.getKey().equals("conditions")) continue;
                var value = e.getValue();
                if (value.isValueNode()) {
                    field(sb, "  ", words(e.getKey()), value.asText(""));
                } else {
                    sb.append("  ").append(words(e.getKey())).append(':').append(NL);
                    indent(sb, Printer.yaml(value), "    ");
                }
            }
        }

        sb.append("Conditions:").append(NL);
        var conditions = status.path("conditions");
        if (!conditions.isArray() || conditions.isEmpty()) {
            sb.append("  ").append(ResourceTable.NONE).append(NL);
        } else {
            var table = new Table(List.of("TYPE", "STATUS", "REASON", "LAST TRANSITION", "MESSAGE"));
            for (var c : conditions) {
                var since = c.path("lastTransitionTime").asText("");
                table.add(List.of(orNone(c.path("type")), orNone(c.path("status")), orNone(c.path("reason")),
                        since.isEmpty() ? ResourceTable.NONE : Age.since(since, now) + " ago", orNone(c.path("message"))));
            }
            indent(sb, table.render(), "  ");
        }
        return sb.toString();
    }

    /** As kubectl describes a Secret: each key with the size of its value, never the value. */
    private static ObjectNode sizesOnly(ObjectNode spec) {
        var copy = spec.deepCopy();
        for (var field : List.of("data", "stringData")) {
            if (!(copy.get(field) instanceof ObjectNode values)) continue;
            values.properties().forEach(e -> {
                var text = e.getValue().asText("");
                int bytes;
                if (field.equals("data")) {
                    try {
                        bytes = java.util.Base64.getMimeDecoder().decode(text).length;
                    } catch (IllegalArgumentException ex) {
                        bytes = text.length();
                    }
                } else {
                    bytes = text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
                }
                e.setValue(values.textNode(text.equals(io.capstan.core.SecretRedaction.REDACTED) ? text : bytes + " bytes"));
            });
        }
        return copy;
    }

    private static void field(StringBuilder sb, String indent, String label, String value) {
        var head = indent + label + ":";
        sb.append(head).append(" ".repeat(Math.max(1, LABEL_WIDTH - head.length() + 2)))
                .append(value.isEmpty() ? ResourceTable.NONE : value.replace('\n', ' ')).append(NL);
    }

    private static void map(StringBuilder sb, String label, JsonNode map) {
        var entries = new ArrayList<String>();
        if (map.isObject()) map.properties().forEach(e -> entries.add(e.getKey() + "=" + e.getValue().asText()));
        if (entries.isEmpty()) {
            field(sb, "", label, "");
            return;
        }
        field(sb, "", label, entries.getFirst());
        var pad = " ".repeat(LABEL_WIDTH + 2);
        for (var entry : entries.subList(1, entries.size())) sb.append(pad).append(entry).append(NL);
    }

    private static void block(StringBuilder sb, JsonNode node) {
        if (node.isMissingNode() || node.isNull() || (node.isContainerNode() && node.isEmpty())) {
            sb.append("  ").append(ResourceTable.NONE).append(NL);
        } else {
            indent(sb, Printer.yaml(node), "  ");
        }
    }

    private static void indent(StringBuilder sb, String text, String indent) {
        text.lines().forEach(line -> sb.append(indent).append(line).append(NL));
    }

    private static String orNone(JsonNode node) {
        var s = node.asText("");
        return s.isEmpty() ? ResourceTable.NONE : s;
    }

    /** {@code observedGeneration} becomes {@code Observed Generation}, as kubectl describe labels fields. */
    static String words(String camel) {
        var sb = new StringBuilder();
        for (int i = 0; i < camel.length(); i++) {
            char c = camel.charAt(i);
            if (i == 0) sb.append(Character.toUpperCase(c));
            else if (Character.isUpperCase(c) && !Character.isUpperCase(camel.charAt(i - 1))) sb.append(' ').append(c);
            else sb.append(c);
        }
        return sb.toString();
    }
}
