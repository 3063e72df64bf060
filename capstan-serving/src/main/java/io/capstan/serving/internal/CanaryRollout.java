package io.capstan.serving.internal;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.ResourceKey;
import io.capstan.serving.api.RolloutFreeze;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The progress of a canary rollout under {@link RolloutSpec}, kept in the InferenceService's {@code status.rollout}
 * (revision, phase, step, weight, failures, and every analysis decision with its statistics) so that it survives a
 * restart; the samples of the current step live only here, and a restart starts the step's sampling again.
 */
final class CanaryRollout {
    static final String PROGRESSING = "Progressing";
    static final String AWAITING_APPROVAL = "AwaitingApproval";
    static final String PROMOTED = "Promoted";
    static final String ROLLED_BACK = "RolledBack";
    static final String CANCELLED = "Cancelled";
    /** Decisions kept in the status; older ones are dropped. */
    static final int KEPT_DECISIONS = 50;

    private record Sampling(int revision, int step, CanaryCohorts cohorts) {
    }

    private final Map<ResourceKey, Sampling> sampling = new ConcurrentHashMap<>();
    private volatile RolloutFreeze freeze = RolloutFreeze.NEVER;
    private volatile io.capstan.serving.api.CanaryInputReference inputReference = io.capstan.serving.api.CanaryInputReference.NONE;

    void inputReference(io.capstan.serving.api.CanaryInputReference reference) {
        this.inputReference = reference == null ? io.capstan.serving.api.CanaryInputReference.NONE : reference;
    }

    void freeze(RolloutFreeze freeze) {
        this.freeze = freeze == null ? RolloutFreeze.NEVER : freeze;
    }

    /** A new rollout of {@code canary} against {@code stable}, at its first step. */
    static ObjectNode start(String isvc, int canary, int stable, RolloutSpec spec, Instant now) {
        var node = JsonNodeFactory.instance.objectNode();
        node.put("revisionName", RevisionRecord.nameOf(isvc, canary)).put("revision", canary)
                .put("stableRevisionName", RevisionRecord.nameOf(isvc, stable)).put("stableRevision", stable)
                .put("phase", PROGRESSING).put("step", 0).put("weight", spec.stepWeights().getFirst()).put("failures", 0)
                .put("startedAt", now.toString()).put("lastAnalysisAt", now.toString())
                .put("message", "analysing at " + spec.stepWeights().getFirst() + "% against a baseline cohort of equal traffic");
        node.putArray("analysis");
        return node;
    }

    static String phase(ObjectNode state) {
        return state.path("phase").asText();
    }

    static boolean analysing(ObjectNode state) {
        return phase(state).equals(PROGRESSING) || phase(state).equals(AWAITING_APPROVAL);
    }

    /** The state of a rollout stopped without a decision; traffic then follows the spec as without the annotation. */
    static ObjectNode cancelled(ObjectNode state, String why, Instant now) {
        var next = state.deepCopy();
        next.put("phase", CANCELLED).put("finishedAt", now.toString()).put("message", "cancelled: " + why);
        return next;
    }

    /** The cohorts that requests of this step count towards. */
    CanaryCohorts cohorts(ResourceKey key, ObjectNode state) {
        int revision = state.path("revision").asInt();
        int step = state.path("step").asInt();
        var current = sampling.get(key);
        if (current == null || current.revision() != revision || current.step() != step) {
            current = new Sampling(revision, step, new CanaryCohorts());
            sampling.put(key, current);
        }
        return current.cohorts();
    }

    void forget(ResourceKey key) {
        sampling.remove(key);
    }

    /** How long until the next analysis is due; zero when it is due now. */
    static Duration untilNext(ObjectNode state, RolloutSpec spec, Instant now) {
        var due = Instant.parse(state.path("lastAnalysisAt").asText(now.toString())).plus(spec.interval());
        return due.isAfter(now) ? Duration.between(now, due) : Duration.ZERO;
    }

