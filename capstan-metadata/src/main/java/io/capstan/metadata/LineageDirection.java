package io.capstan.metadata;

/**
 * Which edges a lineage walk follows, as MLMD's {@code LineageSubgraphQueryOptions.Direction}.
 * {@link #UPSTREAM}: from an artifact to the executions that output it, and from an execution to its inputs.
 * {@link #DOWNSTREAM}: from an artifact to the executions that read it, and from an execution to its outputs.
 * {@link #BOTH}: every event in either direction at each hop (MLMD's {@code BIDIRECTIONAL}), so it also reaches
 * the other inputs of a consumer and the other outputs of a producer.
 */
public enum LineageDirection {
    UPSTREAM, DOWNSTREAM, BOTH
}
