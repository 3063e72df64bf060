package io.capstan.metadata;

import io.capstan.core.ConflictException;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.NotFoundException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.Query;

/**
 * Rows of md_artifact, md_execution and md_context with their properties. Every method runs inside the caller's
 * transaction. Queries take a constant SQL fragment (never a value) for their filter, and bind the values.
 */
final class NodeTable {
    private static final String ALL = "TRUE";

    private NodeTable() {
    }

    // ---- artifacts

    static Artifact put(Handle h, Artifact a, Instant now) {
        var type = TypeTable.require(h, NodeKind.ARTIFACT, a.type());
        String node = a.isStored() ? "artifact " + a.id() : "new artifact of type '" + a.type() + "' at '" + a.uri() + "'";
        PropertyTable.validate(node, type, a.properties());
        requireFreeName(h, "md_artifact", type, a.name(), a.id());
        Instant created = now;
        long id = a.id();
        if (a.isStored()) {
            created = requireSameType(h, "md_artifact", NodeKind.ARTIFACT, id, type);
            SqlErrors.unique(() -> h.createUpdate("""
                            UPDATE md_artifact SET uri = :uri, name = :name, state = :state, external_id = :externalId,
                                   update_time = :now WHERE id = :id""")
                    .bind("id", a.id()).bind("uri", a.uri()).bind("name", orNull(a.name())).bind("state", a.state().name())
                    .bind("externalId", orNull(a.externalId())).bind("now", time(now))
                    .execute(), () -> duplicate("artifact", a.externalId()));
        } else {
            id = SqlErrors.unique(() -> h.createUpdate("""
                            INSERT INTO md_artifact (type_id, uri, name, state, external_id, create_time, update_time)
                            VALUES (:type, :uri, :name, :state, :externalId, :now, :now)""")
                    .bind("type", type.id()).bind("uri", a.uri()).bind("name", orNull(a.name()))
                    .bind("state", a.state().name()).bind("externalId", orNull(a.externalId())).bind("now", time(now))
                    .executeAndReturnGeneratedKeys("id").mapTo(Long.class).one(), () -> duplicate("artifact", a.externalId()));
        }
        PropertyTable.replace(h, NodeKind.ARTIFACT, id, a.properties(), a.customProperties());
        return a.stored(id, created, now);
    }

    static List<Artifact> artifacts(Handle h, String where, Consumer<Query> binder) {
        return artifacts(h, "md_artifact a", where, binder);
    }

    static List<Artifact> artifactsById(Handle h, Collection<Long> ids) {
        if (ids.isEmpty()) return List.of();
        return artifacts(h, "UNNEST(:ids) AS n(id) JOIN md_artifact a ON a.id = n.id", ALL,
                q -> q.bindArray("ids", Long.class, ids));
    }

    private static List<Artifact> artifacts(Handle h, String source, String where, Consumer<Query> binder) {
        var query = h.createQuery("""
                        SELECT a.id, t.name AS type_name, a.uri, a.name, a.state, a.external_id, a.create_time, a.update_time
                        FROM <source> JOIN md_type t ON t.id = a.type_id WHERE <where> ORDER BY a.id""")
                .define("source", source).define("where", where);
        binder.accept(query);
        var rows = query.map((rs, ctx) -> new Artifact(rs.getLong("id"), rs.getString("type_name"), rs.getString("uri"),
                        text(rs, "name"), ArtifactState.valueOf(rs.getString("state")), text(rs, "external_id"),
                        Map.of(), Map.of(), instant(rs, "create_time"), instant(rs, "update_time")))
                .list();
        var values = PropertyTable.load(h, NodeKind.ARTIFACT, rows.stream().map(Artifact::id).toList());
        return rows.stream().map(a -> {
            var v = values.getOrDefault(a.id(), PropertyTable.Values.NONE);
            return new Artifact(a.id(), a.type(), a.uri(), a.name(), a.state(), a.externalId(), v.properties(),
                    v.custom(), a.createTime(), a.updateTime());
        }).toList();
    }

