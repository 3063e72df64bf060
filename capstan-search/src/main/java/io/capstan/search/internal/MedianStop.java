package io.capstan.search.internal;

import io.capstan.search.EarlyStoppingRule;
import io.capstan.search.Intermediate;
import io.capstan.search.Trial;
import io.capstan.search.TrialState;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Katib's {@code medianstop}: a running trial that has reported at least {@code start_step} values stops when its
 * best value so far is worse than the median, over at least {@code min_trials_required} succeeded trials, of each
 * one's running average up to the same step.
 */
public final class MedianStop implements EarlyStoppingRule {
    private final int minTrialsRequired;
    private final int startStep;

    public MedianStop(int minTrialsRequired, int startStep) {
        this.minTrialsRequired = minTrialsRequired;
        this.startStep = startStep;
    }

    @Override
    public boolean shouldStop(Trial running, List<Trial> history) {
        List<Intermediate> reported = running.intermediates();
        if (running.state() != TrialState.RUNNING || reported.size() < startStep) return false;
        long step = reported.get(reported.size() - 1).step();
        double best = reported.stream().mapToDouble(Intermediate::loss).min().orElseThrow();
        List<Double> averages = new ArrayList<>();
        for (Trial t : history) {
            if (t.state() != TrialState.SUCCEEDED || t.name().equals(running.name())) continue;
            double[] upToStep = t.intermediates().stream().filter(i -> i.step() <= step).mapToDouble(Intermediate::loss).toArray();
            if (upToStep.length > 0) averages.add(Arrays.stream(upToStep).average().orElseThrow());
        }
        if (averages.size() < minTrialsRequired || averages.isEmpty()) return false;
        return best > median(averages);
    }

    private static double median(List<Double> values) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
