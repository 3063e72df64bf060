package io.capstan.metadata;

import java.util.List;
import java.util.Map;

/**
 * The answer to a {@link LineageQuery}: the nodes reached (ordered by id), every event between two returned
 * nodes, the contexts the nodes belong to, and each node's distance in hops from the nearest starting node.
 * {@code truncated} is true when {@code maxNodes} cut off farther nodes.
 */
public record LineageSubgraph(List<Artifact> artifacts, List<Execution> executions, List<Event> events,
                              List<Context> contexts, Map<Long, Integer> artifactHops,
                              Map<Long, Integer> executionHops, boolean truncated) {
    public LineageSubgraph {
        artifacts = List.copyOf(artifacts);
        executions = List.copyOf(executions);
        events = List.copyOf(events);
        contexts = List.copyOf(contexts);
        artifactHops = Map.copyOf(artifactHops);
        executionHops = Map.copyOf(executionHops);
    }
}