    // ---- executions

    static Execution put(Handle h, Execution e, Instant now) {
        var type = TypeTable.require(h, NodeKind.EXECUTION, e.type());
        String node = e.isStored() ? "execution " + e.id() : "new execution of type '" + e.type() + "'";
        PropertyTable.validate(node, type, e.properties());
        requireFreeName(h, "md_execution", type, e.name(), e.id());
        Instant created = now;
        long id = e.id();
        if (e.isStored()) {
            created = requireSameType(h, "md_execution", NodeKind.EXECUTION, id, type);
            updateExecution(h, e, now);
        } else {
            id = insertExecution(h, type, e, now);
        }
        PropertyTable.replace(h, NodeKind.EXECUTION, id, e.properties(), e.customProperties());
        return e.stored(id, created, now);
    }

    /** Inserts the row of a new execution (not its properties) and returns its id. */
    static long insertExecution(Handle h, TypeTable.StoredType type, Execution e, Instant now) {
        return SqlErrors.unique(() -> h.createUpdate("""
                        INSERT INTO md_execution (type_id, name, last_known_state, external_id, create_time, update_time)
                        VALUES (:type, :name, :state, :externalId, :now, :now)""")
                .bind("type", type.id()).bind("name", orNull(e.name())).bind("state", e.lastKnownState().name())
                .bind("externalId", orNull(e.externalId())).bind("now", time(now))
                .executeAndReturnGeneratedKeys("id").mapTo(Long.class).one(), () -> duplicate("execution", e.externalId()));
    }

    /** A new execution with its stored type, for {@link #insertExecutions}. */
    record NewExecution(TypeTable.StoredType type, Execution execution) {
    }

    /** Inserts the rows of new executions (not their properties) in one batch and returns their ids, in order. */
    static List<Long> insertExecutions(Handle h, List<NewExecution> executions, Instant now) {
        if (executions.isEmpty()) return List.of();
        if (executions.size() == 1) return List.of(insertExecution(h, executions.getFirst().type(), executions.getFirst().execution(), now));
        return SqlErrors.unique(() -> {
            var batch = h.prepareBatch("""
                    INSERT INTO md_execution (type_id, name, last_known_state, external_id, create_time, update_time)
                    VALUES (:type, :name, :state, :externalId, :now, :now)""");
            for (var x : executions) {
                var e = x.execution();
                batch.bind("type", x.type().id()).bind("name", orNull(e.name())).bind("state", e.lastKnownState().name())
                        .bind("externalId", orNull(e.externalId())).bind("now", time(now)).add();
            }
            return batch.executePreparedBatch("id").mapTo(Long.class).list();
        }, () -> "another execution in this batch or in the store already has one of its external ids; use unique ones");
    }

    /** Updates the rows of stored executions (not their properties) in one batch; the caller has checked their types. */
    static void updateExecutions(Handle h, List<Execution> executions, Instant now) {
        if (executions.isEmpty()) return;
        SqlErrors.unique(() -> {
            var batch = h.prepareBatch("""
                    UPDATE md_execution SET name = :name, last_known_state = :state, external_id = :externalId,
                           update_time = :now WHERE id = :id""");
            for (var e : executions) {
                batch.bind("id", e.id()).bind("name", orNull(e.name())).bind("state", e.lastKnownState().name())
                        .bind("externalId", orNull(e.externalId())).bind("now", time(now)).add();
            }
            return batch.execute();
        }, () -> "another execution already has one of these external ids; use unique ones");
    }

    /** Updates the row of a stored execution (not its properties); the caller has checked its type. */
    static void updateExecution(Handle h, Execution e, Instant now) {
        SqlErrors.unique(() -> h.createUpdate("""
                        UPDATE md_execution SET name = :name, last_known_state = :state, external_id = :externalId,
                               update_time = :now WHERE id = :id""")
                .bind("id", e.id()).bind("name", orNull(e.name())).bind("state", e.lastKnownState().name())
                .bind("externalId", orNull(e.externalId())).bind("now", time(now))
                .execute(), () -> duplicate("execution", e.externalId()));
    }

