package io.capstan.training;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Resource;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Text for {@code capstan get trainjobs} (and pytorchjobs, xgboostjobs): one row per job with its state, ranks per
 * replica type, restarts and age; and a one-line summary for {@code capstan train --watch}.
 */
public final class TrainingTable {
    private static final List<String> HEADER = List.of("NAME", "KIND", "STATE", "REPLICAS", "RESTARTS", "AGE", "MESSAGE");
    private static final int MAX_MESSAGE = 80;

    private TrainingTable() {
    }

    public static String render(List<Resource> jobs, Instant now) {
        Objects.requireNonNull(jobs, "jobs");
        var rows = new ArrayList<List<String>>();
        rows.add(HEADER);
        for (var job : jobs) rows.add(row(job, now));
        var widths = new int[HEADER.size()];
        for (var row : rows) for (int i = 0; i < row.size(); i++) widths[i] = Math.max(widths[i], row.get(i).length());
        var out = new StringBuilder();
        for (var row : rows) {
            var line = new StringBuilder();
            for (int i = 0; i < row.size(); i++) {
                line.append(row.get(i));
                if (i < row.size() - 1) line.append(" ".repeat(widths[i] - row.get(i).length() + 3));
            }
            out.append(line.toString().stripTrailing()).append('\n');
        }
        return out.toString();
    }

    /** {@code pytorch-ddp  Running  Master 1/0/0 Worker 3/0/0  restarts 0}: for a watch loop. */
    public static String summary(Resource job) {
        return job.metadata().name() + "  " + state(job) + "  " + replicas(job) + "  restarts " + restarts(job)
                + (message(job).isEmpty() ? "" : "  " + message(job));
    }

    static List<String> row(Resource job, Instant now) {
        var created = job.metadata().created().orElse(now);
        return List.of(job.metadata().name(), job.kind(), state(job), replicas(job), String.valueOf(restarts(job)),
                age(Duration.between(created, now)), message(job));
    }

    static String state(Resource job) {
        var phase = job.status().phase();
        return phase.isEmpty() ? "Created" : phase;
    }

    /** Per replica type {@code active/succeeded/failed}, as Kubeflow's replicaStatuses counts them. */
    static String replicas(Resource job) {
        var statuses = job.status().field("replicaStatuses");
        if (statuses.isEmpty() || !statuses.get().isObject() || statuses.get().isEmpty()) return "-";
        var parts = new ArrayList<String>();
        statuses.get().properties().forEach(e -> parts.add(e.getKey() + " " + count(e.getValue(), "active") + "/"
                + count(e.getValue(), "succeeded") + "/" + count(e.getValue(), "failed")));
        return String.join(" ", parts);
    }

    private static int count(JsonNode counts, String field) {
        return counts.path(field).asInt(0);
    }

    static int restarts(Resource job) {
        return job.status().field("restarts").map(JsonNode::asInt).orElse(0);
    }

    /** The message of the condition that explains the state: Failed, else a waiting Running, else nothing. */
    static String message(Resource job) {
        var s = job.status();
        var text = s.condition("Failed").filter(c -> c.status() == io.capstan.core.Condition.Status.True).map(c -> c.reason() + ": " + c.message())
                .or(() -> s.condition("Running").filter(c -> c.status() == io.capstan.core.Condition.Status.False
                        && (c.reason().equals("Unschedulable") || c.reason().equals("WaitingForResources"))).map(c -> c.reason() + ": " + c.message()))
                .orElse("");
        text = text.replace('\n', ' ');
        return text.length() > MAX_MESSAGE ? text.substring(0, MAX_MESSAGE - 3) + "..." : text;
    }

    static String age(Duration d) {
        if (d.isNegative()) d = Duration.ZERO;
        if (d.toDays() > 0) return d.toDays() + "d";
        if (d.toHours() > 0) return d.toHours() + "h";
        if (d.toMinutes() > 0) return d.toMinutes() + "m";
        return d.toSeconds() + "s";
    }
}
