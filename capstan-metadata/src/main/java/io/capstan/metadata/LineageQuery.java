package io.capstan.metadata;

import io.capstan.core.InvalidSpecException;
import java.util.Objects;
import java.util.Set;

/**
 * A lineage subgraph query: the nodes within {@code maxHops} of the starting artifacts and executions, walking in
 * {@code direction}. One hop is one event, artifact to execution or execution to artifact; 0 hops returns the
 * starting nodes. At most {@code maxNodes} nodes are returned, the nearest first.
 */
public record LineageQuery(Set<Long> artifactIds, Set<Long> executionIds, LineageDirection direction,
                           int maxHops, int maxNodes) {
    public static final int MAX_HOPS = 100;
    public static final int DEFAULT_MAX_NODES = 10_000;
    public static final int MAX_NODES = 1_000_000;

    public LineageQuery {
        artifactIds = Set.copyOf(artifactIds);
        executionIds = Set.copyOf(executionIds);
        Objects.requireNonNull(direction, "direction");
        if (artifactIds.isEmpty() && executionIds.isEmpty()) {
            throw new InvalidSpecException("lineage query needs at least one starting artifact or execution id");
        }
        for (long id : artifactIds) {
            if (id <= 0) throw new InvalidSpecException("lineage query: starting artifact id must be > 0, got " + id);
        }
        for (long id : executionIds) {
            if (id <= 0) throw new InvalidSpecException("lineage query: starting execution id must be > 0, got " + id);
        }
        if (maxHops < 0 || maxHops > MAX_HOPS) {
            throw new InvalidSpecException("lineage query: maxHops must be between 0 and " + MAX_HOPS + ", got " + maxHops);
        }
        if (maxNodes < 1 || maxNodes > MAX_NODES) {
            throw new InvalidSpecException("lineage query: maxNodes must be between 1 and " + MAX_NODES + ", got " + maxNodes);
        }
    }

    public static LineageQuery fromArtifacts(Set<Long> artifactIds, LineageDirection direction, int maxHops) {
        return new LineageQuery(artifactIds, Set.of(), direction, maxHops, DEFAULT_MAX_NODES);
    }

    public static LineageQuery fromExecutions(Set<Long> executionIds, LineageDirection direction, int maxHops) {
        return new LineageQuery(Set.of(), executionIds, direction, maxHops, DEFAULT_MAX_NODES);
    }

    public LineageQuery withMaxNodes(int maxNodes) {
        return new LineageQuery(artifactIds, executionIds, direction, maxHops, maxNodes);
    }
}
