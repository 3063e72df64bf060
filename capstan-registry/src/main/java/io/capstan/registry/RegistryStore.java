package io.capstan.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.Json;
import io.capstan.store.Database;
import java.nio.charset.StandardCharsets;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.StatementException;

/** The registry's tables: entities, their filterable properties, and which artifacts belong to which owner. */
final class RegistryStore {
    private static final String UNIQUE_VIOLATION = "23505";
    private static final String COLUMNS = "e.id, e.namespace, e.kind, e.name, e.parent_id, e.external_id, e.create_time, e.update_time, e.body";

    private final Database db;
    private final Clock clock;

    RegistryStore(Database db, Clock clock) {
        this.db = db;
        this.clock = clock;
    }

    /** A page of a listing; {@code nextPageToken} is empty on the last page. */
    record Page(List<Entity> items, int pageSize, String nextPageToken) {
    }

    /**
     * What to list.
     *
     * @param parentId  only children of this entity, or null
     * @param ownerId   only artifacts attached to this entity, or null
     * @param extraSql  a further condition on {@code e} with {@code extraParams}, or null
     */
    record ListQuery(Collection<Kind> kinds, Long parentId, Long ownerId, FilterQuery.Expr filter, Set<String> wellKnown,
                     String orderBy, String sortOrder, int pageSize, String pageToken, String extraSql, List<Object> extraParams) {
    }

