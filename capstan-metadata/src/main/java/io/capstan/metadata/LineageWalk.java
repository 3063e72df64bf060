package io.capstan.metadata;

import io.capstan.core.NotFoundException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.locator.ClasspathSqlLocator;

/**
 * MLMD's GetLineageSubgraph: one recursive query finds the nodes and their distances, then the nodes, the events
 * between them and their contexts are fetched by id. Runs inside the caller's transaction.
 */
final class LineageWalk {
    private static final String WALK_SQL = ClasspathSqlLocator.removingComments().locate(LineageWalk.class, "walk");
    private static final int ARTIFACT = 0;

    private LineageWalk() {
    }

    static LineageSubgraph run(Handle h, LineageQuery q) {
        record Node(int kind, long id, int hops) {}
        boolean up = q.direction() != LineageDirection.DOWNSTREAM;
        boolean down = q.direction() != LineageDirection.UPSTREAM;
        var missingArtifacts = NodeTable.missing(h, "md_artifact", q.artifactIds());
        var missingExecutions = NodeTable.missing(h, "md_execution", q.executionIds());
        if (!missingArtifacts.isEmpty() || !missingExecutions.isEmpty()) {
            throw new NotFoundException("lineage query starts from artifacts %s and executions %s, which do not exist"
                    .formatted(missingArtifacts, missingExecutions));
        }
        var nodes = h.createQuery(WALK_SQL)
                .bindArray("artifactIds", Long.class, q.artifactIds())
                .bindArray("executionIds", Long.class, q.executionIds())
                .bind("up", up).bind("down", down)
                .bind("maxHops", q.maxHops())
                .bind("limit", q.maxNodes() + 1)
                .map((rs, ctx) -> new Node(rs.getInt("kind"), rs.getLong("id"), rs.getInt("hops")))
                .list();
        boolean truncated = nodes.size() > q.maxNodes();
        if (truncated) nodes = nodes.subList(0, q.maxNodes());

        Map<Long, Integer> artifactHops = new HashMap<>();
        Map<Long, Integer> executionHops = new HashMap<>();
        for (var n : nodes) (n.kind() == ARTIFACT ? artifactHops : executionHops).put(n.id(), n.hops());
        var artifacts = NodeTable.artifactsById(h, artifactHops.keySet());
        var executions = NodeTable.executionsById(h, executionHops.keySet());
        artifactHops.keySet().retainAll(artifacts.stream().map(Artifact::id).toList());
        executionHops.keySet().retainAll(executions.stream().map(Execution::id).toList());
        var events = EventTable.between(h, artifactHops.keySet(), executionHops.keySet());
        var contextIds = new ArrayList<Long>();
        if (!artifactHops.isEmpty() || !executionHops.isEmpty()) {
            contextIds.addAll(h.createQuery("""
                            SELECT context_id FROM md_attribution WHERE artifact_id IN (SELECT CAST(a.id AS BIGINT) FROM UNNEST(:artifacts) AS a(id))
                            UNION
                            SELECT context_id FROM md_association WHERE execution_id IN (SELECT CAST(x.id AS BIGINT) FROM UNNEST(:executions) AS x(id))""")
                    .bindArray("artifacts", Long.class, artifactHops.keySet())
                    .bindArray("executions", Long.class, executionHops.keySet())
                    .mapTo(Long.class).list());
        }
        var contexts = NodeTable.contextsById(h, contextIds);
        return new LineageSubgraph(artifacts, executions, events, contexts, artifactHops, executionHops, truncated);
    }
}
