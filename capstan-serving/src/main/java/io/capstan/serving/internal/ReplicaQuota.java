package io.capstan.serving.internal;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Quantity;
import io.capstan.core.quota.QuotaLedger;
import io.capstan.core.quota.QuotaUsage;
import java.util.Map;
import java.util.Optional;

/**
 * What each model replica of one revision takes from its namespace's quota: one pod plus the predictor's declared
 * {@code resources.requests} (or its {@code limits} where it declares no requests, as Kubernetes defaults them). The
 * replicas run in-process, so this is accounting only: it bounds how many replicas a namespace may have, as the
 * same requests would in Kubernetes. Thread-safe, through the ledger.
 */
record ReplicaQuota(QuotaLedger ledger, String namespace, QuotaUsage perReplica) {
    static final String WHAT = "this replica";

    /** Thrown when a revision cannot get even its first replica now: it waits, and is tried again. */
    static final class Exceeded extends RuntimeException {
        Exceeded(String message) {
            super(message);
        }
    }

    /** Takes one replica's share for {@code holder}, or says why not, naming the quota. */
    Optional<String> take(String holder) {
        return ledger.tryCharge(namespace, Map.of(holder, perReplica), WHAT);
    }

    void release(String holder) {
        ledger.release(holder);
    }

    /** Why one replica could never fit the namespace's quota, even alone. */
    Optional<String> neverFits(String service) {
        return ledger.neverFits(namespace, perReplica, "each replica of InferenceService " + service);
    }

    /**
     * One replica's usage from the predictor's model (at {@code modelPath}, such as {@code spec.predictor.model})
     * in the InferenceService {@code spec}.
     *
     * @throws InvalidSpecException naming the field when a quantity does not parse
     */
    static QuotaUsage usageOf(JsonNode spec, String modelPath) {
        var node = spec;
        for (var part : modelPath.replaceFirst("^spec\\.", "").split("\\.")) node = node.path(part);
        var resources = node.path("resources");
        var requests = resources.path("requests").isObject() ? resources.path("requests") : resources.path("limits");
        var field = modelPath + ".resources." + (resources.path("requests").isObject() ? "requests" : "limits");
        double cpus = requests.hasNonNull("cpu") ? Quantity.cpus(field + ".cpu", requests.path("cpu").asText()) : 0;
        long memory = requests.hasNonNull("memory") ? Quantity.bytes(field + ".memory", requests.path("memory").asText()) : 0;
        var gpuNode = requests.hasNonNull("nvidia.com/gpu") ? requests.path("nvidia.com/gpu") : resources.path("limits").path("nvidia.com/gpu");
        long gpus = gpuNode.isMissingNode() || gpuNode.isNull() ? 0 : Quantity.parse(field + ".nvidia.com/gpu", gpuNode.asText()).longValue();
        return QuotaUsage.ofPod(cpus, memory, (int) gpus);
    }
}
