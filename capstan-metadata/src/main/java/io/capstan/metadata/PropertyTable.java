package io.capstan.metadata;

import io.capstan.core.InvalidSpecException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jdbi.v3.core.Handle;

/** Rows of md_property: typed values of artifacts, executions and contexts. */
final class PropertyTable {

    /** The properties and custom properties of one node. */
    record Values(Map<String, PropertyValue> properties, Map<String, PropertyValue> custom) {
        static final Values NONE = new Values(Map.of(), Map.of());
    }

    private PropertyTable() {
    }

    /** Checks declared properties against the type; the message names the node, the property and the fix. */
    static void validate(String node, TypeTable.StoredType type, Map<String, PropertyValue> properties) {
        var errors = new ArrayList<String>();
        properties.forEach((name, value) -> {
            var declared = type.properties().get(name);
            if (declared == null) {
                errors.add("property '%s' is not declared by %s type '%s' (declared: %s); declare it on the type or make it a custom property"
                        .formatted(name, type.kind().label(), type.name(), new TreeMap<>(type.properties()).keySet()));
            } else if (declared != value.type()) {
                errors.add("property '%s' is declared %s by %s type '%s' but the value is %s; pass a %s value"
                        .formatted(name, declared, type.kind().label(), type.name(), value.type(), declared));
            }
        });
        if (!errors.isEmpty()) throw new InvalidSpecException(node + ": " + String.join("; ", errors));
    }

    /** Replaces all properties of a node. */
    static void replace(Handle h, NodeKind kind, long nodeId, Map<String, PropertyValue> properties,
                        Map<String, PropertyValue> custom) {
        h.createUpdate("DELETE FROM md_property WHERE node_kind = :kind AND node_id = :id")
                .bind("kind", kind.name()).bind("id", nodeId).execute();
        insert(h, kind, List.of(new NodeValues(nodeId, new Values(properties, custom))));
    }

    /** One node's id with the properties to store for it. */
    record NodeValues(long nodeId, Values values) {
    }

    /**
     * Deletes the properties of {@code replacedIds}, then inserts those of {@code nodes}: two statements for any
     * number of nodes.
     */
    static void replaceAll(Handle h, NodeKind kind, Collection<Long> replacedIds, List<NodeValues> nodes) {
        if (!replacedIds.isEmpty()) {
            h.createUpdate("DELETE FROM md_property WHERE node_kind = :kind AND node_id = ANY(:ids)")
                    .bind("kind", kind.name()).bindArray("ids", Long.class, replacedIds).execute();
        }
        insert(h, kind, nodes);
    }

    private static void insert(Handle h, NodeKind kind, List<NodeValues> nodes) {
        if (nodes.stream().allMatch(n -> n.values().properties().isEmpty() && n.values().custom().isEmpty())) return;
        var batch = h.prepareBatch("""
                INSERT INTO md_property (node_kind, node_id, is_custom, name, value_type, int_value, double_value, string_value, bool_value)
                VALUES (:kind, :id, :custom, :name, :valueType, :intValue, :doubleValue, :stringValue, :boolValue)""");
        for (var node : nodes) {
            for (var custom_ : List.of(false, true)) {
                (custom_ ? node.values().custom() : node.values().properties()).forEach((name, value) -> {
                    batch.bind("kind", kind.name()).bind("id", node.nodeId()).bind("custom", custom_).bind("name", name)
                            .bind("valueType", value.type().name())
                            .bindByType("intValue", value instanceof PropertyValue.IntValue v ? v.value() : null, Long.class)
                            .bindByType("doubleValue", value instanceof PropertyValue.DoubleValue v ? v.value() : null, Double.class)
                            .bind("stringValue", switch (value) {
                                case PropertyValue.StringValue v -> v.value();
                                case PropertyValue.StructValue v -> v.json();
                                case PropertyValue.IntValue v -> null;
                                case PropertyValue.DoubleValue v -> null;
                                case PropertyValue.BoolValue v -> null;
                            })
                            .bindByType("boolValue", value instanceof PropertyValue.BoolValue v ? v.value() : null, Boolean.class)
                            .add();
                });
            }
        }
        batch.execute();
    }

    /** Loads the properties of the given nodes; nodes without any are absent from the map. */
    static Map<Long, Values> load(Handle h, NodeKind kind, Collection<Long> ids) {
        var result = new HashMap<Long, Values>();
        if (ids.isEmpty()) return result;
        record Row(long nodeId, boolean custom, String name, PropertyValue value) {}
        var rows = h.createQuery("""
                        SELECT p.* FROM UNNEST(:ids) AS n(id)
                        JOIN md_property p ON p.node_kind = :kind AND p.node_id = n.id""")
                .bind("kind", kind.name())
                .bindArray("ids", Long.class, ids)
                .map((rs, ctx) -> new Row(rs.getLong("node_id"), rs.getBoolean("is_custom"), rs.getString("name"), value(rs)))
                .list();
        for (var row : rows) {
            var values = result.computeIfAbsent(row.nodeId(), id -> new Values(new TreeMap<>(), new TreeMap<>()));
            (row.custom() ? values.custom() : values.properties()).put(row.name(), row.value());
        }
        return result;
    }

    private static PropertyValue value(ResultSet rs) throws SQLException {
        return switch (PropertyType.valueOf(rs.getString("value_type"))) {
            case INT -> new PropertyValue.IntValue(rs.getLong("int_value"));
            case DOUBLE -> new PropertyValue.DoubleValue(rs.getDouble("double_value"));
            case STRING -> new PropertyValue.StringValue(rs.getString("string_value"));
            case STRUCT -> new PropertyValue.StructValue(rs.getString("string_value"));
            case BOOLEAN -> new PropertyValue.BoolValue(rs.getBoolean("bool_value"));
        };
    }
}
