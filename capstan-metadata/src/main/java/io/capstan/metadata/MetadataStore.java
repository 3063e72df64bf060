package io.capstan.metadata;

import io.capstan.core.InvalidSpecException;
import io.capstan.core.NotFoundException;
import io.capstan.store.Database;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.HandleCallback;

/**
 * Lineage in ML Metadata's model: types, artifacts, executions, contexts, the events between artifacts and
 * executions, and the links of contexts. Run {@code db.migrate("metadata")} once before use.
 *
 * <pre>{@code
 * var store = new MetadataStore(db, Clock.systemUTC());
 * store.putType(ArtifactType.of("Model", Map.of("framework", PropertyType.STRING)));
 * store.putType(ExecutionType.of("Trainer", Map.of()));
 * store.putType(ContextType.of("PipelineRun", Map.of()));
 * var recorded = store.putExecution(Execution.of("Trainer").withState(ExecutionState.COMPLETE),
 *         List.of(ArtifactAndEvent.output(Artifact.of("Model", "cas://sha256/..."), "model")),
 *         List.of(Context.of("PipelineRun", "run-42")));
 * var upstream = store.lineage(LineageQuery.fromArtifacts(Set.of(modelId), LineageDirection.UPSTREAM, 20));
 * }</pre>
 *
 * <p>Every method is one database transaction, blocks on the database, and is safe to call from many threads.
 * Bad input throws {@link InvalidSpecException}, a missing type or node {@link NotFoundException}, and a clash with
 * stored data (a duplicate name, event or external id, a changed property type) {@link io.capstan.core.ConflictException}.
 * Times are stored with millisecond precision, as MLMD does.
 */
public final class MetadataStore {
    private final Database db;
    private final Clock clock;