    static List<Execution> executions(Handle h, String where, Consumer<Query> binder) {
        return executions(h, "md_execution x", where, binder);
    }

    static List<Execution> executionsById(Handle h, Collection<Long> ids) {
        if (ids.isEmpty()) return List.of();
        return executions(h, "UNNEST(:ids) AS n(id) JOIN md_execution x ON x.id = n.id", ALL,
                q -> q.bindArray("ids", Long.class, ids));
    }

    private static List<Execution> executions(Handle h, String source, String where, Consumer<Query> binder) {
        var query = h.createQuery("""
                        SELECT x.id, t.name AS type_name, x.name, x.last_known_state, x.external_id, x.create_time, x.update_time
                        FROM <source> JOIN md_type t ON t.id = x.type_id WHERE <where> ORDER BY x.id""")
                .define("source", source).define("where", where);
        binder.accept(query);
        var rows = query.map((rs, ctx) -> new Execution(rs.getLong("id"), rs.getString("type_name"), text(rs, "name"),
                        ExecutionState.valueOf(rs.getString("last_known_state")), text(rs, "external_id"),
                        Map.of(), Map.of(), instant(rs, "create_time"), instant(rs, "update_time")))
                .list();
        var values = PropertyTable.load(h, NodeKind.EXECUTION, rows.stream().map(Execution::id).toList());
        return rows.stream().map(x -> {
            var v = values.getOrDefault(x.id(), PropertyTable.Values.NONE);
            return new Execution(x.id(), x.type(), x.name(), x.lastKnownState(), x.externalId(), v.properties(),
                    v.custom(), x.createTime(), x.updateTime());
        }).toList();
    }

    // ---- contexts

    static Context put(Handle h, Context c, Instant now) {
        var type = TypeTable.require(h, NodeKind.CONTEXT, c.type());
        String node = c.isStored() ? "context " + c.id() : "new context '" + c.name() + "' of type '" + c.type() + "'";
        PropertyTable.validate(node, type, c.properties());
        requireFreeName(h, "md_context", type, c.name(), c.id());
        Instant created = now;
        long id = c.id();
        if (c.isStored()) {
            created = requireSameType(h, "md_context", NodeKind.CONTEXT, id, type);
            SqlErrors.unique(() -> h.createUpdate("""
                            UPDATE md_context SET name = :name, external_id = :externalId, update_time = :now
                            WHERE id = :id""")
                    .bind("id", c.id()).bind("name", c.name()).bind("externalId", orNull(c.externalId()))
                    .bind("now", time(now))
                    .execute(), () -> duplicate("context", c.externalId()));
        } else {
            id = SqlErrors.unique(() -> h.createUpdate("""
                            INSERT INTO md_context (type_id, name, external_id, create_time, update_time)
                            VALUES (:type, :name, :externalId, :now, :now)""")
                    .bind("type", type.id()).bind("name", c.name()).bind("externalId", orNull(c.externalId()))
                    .bind("now", time(now))
                    .executeAndReturnGeneratedKeys("id").mapTo(Long.class).one(),
                    () -> "context '%s' of type '%s' or external id '%s' was created concurrently; retry"
                            .formatted(c.name(), c.type(), c.externalId()));
        }
        PropertyTable.replace(h, NodeKind.CONTEXT, id, c.properties(), c.customProperties());
        return c.stored(id, created, now);
    }

    static List<Context> contexts(Handle h, String where, Consumer<Query> binder) {
        return contexts(h, "md_context c", where, binder);
    }

    static List<Context> contextsById(Handle h, Collection<Long> ids) {
        if (ids.isEmpty()) return List.of();
        return contexts(h, "UNNEST(:ids) AS n(id) JOIN md_context c ON c.id = n.id", ALL,
                q -> q.bindArray("ids", Long.class, ids));
    }