    Entity create(String namespace, Kind kind, long parentId, ObjectNode body) {
        long now = clock.millis();
        var name = text(body, "name");
        var externalId = text(body, "externalId");
        try {
            return db.jdbi().inTransaction(h -> {
                long id = h.createUpdate("INSERT INTO registry_entity (namespace, kind, name, name_key, parent_id, external_id, create_time, update_time, body)"
                                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
                        .bind(0, namespace).bind(1, kind.name()).bind(2, name).bind(3, kind.uniqueNames() ? name : null)
                        .bind(4, parentId).bind(5, externalId).bind(6, now).bind(7, now).bind(8, write(body))
                        .executeAndReturnGeneratedKeys("id").mapTo(Long.class).one();
                writeProperties(h, id, kind, body);
                return new Entity(id, kind, namespace, name, parentId, externalId, now, now, body);
            });
        } catch (StatementException e) {
            throw conflictOr(e, kind, name, externalId);
        }
    }

    Entity update(Entity old, ObjectNode body) {
        long now = Math.max(clock.millis(), old.updateTime());
        var externalId = text(body, "externalId");
        try {
            return db.jdbi().inTransaction(h -> {
                h.createUpdate("UPDATE registry_entity SET external_id = ?, update_time = ?, body = ? WHERE id = ?")
                        .bind(0, externalId).bind(1, now).bind(2, write(body)).bind(3, old.id()).execute();
                h.createUpdate("DELETE FROM registry_property WHERE entity_id = ?").bind(0, old.id()).execute();
                writeProperties(h, old.id(), old.kind(), body);
                return new Entity(old.id(), old.kind(), old.namespace(), old.name(), old.parentId(), externalId, old.createTime(), now, body);
            });
        } catch (StatementException e) {
            throw conflictOr(e, old.kind(), null, externalId);
        }
    }

    Optional<Entity> get(String namespace, long id, Collection<Kind> kinds) {
        return db.jdbi().withHandle(h -> h.createQuery("SELECT " + COLUMNS + " FROM registry_entity e WHERE e.id = ? AND e.namespace = ? AND e.kind IN (" + kinds(kinds) + ")")
                .bind(0, id).bind(1, namespace)
                .map((rs, ctx) -> entity(rs)).findOne());
    }

    /** The entity of one of {@code kinds} with this name (and parent or owner) and external id, where given. */
    Optional<Entity> find(String namespace, Collection<Kind> kinds, String name, String externalId, Long parentId, Long ownerId) {
        var sql = new StringBuilder("SELECT " + COLUMNS + " FROM registry_entity e WHERE e.namespace = ? AND e.kind IN (" + kinds(kinds) + ")");
        var params = new ArrayList<Object>();
        params.add(namespace);
        if (name != null) {
            sql.append(" AND e.name = ?");
            params.add(name);
        }
        if (externalId != null) {
            sql.append(" AND e.external_id = ?");
            params.add(externalId);
        }
        if (parentId != null) {
            sql.append(" AND e.parent_id = ?");
            params.add(parentId);
        }
        if (ownerId != null) {
            sql.append(" AND EXISTS (SELECT 1 FROM registry_link l WHERE l.owner_id = ? AND l.artifact_id = e.id)");
            params.add(ownerId);
        }
        sql.append(" ORDER BY e.id FETCH FIRST 1 ROWS ONLY");
        return db.jdbi().withHandle(h -> {
            var q = h.createQuery(sql.toString());
            for (int i = 0; i < params.size(); i++) q.bind(i, params.get(i));
            return q.map((rs, ctx) -> entity(rs)).findOne();
        });
    }

    void link(long ownerId, long artifactId) {
        db.jdbi().useHandle(h -> {
            boolean linked = h.createQuery("SELECT COUNT(*) FROM registry_link WHERE owner_id = ? AND artifact_id = ?")
                    .bind(0, ownerId).bind(1, artifactId).mapTo(Long.class).one() > 0;
            if (!linked) {
                try {
                    h.createUpdate("INSERT INTO registry_link (owner_id, artifact_id) VALUES (?, ?)").bind(0, ownerId).bind(1, artifactId).execute();
                } catch (StatementException e) {
                    if (!isUniqueViolation(e)) throw e;
                }
            }
        });
    }

    /** An alias of a model, naming one of its versions. */
    record Alias(String alias, long modelId, long versionId, long updateTime) {
    }

    /** Points {@code alias} of {@code modelId} at {@code versionId}, moving it when it named another version. */
    Alias setAlias(long modelId, String alias, long versionId) {
        long now = clock.millis();
        db.jdbi().useTransaction(h -> {
            int moved = h.createUpdate("UPDATE registry_alias SET version_id = ?, update_time = ? WHERE model_id = ? AND alias = ?")
                    .bind(0, versionId).bind(1, now).bind(2, modelId).bind(3, alias).execute();
            if (moved == 0) {
                h.createUpdate("INSERT INTO registry_alias (model_id, alias, version_id, update_time) VALUES (?, ?, ?, ?)")
                        .bind(0, modelId).bind(1, alias).bind(2, versionId).bind(3, now).execute();
            }
        });
        return new Alias(alias, modelId, versionId, now);
    }

    boolean deleteAlias(long modelId, String alias) {
        return db.jdbi().withHandle(h -> h.createUpdate("DELETE FROM registry_alias WHERE model_id = ? AND alias = ?")
                .bind(0, modelId).bind(1, alias).execute()) > 0;
    }

    Optional<Alias> alias(long modelId, String alias) {
        return db.jdbi().withHandle(h -> h.createQuery("SELECT alias, model_id, version_id, update_time FROM registry_alias WHERE model_id = ? AND alias = ?")
                .bind(0, modelId).bind(1, alias)
                .map((rs, ctx) -> new Alias(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getLong(4))).findOne());
    }

    List<Alias> aliases(long modelId) {
        return db.jdbi().withHandle(h -> h.createQuery("SELECT alias, model_id, version_id, update_time FROM registry_alias WHERE model_id = ? ORDER BY alias")
                .bind(0, modelId).map((rs, ctx) -> new Alias(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getLong(4))).list());
    }

    /** The entities of {@code kinds} whose well-known {@code field} is {@code value}. */
    List<Entity> referencing(String namespace, Collection<Kind> kinds, String field, long value) {
        return db.jdbi().withHandle(h -> h.createQuery("SELECT " + COLUMNS + " FROM registry_entity e JOIN registry_property p ON p.entity_id = e.id"
                        + " WHERE e.namespace = ? AND e.kind IN (" + kinds(kinds) + ") AND p.is_custom = FALSE AND p.name = ? AND p.int_value = ? ORDER BY e.id")
                .bind(0, namespace).bind(1, field).bind(2, value).map((rs, ctx) -> entity(rs)).list());
    }

    /** Every entity of {@code kind} in {@code namespace}. */
    List<Entity> all(String namespace, Kind kind) {
        return db.jdbi().withHandle(h -> h.createQuery("SELECT " + COLUMNS + " FROM registry_entity e WHERE e.namespace = ? AND e.kind = ? ORDER BY e.id")
                .bind(0, namespace).bind(1, kind.name()).map((rs, ctx) -> entity(rs)).list());
    }

    /** The namespaces holding entities of {@code kind}, sorted. */
    List<String> namespaces(Kind kind) {
        return db.jdbi().withHandle(h -> h.createQuery("SELECT DISTINCT namespace FROM registry_entity WHERE kind = ? ORDER BY namespace")
                .bind(0, kind.name()).mapTo(String.class).list());
    }

    /** The artifacts of {@code kinds} attached to {@code ownerId}. */
    List<Entity> linked(String namespace, Collection<Kind> kinds, long ownerId) {
        return db.jdbi().withHandle(h -> h.createQuery("SELECT " + COLUMNS + " FROM registry_entity e WHERE e.namespace = ? AND e.kind IN ("
                        + kinds(kinds) + ") AND EXISTS (SELECT 1 FROM registry_link l WHERE l.owner_id = ? AND l.artifact_id = e.id) ORDER BY e.id")
                .bind(0, namespace).bind(1, ownerId).map((rs, ctx) -> entity(rs)).list());
    }

    /** The children of {@code parentId} of {@code kinds}. */
    List<Entity> children(String namespace, Collection<Kind> kinds, long parentId) {
        return db.jdbi().withHandle(h -> h.createQuery("SELECT " + COLUMNS + " FROM registry_entity e WHERE e.namespace = ? AND e.kind IN ("
                        + kinds(kinds) + ") AND e.parent_id = ? ORDER BY e.id")
                .bind(0, namespace).bind(1, parentId).map((rs, ctx) -> entity(rs)).list());
    }

    /** Deletes {@code ids} and the artifacts attached to them and to nothing else, in one transaction. */
    void deleteWithArtifacts(List<Long> ids) {
        db.jdbi().useTransaction(h -> {
            for (long id : ids) {
                var artifacts = h.createQuery("SELECT l.artifact_id FROM registry_link l WHERE l.owner_id = ?"
                                + " AND NOT EXISTS (SELECT 1 FROM registry_link o WHERE o.artifact_id = l.artifact_id AND o.owner_id <> l.owner_id)")
                        .bind(0, id).mapTo(Long.class).list();
                for (long a : artifacts) deleteRow(h, a);
                deleteRow(h, id);
            }
        });
    }

    private static void deleteRow(Handle h, long id) {
        h.createUpdate("DELETE FROM registry_alias WHERE model_id = ? OR version_id = ?").bind(0, id).bind(1, id).execute();
        h.createUpdate("DELETE FROM registry_link WHERE owner_id = ? OR artifact_id = ?").bind(0, id).bind(1, id).execute();
        h.createUpdate("DELETE FROM registry_property WHERE entity_id = ?").bind(0, id).execute();
        h.createUpdate("DELETE FROM registry_entity WHERE id = ?").bind(0, id).execute();
    }

    /** Whether any entity of {@code kinds} names {@code field = value} in its well-known properties. */
    boolean anyReferences(String namespace, Collection<Kind> kinds, String field, long value) {
        return db.jdbi().withHandle(h -> h.createQuery("SELECT COUNT(*) FROM registry_entity e JOIN registry_property p ON p.entity_id = e.id"
                        + " WHERE e.namespace = ? AND e.kind IN (" + kinds(kinds) + ") AND p.is_custom = FALSE AND p.name = ? AND p.int_value = ?")
                .bind(0, namespace).bind(1, field).bind(2, value).mapTo(Long.class).one() > 0);
    }

    Page list(String namespace, ListQuery q) {
        var sql = new StringBuilder("SELECT " + COLUMNS + " FROM registry_entity e WHERE e.namespace = ? AND e.kind IN (" + kinds(q.kinds()) + ")");
        var params = new ArrayList<Object>();
        params.add(namespace);
        if (q.parentId() != null) {
            sql.append(" AND e.parent_id = ?");
            params.add(q.parentId());
        }
        if (q.ownerId() != null) {
            sql.append(" AND EXISTS (SELECT 1 FROM registry_link l WHERE l.owner_id = ? AND l.artifact_id = e.id)");
            params.add(q.ownerId());
        }
        if (q.extraSql() != null) {
            sql.append(" AND ").append(q.extraSql());
            params.addAll(q.extraParams());
        }
        if (q.filter() != null) sql.append(" AND ").append(FilterSql.compile(q.filter(), q.wellKnown(), params));
        var column = switch (q.orderBy()) {
            case "CREATE_TIME" -> "e.create_time";
            case "LAST_UPDATE_TIME" -> "e.update_time";
            default -> "e.id";
        };
        boolean asc = q.sortOrder().equals("ASC");
        if (q.pageToken() != null && !q.pageToken().isEmpty()) {
            var cursor = decodeToken(q.pageToken());
            var cmp = asc ? ">" : "<";
            if (column.equals("e.id")) {
                sql.append(" AND e.id ").append(cmp).append(" ?");
                params.add(cursor[0]);
            } else {
                sql.append(" AND (").append(column).append(' ').append(cmp).append(" ? OR (").append(column).append(" = ? AND e.id ").append(cmp).append(" ?))");
                params.add(cursor[1]);
                params.add(cursor[1]);
                params.add(cursor[0]);
            }
        }
        var dir = asc ? " ASC" : " DESC";
        sql.append(" ORDER BY ").append(column).append(dir);
        if (!column.equals("e.id")) sql.append(", e.id").append(dir);
        sql.append(" FETCH FIRST ").append(q.pageSize() + 1).append(" ROWS ONLY");
        var rows = db.jdbi().withHandle(h -> {
            var query = h.createQuery(sql.toString());
            for (int i = 0; i < params.size(); i++) query.bind(i, params.get(i));
            return query.map((rs, ctx) -> entity(rs)).list();
        });
        String token = "";
        if (rows.size() > q.pageSize()) {
            rows = rows.subList(0, q.pageSize());
            var last = rows.getLast();
            long value = switch (column) {
                case "e.create_time" -> last.createTime();
                case "e.update_time" -> last.updateTime();
                default -> last.id();
            };
            token = Base64.getEncoder().encodeToString((last.id() + ":" + value).getBytes(StandardCharsets.UTF_8));
        }
        return new Page(List.copyOf(rows), q.pageSize(), token);
    }

    /** {id, value} of an opaque page token, as upstream encodes it: base64 of {@code id:value}. */
    private static long[] decodeToken(String token) {
        try {
            if (token.length() > 1024) throw new IllegalArgumentException();
            var text = new String(Base64.getDecoder().decode(token), StandardCharsets.UTF_8);
            int colon = text.indexOf(':');
            if (colon < 0) throw new IllegalArgumentException();
            return new long[] {Long.parseLong(text.substring(0, colon)), Long.parseLong(text.substring(colon + 1))};
        } catch (IllegalArgumentException e) {
            throw RegistryException.badRequest("invalid nextPageToken: pass the nextPageToken of the previous page unchanged");
        }
    }

    private void writeProperties(Handle h, long id, Kind kind, ObjectNode body) {
        var batch = h.prepareBatch("INSERT INTO registry_property (entity_id, is_custom, name, int_value, double_value, string_value, bool_value)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?)");
        int rows = 0;
        for (var name : kind.wellKnown) {
            var v = body.get(name);
            if (v == null || v.isNull() || v.isContainerNode()) continue;
            var text = v.asText();
            Long asLong = null;
            Double asDouble = null;
            if (v.isNumber()) {
                asDouble = v.asDouble();
                if (v.isIntegralNumber() && v.canConvertToLong()) asLong = v.asLong();
            } else {
                try {
                    asLong = Long.parseLong(text);
                    asDouble = (double) asLong;
                } catch (NumberFormatException notInteger) {
                    try {
                        asDouble = Double.parseDouble(text);
                    } catch (NumberFormatException notNumber) {
                        // text only
                    }
                }
            }
            batch.bind(0, id).bind(1, false).bind(2, name).bind(3, asLong).bind(4, asDouble).bind(5, text).bind(6, (Boolean) null).add();
            rows++;
        }
        var custom = body.get("customProperties");
        if (custom instanceof ObjectNode props) {
            for (var e : props.properties()) {
                var value = e.getValue();
                Long i = null;
                Double d = null;
                String s = null;
                Boolean b = null;
                switch (value.path("metadataType").asText()) {
                    case "MetadataIntValue" -> i = Long.parseLong(value.path("int_value").asText());
                    case "MetadataDoubleValue" -> d = value.path("double_value").asDouble();
                    case "MetadataBoolValue" -> b = value.path("bool_value").asBoolean();
                    case "MetadataStructValue" -> s = value.path("struct_value").asText();
                    case "MetadataProtoValue" -> s = value.path("proto_value").asText();
                    default -> s = value.path("string_value").asText();
                }
                batch.bind(0, id).bind(1, true).bind(2, e.getKey()).bind(3, i).bind(4, d).bind(5, s).bind(6, b).add();
                rows++;
            }
        }
        if (rows > 0) batch.execute();
    }

    private static Entity entity(ResultSet rs) throws SQLException {
        return new Entity(rs.getLong("id"), Kind.valueOf(rs.getString("kind")), rs.getString("namespace"), rs.getString("name"),
                rs.getLong("parent_id"), rs.getString("external_id"), rs.getLong("create_time"), rs.getLong("update_time"),
                read(rs.getString("body")));
    }

    private static ObjectNode read(String body) {
        try {
            return (ObjectNode) Json.json().readTree(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a stored registry entity is not JSON: " + e.getMessage(), e);
        }
    }

    private static String write(JsonNode body) {
        try {
            return Json.json().writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String text(ObjectNode body, String field) {
        var v = body.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    /** The kinds as SQL literals: enum constant names, never input. */
    private static String kinds(Collection<Kind> kinds) {
        return kinds.stream().map(k -> "'" + k.name() + "'").collect(Collectors.joining(", "));
    }

    private static RuntimeException conflictOr(StatementException e, Kind kind, String name, String externalId) {
        if (!isUniqueViolation(e)) return e;
        var message = e.getMessage() != null && e.getMessage().toLowerCase(java.util.Locale.ROOT).contains("registry_entity_external_id")
                ? "a " + kind.noun + " with externalId '" + externalId + "' already exists"
                : "a " + kind.noun + " named '" + name + "' already exists" + (kind.parentKind != null ? " in its " + kind.parentKind.noun : "");
        var conflict = RegistryException.conflict(message);
        conflict.initCause(e);
        return conflict;
    }

    private static boolean isUniqueViolation(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && UNIQUE_VIOLATION.equals(sql.getSQLState())) return true;
        }
        return false;
    }
}