    /**
     * Judges the step when its interval has passed (and, awaiting approval, looks for it), returning the next state: a
     * copy of {@code state}. Too few samples is Inconclusive and waits another interval; a failed critical check, or
     * {@code failureLimit} failures, rolls back; a pass advances a step or, at the last, promotes (or awaits approval).
     */
    ObjectNode advance(ResourceKey key, ObjectNode state, RolloutSpec spec, String approval, Instant now) {
        var next = state.deepCopy();
        var phase = phase(next);
        var frozen = freeze.frozen(key.namespace(), key.name());
        if (phase.equals(AWAITING_APPROVAL)) {
            if (next.path("revisionName").asText().equals(approval) && frozen.isEmpty()) {
                promote(key, next, "approved by " + RolloutSpec.APPROVE_ANNOTATION, now);
            } else if (frozen.isPresent()) {
                next.put("message", "frozen: " + frozen.get());
            }
            return next;
        }
        if (!phase.equals(PROGRESSING) || !untilNext(next, spec, now).isZero()) return next;
        var cohorts = cohorts(key, next);
        var canary = cohorts.samples(CanaryCohorts.Cohort.CANARY);
        var baseline = cohorts.samples(CanaryCohorts.Cohort.BASELINE);
        double[][] reference = null;
        if (canary.inputs().length > 0 && spec.checks().stream().anyMatch(c -> c.kind() == RolloutSpec.Kind.INPUT_DRIFT)) {
            try {
                reference = inputReference.reference(key.namespace(), key.name(), canary.inputs().length).orElse(null);
            } catch (RuntimeException e) {
                System.getLogger(CanaryRollout.class.getName()).log(System.Logger.Level.WARNING,
                        "no training reference for the canary of " + key + "; its inputs are compared with the baseline's: " + e.getMessage());
            }
        }
        var verdict = CanaryJudge.judge(spec, canary, baseline, reference);
        int step = next.path("step").asInt();
        var decision = JsonNodeFactory.instance.objectNode();
        decision.put("time", now.toString()).put("step", step).put("weight", spec.stepWeights().get(step))
                .put("result", switch (verdict.outcome()) {
                    case PASS -> "Pass";
                    case FAIL -> "Fail";
                    case INCONCLUSIVE -> "Inconclusive";
                })
                .put("canarySamples", canary.requests()).put("baselineSamples", baseline.requests());
        var checks = decision.putArray("checks");
        verdict.checks().forEach(checks::add);
        next.put("lastAnalysisAt", now.toString());
        String action;
        switch (verdict.outcome()) {
            case INCONCLUSIVE -> action = "wait: " + verdict.message();
            case FAIL -> {
                int failures = next.path("failures").asInt() + 1;
                next.put("failures", failures);
                if (verdict.critical() || failures >= spec.failureLimit()) {
                    action = "rolled back: " + verdict.message() + (verdict.critical() ? "" : " (" + failures + " of " + spec.failureLimit() + " failures)");
                    next.put("phase", ROLLED_BACK).put("weight", 0).put("finishedAt", now.toString());
                    forget(key);
                } else {
                    action = "retry step: " + verdict.message() + " (" + failures + " of " + spec.failureLimit() + " failures)";
                    sampling.remove(key);
                }
            }
            default -> {
                if (frozen.isPresent()) {
                    action = "hold: passed, but frozen: " + frozen.get();
                    sampling.remove(key);
                } else if (step + 1 < spec.stepWeights().size()) {
                    next.put("step", step + 1).put("weight", spec.stepWeights().get(step + 1));
                    action = "advance to " + spec.stepWeights().get(step + 1) + "%";
                } else if (spec.manualGate() && !next.path("revisionName").asText().equals(approval)) {
                    next.put("phase", AWAITING_APPROVAL);
                    action = "await approval: set " + RolloutSpec.APPROVE_ANNOTATION + " to " + next.path("revisionName").asText();
                } else {
                    action = "promote";
                    promote(key, next, "every step passed", now);
                }
            }
        }
        decision.put("action", action);
        next.put("message", action);
        var analysis = next.has("analysis") && next.get("analysis").isArray() ? (ArrayNode) next.get("analysis") : next.putArray("analysis");
        analysis.add(decision);
        while (analysis.size() > KEPT_DECISIONS) analysis.remove(0);
        return next;
    }

    private void promote(ResourceKey key, ObjectNode state, String why, Instant now) {
        state.put("phase", PROMOTED).put("weight", 100).put("finishedAt", now.toString()).put("message", "promoted: " + why);
        forget(key);
    }

    static Optional<ObjectNode> of(io.capstan.core.Resource isvc) {
        return isvc.status().field("rollout").filter(n -> n.isObject()).map(n -> ((ObjectNode) n).deepCopy());
    }
}