    public MetadataStore(Database db, Clock clock) {
        this.db = Objects.requireNonNull(db, "db");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    // ---- types

    /**
     * Registers a type, or returns the one already registered under its name and kind. New properties are added,
     * omitted ones are kept, and changing a property's value type is a {@link io.capstan.core.ConflictException}.
     */
    @SuppressWarnings("unchecked")
    public <T extends MetadataType> T putType(T type) {
        Objects.requireNonNull(type, "type");
        return (T) tx(h -> TypeTable.put(h, NodeKind.of(type), type).toApi());
    }

    public Optional<ArtifactType> findArtifactType(String name) {
        return tx(h -> TypeTable.find(h, NodeKind.ARTIFACT, name).map(t -> (ArtifactType) t.toApi()));
    }

    public Optional<ExecutionType> findExecutionType(String name) {
        return tx(h -> TypeTable.find(h, NodeKind.EXECUTION, name).map(t -> (ExecutionType) t.toApi()));
    }

    public Optional<ContextType> findContextType(String name) {
        return tx(h -> TypeTable.find(h, NodeKind.CONTEXT, name).map(t -> (ContextType) t.toApi()));
    }

    // ---- nodes

    /** Creates the artifact when its id is 0, otherwise replaces the stored one (its type cannot change). */
    public Artifact putArtifact(Artifact artifact) {
        Objects.requireNonNull(artifact, "artifact");
        return tx(h -> NodeTable.put(h, artifact, now()));
    }

    /** Creates the execution when its id is 0, otherwise replaces the stored one (its type cannot change). */
    public Execution putExecution(Execution execution) {
        Objects.requireNonNull(execution, "execution");
        return tx(h -> NodeTable.put(h, execution, now()));
    }

    /** Creates the context when its id is 0, otherwise replaces the stored one (its type cannot change). */
    public Context putContext(Context context) {
        Objects.requireNonNull(context, "context");
        return tx(h -> NodeTable.put(h, context, now()));
    }

    public Artifact getArtifact(long id) {
        return tx(h -> NodeTable.artifactsById(h, List.of(id))).stream().findFirst()
                .orElseThrow(() -> new NotFoundException("artifact " + id + " does not exist"));
    }

    public Execution getExecution(long id) {
        return tx(h -> NodeTable.executionsById(h, List.of(id))).stream().findFirst()
                .orElseThrow(() -> new NotFoundException("execution " + id + " does not exist"));
    }

    public Context getContext(long id) {
        return tx(h -> NodeTable.contextsById(h, List.of(id))).stream().findFirst()
                .orElseThrow(() -> new NotFoundException("context " + id + " does not exist"));
    }

    /** The artifacts of a type, by id; empty when the type has none or does not exist. */
    public List<Artifact> artifactsByType(String type) {
        return tx(h -> NodeTable.artifacts(h, "t.kind = 'ARTIFACT' AND t.name = :type", q -> q.bind("type", type)));
    }

    public List<Artifact> artifactsByUri(String uri) {
        return tx(h -> NodeTable.artifacts(h, "a.uri = :uri", q -> q.bind("uri", uri)));
    }

    public Optional<Artifact> findArtifact(String type, String name) {
        return tx(h -> NodeTable.artifacts(h, "t.kind = 'ARTIFACT' AND t.name = :type AND a.name = :name",
                q -> q.bind("type", type).bind("name", name))).stream().findFirst();
    }

    public List<Execution> executionsByType(String type) {
        return tx(h -> NodeTable.executions(h, "t.kind = 'EXECUTION' AND t.name = :type", q -> q.bind("type", type)));
    }

    public Optional<Execution> findExecution(String type, String name) {
        return tx(h -> NodeTable.executions(h, "t.kind = 'EXECUTION' AND t.name = :type AND x.name = :name",
                q -> q.bind("type", type).bind("name", name))).stream().findFirst();
    }

    public List<Context> contextsByType(String type) {
        return tx(h -> NodeTable.contexts(h, "t.kind = 'CONTEXT' AND t.name = :type", q -> q.bind("type", type)));
    }

    public Optional<Context> findContext(String type, String name) {
        return tx(h -> NodeTable.contexts(h, "t.kind = 'CONTEXT' AND t.name = :type AND c.name = :name",
                q -> q.bind("type", type).bind("name", name))).stream().findFirst();
    }

    // ---- events and links

    /**
     * Records events; every artifact and execution must exist ({@link NotFoundException} lists the missing ones),
     * and an event that repeats a stored (artifact, execution, type) is a {@link io.capstan.core.ConflictException}.
     * An event whose time is {@link Instant#EPOCH} is timed now.
     */
    public List<Event> putEvents(List<Event> events) {
        var copy = List.copyOf(events);
        return tx(h -> {
            EventTable.requireEndpoints(h, copy);
            var now = now();
            return copy.stream().map(e -> EventTable.insert(h, e, now)).toList();
        });
    }

    public List<Event> eventsByArtifact(long artifactId) {
        return tx(h -> EventTable.events(h, "artifact_id = :id", q -> q.bind("id", artifactId)));
    }

    public List<Event> eventsByExecution(long executionId) {
        return tx(h -> EventTable.events(h, "execution_id = :id", q -> q.bind("id", executionId)));
    }

    /** Links artifacts and executions to contexts; links that exist already are kept, and every id must exist. */
    public void putAttributionsAndAssociations(List<Attribution> attributions, List<Association> associations) {
        var attr = List.copyOf(attributions);
        var assoc = List.copyOf(associations);
        tx(h -> {
            var contextIds = new ArrayList<Long>();
            attr.forEach(a -> contextIds.add(a.contextId()));
            assoc.forEach(a -> contextIds.add(a.contextId()));
            LinkTable.requireAll(h, "md_context", "contexts", contextIds);
            LinkTable.requireAll(h, "md_artifact", "artifacts", attr.stream().map(Attribution::artifactId).toList());
            LinkTable.requireAll(h, "md_execution", "executions", assoc.stream().map(Association::executionId).toList());
            attr.forEach(a -> LinkTable.attribute(h, a.contextId(), a.artifactId()));
            assoc.forEach(a -> LinkTable.associate(h, a.contextId(), a.executionId()));
            return null;
        });
    }

    /** Adds parent links; existing links are kept, and a link that would close a cycle is refused. */
    public void putParentContexts(List<ParentContext> links) {
        var copy = List.copyOf(links);
        tx(h -> {
            var ids = new ArrayList<Long>();
            copy.forEach(l -> {
                ids.add(l.childId());
                ids.add(l.parentId());
            });
            LinkTable.requireAll(h, "md_context", "contexts", ids);
            copy.forEach(l -> LinkTable.parent(h, l));
            return null;
        });
    }

    public List<Artifact> artifactsByContext(long contextId) {
        return tx(h -> NodeTable.artifacts(h, "a.id IN (SELECT artifact_id FROM md_attribution WHERE context_id = :context)",
                q -> q.bind("context", contextId)));
    }

    public List<Execution> executionsByContext(long contextId) {
        return tx(h -> NodeTable.executions(h, "x.id IN (SELECT execution_id FROM md_association WHERE context_id = :context)",
                q -> q.bind("context", contextId)));
    }

    public List<Context> contextsByArtifact(long artifactId) {
        return tx(h -> NodeTable.contexts(h, "c.id IN (SELECT context_id FROM md_attribution WHERE artifact_id = :id)",
                q -> q.bind("id", artifactId)));
    }

    public List<Context> contextsByExecution(long executionId) {
        return tx(h -> NodeTable.contexts(h, "c.id IN (SELECT context_id FROM md_association WHERE execution_id = :id)",
                q -> q.bind("id", executionId)));
    }

    /** The direct parents of a context. */
    public List<Context> parentContexts(long contextId) {
        return tx(h -> NodeTable.contexts(h, "c.id IN (SELECT parent_id FROM md_parent_context WHERE child_id = :id)",
                q -> q.bind("id", contextId)));
    }

    /** The direct children of a context. */
    public List<Context> childContexts(long contextId) {
        return tx(h -> NodeTable.contexts(h, "c.id IN (SELECT child_id FROM md_parent_context WHERE parent_id = :id)",
                q -> q.bind("id", contextId)));
    }

    // ---- one task's record

    /**
     * Records one execution with its artifacts, events and contexts in one transaction, as MLMD's PutExecution:
     * the execution and each artifact are created (id 0) or replaced; each artifact gets an event of its type
     * unless the same event is already stored (so a retried task records nothing twice); a context with id 0 whose
     * type and name exist already is reused as it is, otherwise created or replaced; and every artifact and the
     * execution are linked to every context.
     */
    public RecordedExecution putExecution(Execution execution, List<ArtifactAndEvent> artifacts, List<Context> contexts) {
        Objects.requireNonNull(execution, "execution");
        var artifactsCopy = List.copyOf(artifacts);
        var contextsCopy = List.copyOf(contexts);
        return tx(h -> record(h, execution, artifactsCopy, contextsCopy, now()));
    }

    /**
     * Records several executions in one transaction, each as {@link #putExecution(Execution, List, List)} does,
     * except that a new execution (id 0) whose name is already taken in its type replaces the stored one, so a
     * caller that records by name need not look the execution up first. For many steps that end together this is
     * one commit instead of one per step.
     */
    public List<RecordedExecution> putExecutions(List<ExecutionRecord> records) {
        var copy = List.copyOf(records);
        if (copy.isEmpty()) return List.of();
        return tx(h -> new ExecutionBatch(h, now()).record(copy));
    }

    private static RecordedExecution record(Handle h, Execution execution, List<ArtifactAndEvent> artifacts, List<Context> contexts,
                                            Instant now) {
        var storedExecution = NodeTable.put(h, execution, now);
        var storedArtifacts = new ArrayList<Artifact>();
        for (var ae : artifacts) {
            var artifact = NodeTable.put(h, ae.artifact(), now);
            storedArtifacts.add(artifact);
            var event = new Event(artifact.id(), storedExecution.id(), ae.type(), ae.path(), now);
            if (!EventTable.exists(h, event)) EventTable.insert(h, event, now);
        }
        var storedContexts = new ArrayList<Context>();
        for (var c : contexts) {
            var context = c.isStored() ? Optional.<Context>empty() : NodeTable.contexts(h,
                    "t.kind = 'CONTEXT' AND t.name = :type AND c.name = :name",
                    q -> q.bind("type", c.type()).bind("name", c.name())).stream().findFirst();
            var stored = context.orElseGet(() -> NodeTable.put(h, c, now));
            storedContexts.add(stored);
            LinkTable.associate(h, stored.id(), storedExecution.id());
            for (var a : storedArtifacts) LinkTable.attribute(h, stored.id(), a.id());
        }
        return new RecordedExecution(storedExecution, storedArtifacts, storedContexts);
    }

    // ---- lineage

    /**
     * The lineage subgraph around the query's starting nodes, as MLMD's GetLineageSubgraph; see {@link LineageQuery}
     * and {@link LineageDirection}. A starting id that does not exist is a {@link NotFoundException}.
     */
    public LineageSubgraph lineage(LineageQuery query) {
        Objects.requireNonNull(query, "query");
        return tx(h -> LineageWalk.run(h, query));
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MILLIS);
    }

    private <T> T tx(HandleCallback<T, RuntimeException> callback) {
        return db.jdbi().inTransaction(callback);
    }
}
