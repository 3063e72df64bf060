package io.capstan.tuning;

import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.capstan.core.Resource;
import io.capstan.core.ResourceStatus;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Counts per trial phase and the best trial so far (succeeded or early stopped, with an objective value), and how
 * they read in an Experiment's status.
 */
record TrialCounts(List<Resource> trials, Map<TrialPhase, Integer> counts, Optional<Resource> best, double bestValue) {
    static TrialCounts of(List<Resource> trials, Objective objective) {
        var counts = new EnumMap<TrialPhase, Integer>(TrialPhase.class);
        Resource best = null;
        double bestValue = Double.NaN;
        for (var t : trials) {
            var phase = TrialPhase.ofStatus(t.status().phase());
            counts.merge(phase, 1, Integer::sum);
            if (phase != TrialPhase.Succeeded && phase != TrialPhase.EarlyStopped) continue;
            var value = TrialObservations.objectiveValue(TrialRunner.observationsOf(t), objective);
            if (value.isEmpty()) continue;
            if (best == null || objective.isBetter(value.getAsDouble(), bestValue)) {
                best = t;
                bestValue = value.getAsDouble();
            }
        }
        return new TrialCounts(List.copyOf(trials), counts, Optional.ofNullable(best), bestValue);
    }

    int count(TrialPhase phase) {
        return counts.getOrDefault(phase, 0);
    }

    int total() {
        return trials.size();
    }

    int active() {
        return count(TrialPhase.Created) + count(TrialPhase.Running);
    }

    int failed() {
        return count(TrialPhase.Failed) + count(TrialPhase.MetricsUnavailable);
    }

    int finished() {
        return total() - active();
    }

    ResourceStatus writeTo(ResourceStatus status, Objective objective) {
        var tally = this;
        var next = status.withField("trials", IntNode.valueOf(tally.total()))
                .withField("trialsPending", IntNode.valueOf(tally.count(TrialPhase.Created)))
                .withField("trialsRunning", IntNode.valueOf(tally.count(TrialPhase.Running)))
                .withField("trialsSucceeded", IntNode.valueOf(tally.count(TrialPhase.Succeeded)))
                .withField("trialsFailed", IntNode.valueOf(tally.failed()))
                .withField("trialMetricsUnavailable", IntNode.valueOf(tally.count(TrialPhase.MetricsUnavailable)))
                .withField("trialsEarlyStopped", IntNode.valueOf(tally.count(TrialPhase.EarlyStopped)))
                .withField("trialsKilled", IntNode.valueOf(tally.count(TrialPhase.Killed)));
        next = next.withField("pendingTrialList", names(tally, TrialPhase.Created))
                .withField("runningTrialList", names(tally, TrialPhase.Running))
                .withField("succeededTrialList", names(tally, TrialPhase.Succeeded))
                .withField("failedTrialList", names(tally, TrialPhase.Failed, TrialPhase.MetricsUnavailable))
                .withField("earlyStoppedTrialList", names(tally, TrialPhase.EarlyStopped))
                .withField("killedTrialList", names(tally, TrialPhase.Killed));
        if (tally.best().isPresent()) {
            var best = tally.best().get();
            var optimal = JsonNodeFactory.instance.objectNode();
            optimal.put("bestTrialName", best.metadata().name());
            var pa = optimal.putArray("parameterAssignments");
            TrialSpec.of(best.spec()).assignment().forEach((k, v) -> pa.addObject().put("name", k).put("value", v));
            optimal.set("observation", TrialObservations.katibObservation(TrialRunner.observationsOf(best), objective));
            next = next.withField("currentOptimalTrial", optimal);
        }
        return next;
    }

    private static com.fasterxml.jackson.databind.node.ArrayNode names(TrialCounts tally, TrialPhase... phases) {
        var arr = JsonNodeFactory.instance.arrayNode();
        for (var t : tally.trials()) {
            var p = TrialPhase.ofStatus(t.status().phase());
            for (var wanted : phases) if (p == wanted) arr.add(t.metadata().name());
        }
        return arr;
    }

    /** Why an experiment ends: a Katib condition reason and a sentence. */
    record Verdict(String reason, String message) {
    }
}
