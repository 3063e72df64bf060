package io.capstan.cli;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The columns {@code capstan get} shows for a type: NAMESPACE (across namespaces), NAME, PHASE, EXIT for jobs,
 * AGE, and with {@code -o wide} some more.
 */
final class ResourceTable {
    static final String NONE = "<none>";

    private final ResourceType type;
    private final boolean acrossNamespaces;
    private final boolean wide;

    private ResourceTable(ResourceType type, boolean acrossNamespaces, boolean wide) {
        this.type = Objects.requireNonNull(type, "type");
        this.acrossNamespaces = acrossNamespaces;
        this.wide = wide;
    }

    /** The layout for one namespace, or for all of them when {@code scope} is {@link Scope#ALL_NAMESPACES}. */
    static ResourceTable of(ResourceType type, Scope scope, OutputFormat format) {
        return new ResourceTable(type, scope == Scope.ALL_NAMESPACES, format == OutputFormat.WIDE);
    }

    enum Scope { ONE_NAMESPACE, ALL_NAMESPACES }

    List<String> headers() {
        var h = new ArrayList<String>();
        if (acrossNamespaces) h.add("NAMESPACE");
        h.add("NAME");
        h.add("PHASE");
        if (type.isJob()) h.add("EXIT");
        h.add("AGE");
        if (wide) {
            if (type.isJob()) {
                h.add("ATTEMPTS");
                h.add("DURATION");
                h.add("COMMAND");
            } else {
                h.add("MESSAGE");
            }
        }
        return h;
    }

    List<String> row(JsonNode resource, Instant now) {
        var metadata = resource.path("metadata");
        var status = resource.path("status");
        var r = new ArrayList<String>();
        if (acrossNamespaces) r.add(text(metadata.path("namespace")));
        r.add(text(metadata.path("name")));
        r.add(text(status.path("phase")));
        if (type.isJob()) r.add(text(status.path("exitCode")));
        r.add(Age.since(metadata.path("creationTimestamp").asText(""), now));
        if (wide) {
            if (type.isJob()) {
                r.add(text(status.path("attempts")));
                r.add(duration(status, now));
                r.add(command(resource.path("spec").path("command")));
            } else {
                r.add(message(status));
            }
        }
        return r;
    }

    Table table(List<JsonNode> resources, Instant now) {
        var table = new Table(headers());
        for (var resource : resources) table.add(row(resource, now));
        return table;
    }

    private static String text(JsonNode node) {
        if (node.isMissingNode() || node.isNull()) return NONE;
        var s = node.asText("");
        return s.isEmpty() ? NONE : s;
    }

    private static String duration(JsonNode status, Instant now) {
        var start = Age.instant(status.path("startTime").asText(""));
        if (start.isEmpty()) return NONE;
        var end = Age.instant(status.path("completionTime").asText("")).orElse(now);
        return Age.format(Duration.between(start.get(), end));
    }

    private static String command(JsonNode command) {
        if (!command.isArray() || command.isEmpty()) return NONE;
        var parts = new ArrayList<String>();
        command.forEach(c -> parts.add(c.asText()));
        var joined = String.join(" ", parts);
        return joined.length() > 60 ? joined.substring(0, 57) + "..." : joined;
    }

    private static String message(JsonNode status) {
        var m = status.path("message").asText("");
        if (!m.isEmpty()) return m;
        for (var c : status.path("conditions")) {
            var cm = c.path("message").asText("");
            if (!cm.isEmpty()) return cm;
        }
        return NONE;
    }
}
