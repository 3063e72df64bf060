package io.capstan.notebooks;

import com.fasterxml.jackson.databind.node.IntNode;
import io.capstan.core.ResourceStatus;

/**
 * A readiness probe's failure threshold for notebook servers: a Running notebook whose server misses fewer than
 * {@link #FAILURE_THRESHOLD} probes in a row stays Running, as a pod stays Ready until its probe fails three times.
 * A server busy starting a kernel can miss one probe; that must not turn the notebook Pending and close its proxy.
 */
final class MissedProbes {

    static final int FAILURE_THRESHOLD = 3;
    static final String FIELD = "missedProbes";

    private MissedProbes() {
    }

    /** {@code status} after a missed probe, when the notebook was Running and still is; empty once it is no longer Running. */
    static java.util.Optional<ResourceStatus> tolerated(ResourceStatus status) {
        if (!NotebookPhase.RUNNING.wireName().equals(status.phase())) return java.util.Optional.empty();
        int missed = status.field(FIELD).map(n -> n.asInt()).orElse(0) + 1;
        if (missed >= FAILURE_THRESHOLD) return java.util.Optional.empty();
        return java.util.Optional.of(status.withField(FIELD, IntNode.valueOf(missed)));
    }

    /** {@code status} after an answered probe. */
    static ResourceStatus answered(ResourceStatus status) {
        return status.field(FIELD).map(n -> n.asInt()).orElse(0) == 0 ? status : status.withField(FIELD, IntNode.valueOf(0));
    }
}
