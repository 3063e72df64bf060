package io.capstan.search.internal;

import io.capstan.search.SearchAlgorithm;
import io.capstan.search.SearchSpace;
import io.capstan.search.Suggestion;
import io.capstan.search.Trial;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Katib's {@code tpe} and {@code multivariate-tpe}, following Optuna's TPE sampler: after {@code n_startup_trials}
 * startup trials (random draws; for univariate TPE a randomly shifted Sobol sequence, which measured better there),
 * the finished trials split into the best {@code gamma(n)} and the rest; a Parzen estimator of each
 * ({@link ParzenEstimator}) scores {@code n_ei_candidates} draws from the good one by the ratio of the two
 * densities. Univariate TPE does this for each parameter on its own, multivariate TPE for whole points. Running
 * trials (and the call's earlier suggestions) join the bad group, as Optuna's constant liar does.
 */
public final class TreeParzenSearch implements SearchAlgorithm {
    private static final int FULL_WEIGHT_TRIALS = 25;

    /**
     * @param gamma the fraction of good trials as hyperopt defines it ({@code ceil(gamma * sqrt(n))}), or empty for
     *              Optuna's default {@code min(ceil(0.1 n), 25)}
     */
    public record Config(long seed, int startupTrials, int eiCandidates, OptionalDouble gamma, double priorWeight,
                         boolean multivariate) {
    }

    private final Config config;

    public TreeParzenSearch(Config config) {
        this.config = config;
    }

    @Override
    public List<Suggestion> suggest(SearchSpace searchSpace, List<Trial> history, int count) {
        UnitSpace space = UnitSpace.of(searchSpace);
        PointHistory observed = PointHistory.of(space, history);
        SplittableRandom random = Seeds.forCall(config.seed, history.size());
        Set<Map<String, String>> seen = new HashSet<>(observed.seen());
        List<double[]> pending = new ArrayList<>(observed.pending());
        List<Suggestion> suggestions = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            double[] next = observed.size() < config.startupTrials
                    ? (config.multivariate ? RandomSearch.draw(space, random) : startupPoint(space, history.size() + i))
                    : propose(space, observed, pending, random, seen);
            Map<String, String> assignment = space.assignment(next);
            if (!seen.add(assignment)) {
                assignment = RandomSearch.freshPoint(space, random, seen);
                if (assignment == null) break;
                seen.add(assignment);
            }
            pending.add(space.point(assignment).orElseThrow());
            suggestions.add(Suggestion.of(assignment));
        }
        return suggestions;
    }

    /**
     * Point {@code index + 1} of a Sobol sequence shifted at random (by {@code random_state}, modulo 1): the
     * startup trials cover the space more evenly than independent draws do, and stay reproducible.
     */
    private double[] startupPoint(UnitSpace space, int index) {
        if (space.size() == 0) return new double[0];
        SplittableRandom shiftRandom = Seeds.forCall(config.seed, -1);
        double[] p = SobolSearch.points(space.size(), index, 1).get(0); // skips the sequence's origin, as SobolSearch does
        for (int d = 0; d < p.length; d++) p[d] = (p[d] + shiftRandom.nextDouble()) % 1.0;
        return space.snap(p);
    }

    private double[] propose(UnitSpace space, PointHistory observed, List<double[]> pending, SplittableRandom random,
                             Set<Map<String, String>> seen) {
        int n = observed.size();
        Integer[] byLoss = new Integer[n];
        for (int i = 0; i < n; i++) byLoss[i] = i;
        double[] losses = observed.losses();
        Arrays.sort(byLoss, (a, b) -> Double.compare(losses[a], losses[b]));
        int goodCount = Math.max(1, Math.min(n, goodCount(n)));
        boolean[] good = new boolean[n];
        for (int i = 0; i < goodCount; i++) good[byLoss[i]] = true;
        List<double[]> goodPoints = new ArrayList<>();
        List<double[]> badPoints = new ArrayList<>();
        for (int i = 0; i < n; i++) (good[i] ? goodPoints : badPoints).add(observed.points().get(i));
        badPoints.addAll(pending);
        ParzenEstimator below = estimator(space, goodPoints);
        ParzenEstimator above = estimator(space, badPoints);
        return config.multivariate ? proposeJointly(space, below, above, random, seen) : proposeEachDimension(space, below, above, random);
    }

    private int goodCount(int n) {
        if (config.gamma.isPresent()) return Math.min((int) Math.ceil(config.gamma.getAsDouble() * Math.sqrt(n)), FULL_WEIGHT_TRIALS);
        return Math.min((int) Math.ceil(0.1 * n), FULL_WEIGHT_TRIALS);
    }

    private ParzenEstimator estimator(UnitSpace space, List<double[]> points) {
        return new ParzenEstimator(space, points.toArray(double[][]::new), weights(points.size()), config.priorWeight, config.multivariate);
    }

    /** Optuna's default weights: older trials fade linearly once there are more than 25. */
    static double[] weights(int n) {
        double[] w = new double[n];
        Arrays.fill(w, 1.0);
        int ramp = n - FULL_WEIGHT_TRIALS;
        for (int i = 0; i < ramp; i++) w[i] = ramp == 1 ? 1.0 / n : 1.0 / n + (1.0 - 1.0 / n) * i / (ramp - 1);
        return w;
    }

    private double[] proposeJointly(UnitSpace space, ParzenEstimator below, ParzenEstimator above, SplittableRandom random,
                                    Set<Map<String, String>> seen) {
        double[] best = null;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < config.eiCandidates; c++) {
            int kernel = below.pickKernel(random);
            double[] x = new double[space.size()];
            for (int j = 0; j < x.length; j++) x[j] = below.sample(j, kernel, random);
            double score = below.logDensity(x) - above.logDensity(x);
            if (score > bestScore && !seen.contains(space.assignment(x))) {
                bestScore = score;
                best = x;
            }
        }
        return best != null ? best : RandomSearch.draw(space, random);
    }

    private double[] proposeEachDimension(UnitSpace space, ParzenEstimator below, ParzenEstimator above, SplittableRandom random) {
        double[] x = new double[space.size()];
        for (int j = 0; j < x.length; j++) {
            double bestScore = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < config.eiCandidates; c++) {
                double v = below.sample(j, below.pickKernel(random), random);
                double score = below.logDensity(j, v) - above.logDensity(j, v);
                if (score > bestScore) {
                    bestScore = score;
                    x[j] = v;
                }
            }
        }
        return x;
    }
}
