package io.capstan.monitoring.slo;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * Cumulative counts of good and all events sampled over time, from which the error ratio of any recent window is
 * the bad events' increase over the total's increase since the last sample at or before the window's start (or the
 * oldest sample, while the history is shorter than the window). Samples older than {@code keep} are dropped. A
 * count that goes down (a counter that restarted) is carried on from where it was. Not thread-safe: one owner.
 */
public final class SliHistory {
    /** One sample: cumulative good and total events at a time. */
    public record Sample(Instant at, double good, double total) {
    }

    private final Duration keep;
    private final ArrayDeque<Sample> samples = new ArrayDeque<>();
    private double goodOffset;
    private double totalOffset;
    private double lastRawGood;
    private double lastRawTotal;

    public SliHistory(Duration keep) {
        this.keep = keep;
    }

    /** Adds the counts as read now. */
    public void record(Instant at, double good, double total) {
        if (total < lastRawTotal || good < lastRawGood) {
            goodOffset += lastRawGood;
            totalOffset += lastRawTotal;
        }
        lastRawGood = good;
        lastRawTotal = total;
        samples.addLast(new Sample(at, good + goodOffset, total + totalOffset));
        var oldest = at.minus(keep);
        // keep one sample at or before the horizon, so that the longest window still has its start
        while (samples.size() > 2) {
            Iterator<Sample> it = samples.iterator();
            it.next();
            if (it.next().at().isAfter(oldest)) break;
            samples.removeFirst();
        }
    }

    public boolean isEmpty() {
        return samples.isEmpty();
    }

    /** Events (good, total) in the window ending at the latest sample. */
    public double[] counts(Duration window) {
        if (samples.isEmpty()) return new double[] {0, 0};
        var last = samples.getLast();
        var from = last.at().minus(window);
        Sample start = samples.getFirst();
        for (var s : samples) {
            if (s.at().isAfter(from)) break;
            start = s;
        }
        return new double[] {last.good() - start.good(), last.total() - start.total()};
    }

    /** The share of bad events in the window; 0 when there were none at all. */
    public double errorRatio(Duration window) {
        var c = counts(window);
        return c[1] <= 0 ? 0 : Math.max(0, c[1] - c[0]) / c[1];
    }

    /** How many times faster than sustainable the budget burned over the window: error ratio / (1 − objective). */
    public double burnRate(Duration window, double errorBudget) {
        return errorRatio(window) / errorBudget;
    }

    /** Whether the alert fires: both its windows burn above its rate. */
    public boolean fires(BurnRateAlert alert, double errorBudget) {
        return burnRate(alert.longWindow(), errorBudget) > alert.burnRate() && burnRate(alert.shortWindow(), errorBudget) > alert.burnRate();
    }
}
