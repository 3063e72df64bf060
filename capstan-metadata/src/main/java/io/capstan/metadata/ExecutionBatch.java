package io.capstan.metadata;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/**
 * {@link MetadataStore#putExecutions} inside one transaction, with a fixed number of statements per batch where
 * the one-at-a-time path ({@code MetadataStore.record}) spends several per execution: types and contexts are
 * looked up once each, the executions that already exist under their names are found with one query per type,
 * properties are deleted and inserted in one statement each, and associations go in one batch. Only the
 * executions themselves are inserted or updated row by row, and artifacts (rare in a batch) take the general path.
 */
final class ExecutionBatch {
    private record Existing(long id, Instant created) {
    }

    private final Handle h;
    private final Instant now;
    private final Map<String, TypeTable.StoredType> types = new HashMap<>();
    private final Map<String, Context> contexts = new HashMap<>();

    ExecutionBatch(Handle h, Instant now) {
        this.h = h;
        this.now = now;
    }

    List<RecordedExecution> record(List<ExecutionRecord> records) {
        var existing = existingByName(records);
        var executions = new ArrayList<Execution>(records.size());
        var replacedIds = new ArrayList<Long>();
        // By id, so that an execution named twice in the batch gets the properties of its last record only.
        var withNewProperties = new LinkedHashMap<Long, Execution>();
        for (var r : records) {
            var execution = r.execution();
            var type = type(NodeKind.EXECUTION, execution.type());
            if (execution.isStored()) {
                executions.add(NodeTable.put(h, execution, now));
                continue;
            }
            PropertyTable.validate("new execution of type '" + execution.type() + "'", type, execution.properties());
            var key = type.id() + "\0" + execution.name();
            var found = execution.name().isEmpty() ? null : existing.get(key);
            Execution stored;
            if (found != null) {
                NodeTable.updateExecution(h, execution.stored(found.id(), found.created(), now), now);
                stored = execution.stored(found.id(), found.created(), now);
                replacedIds.add(found.id());
            } else {
                stored = execution.stored(NodeTable.insertExecution(h, type, execution, now), now, now);
                if (!execution.name().isEmpty()) existing.put(key, new Existing(stored.id(), now));
            }
            executions.add(stored);
            withNewProperties.put(stored.id(), stored);
        }
        PropertyTable.replaceAll(h, NodeKind.EXECUTION, replacedIds, withNewProperties.values().stream()
                .map(x -> new PropertyTable.NodeValues(x.id(), new PropertyTable.Values(x.properties(), x.customProperties())))
                .toList());

        var recorded = new ArrayList<RecordedExecution>(records.size());
        var associations = new LinkedHashMap<String, long[]>();
        for (int i = 0; i < records.size(); i++) {
            var r = records.get(i);
            var execution = executions.get(i);
            var artifacts = new ArrayList<Artifact>();
            for (var ae : r.artifacts()) {
                var artifact = NodeTable.put(h, ae.artifact(), now);
                artifacts.add(artifact);
                var event = new Event(artifact.id(), execution.id(), ae.type(), ae.path(), now);
                if (!EventTable.exists(h, event)) EventTable.insert(h, event, now);
            }
            var linked = new ArrayList<Context>();
            for (var c : r.contexts()) {
                var context = context(c);
                linked.add(context);
                associations.put(context.id() + ":" + execution.id(), new long[] {context.id(), execution.id()});
                for (var a : artifacts) LinkTable.attribute(h, context.id(), a.id());
            }
            recorded.add(new RecordedExecution(execution, artifacts, linked));
        }
        LinkTable.associateAll(h, associations.values());
        return recorded;
    }

    /** The executions of the batch that already exist, by type id and name, found with one query per type. */
    private Map<String, Existing> existingByName(List<ExecutionRecord> records) {
        var namesByType = new LinkedHashMap<Long, List<String>>();
        for (var r : records) {
            var x = r.execution();
            if (x.isStored() || x.name().isEmpty()) continue;
            namesByType.computeIfAbsent(type(NodeKind.EXECUTION, x.type()).id(), t -> new ArrayList<>()).add(x.name());
        }
        var existing = new HashMap<String, Existing>();
        namesByType.forEach((typeId, names) -> h.createQuery("""
                        SELECT x.id, x.name, x.create_time FROM UNNEST(:names) AS n(name)
                        JOIN md_execution x ON x.type_id = :type AND x.name = n.name""")
                .bind("type", typeId)
                .bindArray("names", String.class, names)
                .map((rs, ctx) -> Map.entry(typeId + "\0" + rs.getString("name"),
                        new Existing(rs.getLong("id"), NodeTable.instant(rs, "create_time"))))
                .forEach(e -> existing.put(e.getKey(), e.getValue())));
        return existing;
    }

    private TypeTable.StoredType type(NodeKind kind, String name) {
        return types.computeIfAbsent(kind + "\0" + name, k -> TypeTable.require(h, kind, name));
    }

    /** A context with id 0 whose type and name exist is reused as it is; otherwise it is created or replaced. */
    private Context context(Context c) {
        if (c.isStored()) return NodeTable.put(h, c, now);
        var key = c.type() + "\0" + c.name();
        var known = contexts.get(key);
        if (known != null) return known;
        Optional<Context> found = NodeTable.contexts(h, "t.kind = 'CONTEXT' AND t.name = :type AND c.name = :name",
                q -> q.bind("type", c.type()).bind("name", c.name())).stream().findFirst();
        var stored = found.orElseGet(() -> NodeTable.put(h, c, now));
        contexts.put(key, stored);
        return stored;
    }
}
