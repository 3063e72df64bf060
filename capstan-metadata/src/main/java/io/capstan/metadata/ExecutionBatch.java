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
 * new executions are inserted in one batch (with their generated ids) and known ones updated in another,
 * properties are deleted and inserted in one statement each, and associations go in one batch. Executions given
 * with an id, and artifacts (rare in a batch), take the general path, row by row.
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
        // Which row each record writes: a stored one (existing id) or a new one; a name given twice in the batch
        // is one row, written with its last record, as recording them one after the other would leave it.
        var rowOf = new String[records.size()];
        var lastOfRow = new LinkedHashMap<String, Integer>();
        for (int i = 0; i < records.size(); i++) {
            var execution = records.get(i).execution();
            if (execution.isStored()) continue;
            var type = type(NodeKind.EXECUTION, execution.type());
            PropertyTable.validate("new execution of type '" + execution.type() + "'", type, execution.properties());
            rowOf[i] = execution.name().isEmpty() ? "#" + i : type.id() + "\0" + execution.name();
            lastOfRow.put(rowOf[i], i);
        }
        var inserts = new ArrayList<String>();
        var updates = new ArrayList<Execution>();
        var ids = new HashMap<String, Existing>();
        for (var row : lastOfRow.entrySet()) {
            var found = existing.get(row.getKey());
            if (found == null) {
                inserts.add(row.getKey());
            } else {
                ids.put(row.getKey(), found);
                updates.add(records.get(row.getValue()).execution().stored(found.id(), found.created(), now));
            }
        }
        var newIds = NodeTable.insertExecutions(h, inserts.stream().map(row -> {
            var execution = records.get(lastOfRow.get(row)).execution();
            return new NodeTable.NewExecution(type(NodeKind.EXECUTION, execution.type()), execution);
        }).toList(), now);
        for (int i = 0; i < inserts.size(); i++) ids.put(inserts.get(i), new Existing(newIds.get(i), now));
        NodeTable.updateExecutions(h, updates, now);

        var executions = new ArrayList<Execution>(records.size());
        var withNewProperties = new ArrayList<PropertyTable.NodeValues>();
        for (int i = 0; i < records.size(); i++) {
            var execution = records.get(i).execution();
            if (execution.isStored()) {
                executions.add(NodeTable.put(h, execution, now));
                continue;
            }
            var row = ids.get(rowOf[i]);
            var stored = execution.stored(row.id(), row.created(), now);
            executions.add(stored);
            if (lastOfRow.get(rowOf[i]) == i) {
                withNewProperties.add(new PropertyTable.NodeValues(stored.id(), new PropertyTable.Values(stored.properties(), stored.customProperties())));
            }
        }
        PropertyTable.replaceAll(h, NodeKind.EXECUTION, updates.stream().map(Execution::id).toList(), withNewProperties);

        var insertedIds = new java.util.HashSet<Long>(newIds);
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
        var toNew = new ArrayList<long[]>();
        var toStored = new ArrayList<long[]>();
        for (var pair : associations.values()) (insertedIds.contains(pair[1]) ? toNew : toStored).add(pair);
        LinkTable.associateNew(h, toNew);
        LinkTable.associateAll(h, toStored);
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
