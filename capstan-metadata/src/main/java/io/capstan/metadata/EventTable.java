package io.capstan.metadata;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.ConflictException;
import io.capstan.core.Json;
import io.capstan.core.NotFoundException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.Query;

/** Rows of md_event. Every method runs inside the caller's transaction. */
final class EventTable {
    private EventTable() {
    }

    /** Fails with {@link NotFoundException} naming every artifact or execution the events reference but lack. */
    static void requireEndpoints(Handle h, Collection<Event> events) {
        var artifacts = NodeTable.missing(h, "md_artifact", events.stream().map(Event::artifactId).distinct().toList());
        var executions = NodeTable.missing(h, "md_execution", events.stream().map(Event::executionId).distinct().toList());
        if (artifacts.isEmpty() && executions.isEmpty()) return;
        var parts = new ArrayList<String>();
        if (!artifacts.isEmpty()) parts.add("artifacts " + artifacts);
        if (!executions.isEmpty()) parts.add("executions " + executions);
        throw new NotFoundException("events reference " + String.join(" and ", parts)
                + ", which do not exist; put them before their events");
    }

    static boolean exists(Handle h, Event e) {
        return h.createQuery("""
                        SELECT COUNT(*) FROM md_event
                        WHERE artifact_id = :artifact AND type = :type AND execution_id = :execution""")
                .bind("artifact", e.artifactId()).bind("type", e.type().name()).bind("execution", e.executionId())
                .mapTo(Long.class).one() > 0;
    }

    /** Inserts one event; a duplicate (artifact, execution, type) is a conflict. Returns it with its time set. */
    static Event insert(Handle h, Event e, Instant now) {
        Instant time = e.time().equals(Instant.EPOCH) ? now : e.time();
        if (exists(h, e)) throw conflict(e);
        SqlErrors.unique(() -> h.createUpdate("""
                        INSERT INTO md_event (artifact_id, execution_id, type, path, event_time)
                        VALUES (:artifact, :execution, :type, :path, :time)""")
                .bind("artifact", e.artifactId()).bind("execution", e.executionId()).bind("type", e.type().name())
                .bind("path", pathJson(e.path())).bind("time", NodeTable.time(time))
                .execute(), () -> conflict(e).getMessage());
        return new Event(e.artifactId(), e.executionId(), e.type(), e.path(), time);
    }

    static List<Event> events(Handle h, String where, Consumer<Query> binder) {
        var query = h.createQuery("""
                        SELECT artifact_id, execution_id, type, path, event_time FROM md_event
                        WHERE <where> ORDER BY id""")
                .define("where", where);
        binder.accept(query);
        return query.map((rs, ctx) -> new Event(rs.getLong("artifact_id"), rs.getLong("execution_id"),
                        EventType.valueOf(rs.getString("type")), path(rs.getString("path")),
                        NodeTable.instant(rs, "event_time")))
                .list();
    }

    /** Events whose artifact and execution are both among the given ids. */
    static List<Event> between(Handle h, Collection<Long> artifactIds, Collection<Long> executionIds) {
        if (artifactIds.isEmpty() || executionIds.isEmpty()) return List.of();
        return events(h, """
                        artifact_id IN (SELECT CAST(a.id AS BIGINT) FROM UNNEST(:artifacts) AS a(id))
                        AND execution_id IN (SELECT CAST(x.id AS BIGINT) FROM UNNEST(:executions) AS x(id))""",
                q -> q.bindArray("artifacts", Long.class, artifactIds).bindArray("executions", Long.class, executionIds));
    }

    static String pathJson(List<PathStep> path) {
        var steps = new ArrayList<Map<String, Object>>();
        for (var step : path) {
            var json = new LinkedHashMap<String, Object>();
            switch (step) {
                case PathStep.Index i -> json.put("index", i.index());
                case PathStep.Key k -> json.put("key", k.key());
            }
            steps.add(json);
        }
        try {
            return Json.json().writeValueAsString(steps);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<PathStep> path(String json) {
        JsonNode tree;
        try {
            tree = Json.json().readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("md_event.path holds invalid JSON: " + json, e);
        }
        var steps = new ArrayList<PathStep>();
        for (var step : tree) {
            steps.add(step.has("index") ? PathStep.index(step.get("index").asLong()) : PathStep.key(step.get("key").asText()));
        }
        return steps;
    }

    private static ConflictException conflict(Event e) {
        return new ConflictException("event %s of artifact %d by execution %d already exists; each (artifact, execution, type) is recorded once"
                .formatted(e.type(), e.artifactId(), e.executionId()));
    }
}
