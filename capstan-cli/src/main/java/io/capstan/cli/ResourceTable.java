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

    /** A column some kinds add after PHASE. */
    private record Column(String header, java.util.function.Function<JsonNode, String> value) {
    }

    /** InferenceServices show their URL, readiness, revisions and traffic split; training jobs their replicas. */
    private List<Column> kindColumns() {
        if (type.kind().equals("InferenceService")) {
            return List.of(
                    new Column("URL", r -> text(r.path("status").path("components").path("predictor").path("url"))),
                    new Column("READY", r -> condition(r.path("status"), "Ready")),
                    new Column("REVISION", r -> revisions(r.path("status").path("components").path("predictor"))),
                    new Column("TRAFFIC", r -> traffic(r.path("status").path("components").path("predictor").path("traffic"))));
        }
        if (type.kind().equals("Experiment") && type.group().equals("kubeflow.org")) {
            return List.of(
                    new Column("TRIALS", r -> text(r.path("status").path("trials"))),
                    new Column("SUCCEEDED", r -> text(r.path("status").path("trialsSucceeded"))),
                    new Column("BEST", r -> text(r.path("status").path("currentOptimalTrial").path("bestTrialName"))));
        }
        if (LogsCommand.TRAINING_PLURALS.contains(type.plural())) {
            return List.of(new Column("REPLICAS", r -> replicas(r.path("status").path("replicaStatuses"))),
                    new Column("RESTARTS", r -> text(r.path("status").path("restarts"))));
        }
        return List.of();
    }

    List<String> headers() {
        var h = new ArrayList<String>();
        if (acrossNamespaces) h.add("NAMESPACE");
        h.add("NAME");
        h.add("PHASE");
        if (type.isJob()) h.add("EXIT");
        kindColumns().forEach(c -> h.add(c.header()));
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
        kindColumns().forEach(c -> r.add(c.value().apply(resource)));
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

    private static String condition(JsonNode status, String type) {
        for (var c : status.path("conditions")) {
            if (c.path("type").asText("").equals(type)) return c.path("status").asText(NONE);
        }
        return NONE;
    }

    /** {@code 2/3}: the latest ready revision's number over the latest created one's. */
    private static String revisions(JsonNode predictor) {
        var created = revisionNumber(predictor.path("latestCreatedRevision").asText(""));
        if (created.isEmpty()) return NONE;
        return revisionNumber(predictor.path("latestReadyRevision").asText("")).orElse("-") + "/" + created.get();
    }

    private static java.util.Optional<String> revisionNumber(String revisionName) {
        int dash = revisionName.lastIndexOf('-');
        return revisionName.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(dash < 0 ? revisionName : revisionName.substring(dash + 1));
    }

    /** {@code 00002=90%,00001=10%}. */
    private static String traffic(JsonNode traffic) {
        if (!traffic.isArray() || traffic.isEmpty()) return NONE;
        var parts = new ArrayList<String>();
        traffic.forEach(t -> parts.add(revisionNumber(t.path("revisionName").asText("")).orElse("?") + "=" + t.path("percent").asInt() + "%"));
        return String.join(",", parts);
    }

    /** {@code Master 0/1/0 Worker 0/2/0}: active/succeeded/failed per replica type. */
    private static String replicas(JsonNode statuses) {
        if (!statuses.isObject() || statuses.isEmpty()) return NONE;
        var parts = new ArrayList<String>();
        statuses.properties().forEach(e -> parts.add(e.getKey() + " " + e.getValue().path("active").asInt(0) + "/"
                + e.getValue().path("succeeded").asInt(0) + "/" + e.getValue().path("failed").asInt(0)));
        return String.join(" ", parts);
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
