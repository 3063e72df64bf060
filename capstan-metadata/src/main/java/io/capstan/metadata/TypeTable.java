package io.capstan.metadata;

import io.capstan.core.ConflictException;
import io.capstan.core.NotFoundException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/** Rows of md_type and md_type_property. Every method runs inside the caller's transaction. */
final class TypeTable {

    /** A type as stored, whatever its kind. */
    record StoredType(long id, NodeKind kind, String name, Map<String, PropertyType> properties) {
        MetadataType toApi() {
            return switch (kind) {
                case ARTIFACT -> new ArtifactType(id, name, properties);
                case EXECUTION -> new ExecutionType(id, name, properties);
                case CONTEXT -> new ContextType(id, name, properties);
            };
        }
    }

    private TypeTable() {
    }

    static Optional<StoredType> find(Handle h, NodeKind kind, String name) {
        Optional<Long> id = h.createQuery("SELECT id FROM md_type WHERE kind = :kind AND name = :name")
                .bind("kind", kind.name()).bind("name", name)
                .mapTo(Long.class).findOne();
        return id.map(i -> new StoredType(i, kind, name, properties(h, i)));
    }

    static StoredType require(Handle h, NodeKind kind, String name) {
        return find(h, kind, name).orElseThrow(() -> new NotFoundException(
                "%s type '%s' does not exist; register it with putType first".formatted(kind.label(), name)));
    }

    /**
     * Registers a type, or returns the stored one: new properties are added, properties the caller omits are kept,
     * and a property whose value type changes is a conflict.
     */
    static StoredType put(Handle h, NodeKind kind, MetadataType type) {
        var existing = find(h, kind, type.name());
        if (existing.isEmpty()) {
            long id = SqlErrors.unique(
                    () -> h.createUpdate("INSERT INTO md_type (kind, name) VALUES (:kind, :name)")
                            .bind("kind", kind.name()).bind("name", type.name())
                            .executeAndReturnGeneratedKeys("id").mapTo(Long.class).one(),
                    () -> "%s type '%s' was registered concurrently; retry".formatted(kind.label(), type.name()));
            insertProperties(h, id, type.properties());
            return new StoredType(id, kind, type.name(), type.properties());
        }
        var stored = existing.get();
        if (type.id() != 0 && type.id() != stored.id()) {
            throw new ConflictException("%s type '%s' has id %d, not %d; omit the id or use the stored one"
                    .formatted(kind.label(), type.name(), stored.id(), type.id()));
        }
        var added = new HashMap<String, PropertyType>();
        type.properties().forEach((name, valueType) -> {
            var old = stored.properties().get(name);
            if (old == null) {
                added.put(name, valueType);
            } else if (old != valueType) {
                throw new ConflictException(
                        "%s type '%s': property '%s' is declared %s and cannot change to %s; add a property with a new name instead"
                                .formatted(kind.label(), type.name(), name, old, valueType));
            }
        });
        if (added.isEmpty()) return stored;
        insertProperties(h, stored.id(), added);
        var merged = new HashMap<>(stored.properties());
        merged.putAll(added);
        return new StoredType(stored.id(), kind, stored.name(), Map.copyOf(merged));
    }

    private static Map<String, PropertyType> properties(Handle h, long typeId) {
        var result = new HashMap<String, PropertyType>();
        h.createQuery("SELECT name, data_type FROM md_type_property WHERE type_id = :id")
                .bind("id", typeId)
                .map((rs, ctx) -> result.put(rs.getString("name"), PropertyType.valueOf(rs.getString("data_type"))))
                .list();
        return Map.copyOf(result);
    }

    private static void insertProperties(Handle h, long typeId, Map<String, PropertyType> properties) {
        if (properties.isEmpty()) return;
        var batch = h.prepareBatch("INSERT INTO md_type_property (type_id, name, data_type) VALUES (:type, :name, :dataType)");
        properties.forEach((name, dataType) -> batch.bind("type", typeId).bind("name", name).bind("dataType", dataType.name()).add());
        batch.execute();
    }
}