    private static List<Context> contexts(Handle h, String source, String where, Consumer<Query> binder) {
        var query = h.createQuery("""
                        SELECT c.id, t.name AS type_name, c.name, c.external_id, c.create_time, c.update_time
                        FROM <source> JOIN md_type t ON t.id = c.type_id WHERE <where> ORDER BY c.id""")
                .define("source", source).define("where", where);
        binder.accept(query);
        var rows = query.map((rs, ctx) -> new Context(rs.getLong("id"), rs.getString("type_name"), rs.getString("name"),
                        text(rs, "external_id"), Map.of(), Map.of(), instant(rs, "create_time"), instant(rs, "update_time")))
                .list();
        var values = PropertyTable.load(h, NodeKind.CONTEXT, rows.stream().map(Context::id).toList());
        return rows.stream().map(c -> {
            var v = values.getOrDefault(c.id(), PropertyTable.Values.NONE);
            return new Context(c.id(), c.type(), c.name(), c.externalId(), v.properties(), v.custom(),
                    c.createTime(), c.updateTime());
        }).toList();
    }

    // ---- shared

    /** The ids among {@code ids} that have no row in {@code table}. */
    static List<Long> missing(Handle h, String table, Collection<Long> ids) {
        if (ids.isEmpty()) return List.of();
        return h.createQuery("""
                        SELECT n.id FROM UNNEST(:ids) AS n(id)
                        WHERE NOT EXISTS (SELECT 1 FROM <table> t WHERE t.id = n.id) ORDER BY n.id""")
                .define("table", table)
                .bindArray("ids", Long.class, ids)
                .mapTo(Long.class).list();
    }

    static OffsetDateTime time(Instant instant) {
        return instant.atOffset(ZoneOffset.UTC);
    }

    static Instant instant(ResultSet rs, String column) throws SQLException {
        return rs.getObject(column, OffsetDateTime.class).toInstant();
    }

    private static void requireFreeName(Handle h, String table, TypeTable.StoredType type, String name, long self) {
        if (name.isEmpty()) return;
        var other = h.createQuery("SELECT id FROM <table> WHERE type_id = :type AND name = :name")
                .define("table", table).bind("type", type.id()).bind("name", name)
                .mapTo(Long.class).findOne();
        if (other.isPresent() && other.get() != self) {
            throw new ConflictException("%s type '%s' already has a %s named '%s' (id %d); choose another name or update %s %d"
                    .formatted(type.kind().label(), type.name(), type.kind().label(), name, other.get(),
                            type.kind().label(), other.get()));
        }
    }

    /** Checks that a stored node exists and keeps its type; returns its creation time. */
    private static Instant requireSameType(Handle h, String table, NodeKind kind, long id, TypeTable.StoredType type) {
        record Row(long typeId, String typeName, Instant created) {}
        var row = h.createQuery("""
                        SELECT n.type_id, t.name, n.create_time FROM <table> n JOIN md_type t ON t.id = n.type_id
                        WHERE n.id = :id""")
                .define("table", table).bind("id", id)
                .map((rs, ctx) -> new Row(rs.getLong("type_id"), rs.getString("name"), instant(rs, "create_time")))
                .findOne()
                .orElseThrow(() -> new NotFoundException("%s %d does not exist; put it with id 0 to create it"
                        .formatted(kind.label(), id)));
        if (row.typeId() != type.id()) {
            throw new InvalidSpecException("%s %d has type '%s' and cannot change to '%s'; create a new %s instead"
                    .formatted(kind.label(), id, row.typeName(), type.name(), kind.label()));
        }
        return row.created();
    }

    private static String duplicate(String what, String externalId) {
        return "another %s already has external id '%s' (or the same type and name); use a unique one".formatted(what, externalId);
    }

    private static String orNull(String optional) {
        return optional.isEmpty() ? null : optional;
    }

    private static String text(ResultSet rs, String column) throws SQLException {
        var value = rs.getString(column);
        return value == null ? "" : value;
    }
}
