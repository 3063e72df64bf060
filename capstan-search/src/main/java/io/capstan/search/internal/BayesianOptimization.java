package io.capstan.search.internal;

import io.capstan.search.SearchAlgorithm;
import io.capstan.search.SearchSpace;
import io.capstan.search.Suggestion;
import io.capstan.search.Trial;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Katib's {@code bayesianoptimization}: a Gaussian process ({@link GaussianProcess}) over the unit cube, with
 * categorical parameters one-hot encoded and whole or listed values snapped before the acquisition sees them.
 * The first {@code n_initial_points} trials come from a randomly shifted Sobol sequence. Running trials, and the
 * earlier suggestions of the same call, count as observed at the best loss so far (constant liar), so parallel
 * trials spread out. The acquisition is maximised over random points and points near the best ones, then refined
 * by a pattern search. With {@code gp_hedge} (Katib's default) EI, PI and LCB each nominate a point from the same
 * predicted candidates, and one nominee is chosen by the portfolio's gains ({@link Acquisition#HEDGE}); the
 * nominees travel with the suggestion as the label {@value #NOMINEES} so that later calls can score them. An
 * instance remembers its latest kernel hyperparameters and starts the next fit there with one start instead of
 * two, except every {@value #FRESH_FIT_EVERY}th trial, which fits afresh.
 *
 * <p>Restarts, as trust-region methods such as TuRBO restart a collapsed region: once a phase has run
 * {@value #MIN_PHASE_FACTOR} times {@code n_initial_points} trials and its last {@value #RESTART_PATIENCE} have not
 * beaten its best by {@code xi} (the same margin EI and PI ask for), the basin it found counts as resolved and a new
 * phase begins: {@code n_initial_points} fresh points of the Sobol sequence, then a process fitted to the new
 * phase's trials only, so that the old basin's points no longer pin the model (its length scales, its idea of
 * where the good region is). EI and PI still measure improvement on the best loss of all phases. The phases are
 * worked out afresh from the history's losses on every call, so the algorithm keeps no state beyond its warm start.
 */
public final class BayesianOptimization implements SearchAlgorithm {
    /**
     * The acquisition function; LCB is skopt's name for UCB when minimising. HEDGE is skopt's {@code gp_hedge}: a
     * portfolio of EI, PI and LCB, each nominating its own maximiser; one nominee is picked with probability
     * proportional to {@code exp(gain)}, a gain being minus the sum of the process's current means at that
     * function's past nominees (standardised loss units), so a function whose nominees turned out good gains weight.
     */
    public enum Acquisition { EI, PI, LCB, HEDGE }

    /** The suggestion label holding each portfolio function's nominee (unit-cube coordinates), for gp_hedge. */
    public static final String NOMINEES = "bo-nominees";
    private static final Acquisition[] PORTFOLIO = {Acquisition.EI, Acquisition.PI, Acquisition.LCB};

    /** What the algorithm is configured with. */
    public record Config(long seed, int initialPoints, Acquisition acquisition, double xi, double kappa) {
    }

    private static final int HYPERPARAMETER_STARTS = 2;
    private static final int REFINED_CANDIDATES = 3;

    /** Fits more than this many trials apart start each from scratch and from the previous fit's hyperparameters. */
    private static final int FRESH_FIT_EVERY = 5;

    /** A phase that has not beaten its best by {@code xi} in this many trials is over... */
    static final int RESTART_PATIENCE = 10;
    /** ...once it has run at least this many times {@code n_initial_points} trials. */
    static final int MIN_PHASE_FACTOR = 4;

    private final Config config;
    /** The hyperparameters of this instance's latest fit: a warm start for the next, which then tries one start. */
    private volatile GaussianProcess.Hyperparameters warm;

    public BayesianOptimization(Config config) {
        this.config = config;
    }

    @Override
    public List<Suggestion> suggest(SearchSpace searchSpace, List<Trial> history, int count) {
        UnitSpace space = UnitSpace.of(searchSpace);
        PointHistory all = PointHistory.of(space, history);
        PointHistory observed = all.since(phaseStart(all.losses(), config.xi, RESTART_PATIENCE,
                MIN_PHASE_FACTOR * config.initialPoints));
        SplittableRandom random = Seeds.forCall(config.seed, history.size());
        Set<Map<String, String>> seen = new HashSet<>(observed.seen());
        List<Suggestion> suggestions = new ArrayList<>();
        int started = observed.size() + observed.pending().size();
        List<double[]> initial = initialDesign(space.size(), history.size(), count);
        List<double[]> lies = new ArrayList<>(observed.pending());
        Surrogate surrogate = null;
        double[] gains = null;
        for (int i = 0; i < count; i++) {
            double[] next;
            Map<String, String> labels = Map.of();
            if (started + i < config.initialPoints || observed.size() < 2) {
                next = initial.get(i);
            } else {
                if (surrogate == null) {
                    GaussianProcess.Hyperparameters start = all.size() % FRESH_FIT_EVERY == 0 ? null : warm;
                    double incumbent = Arrays.stream(all.losses()).min().orElseThrow();
                    surrogate = Surrogate.fit(space, observed, random, start, incumbent);
                    warm = surrogate.process().hyperparameters();
                    if (config.acquisition == Acquisition.HEDGE) gains = surrogate.gains(history);
                }
                Surrogate conditioned = surrogate.withLies(lies);
                if (config.acquisition == Acquisition.HEDGE) {
                    double[][] nominees = conditioned.maximise(config, PORTFOLIO, random, seen);
                    next = nominees[pick(gains, random)];
                    labels = Map.of(NOMINEES, encode(nominees));
                } else {
                    next = conditioned.maximise(config, new Acquisition[] {config.acquisition}, random, seen)[0];
                }
            }
            Map<String, String> assignment = space.assignment(next);
            if (!seen.add(assignment)) {
                assignment = RandomSearch.freshPoint(space, random, seen);
                if (assignment == null) break;
                seen.add(assignment);
                next = space.point(assignment).orElseThrow();
            }
            lies.add(space.snap(next));
            suggestions.add(new Suggestion(assignment, labels));
        }
        return suggestions;
    }

    /**
     * The index of the finished trial that begins the current phase: a phase that has run at least
     * {@code minimumLength} trials, and {@code patience} trials without beating its best by {@code tolerance} (small
     * gains add up until they do), is over, and the next trial begins a new one.
     */
    static int phaseStart(double[] losses, double tolerance, int patience, int minimumLength) {
        int start = 0;
        double anchor = Double.POSITIVE_INFINITY;
        int lastImprovement = 0;
        for (int t = 0; t < losses.length; t++) {
            if (anchor == Double.POSITIVE_INFINITY || losses[t] < anchor - tolerance) {
                anchor = losses[t];
                lastImprovement = t;
            }
            if (t + 1 - start >= minimumLength && t - lastImprovement >= patience) {
                start = t + 1;
                anchor = Double.POSITIVE_INFINITY;
            }
        }
        return start;
    }

    /** Softmax choice over the portfolio's gains. */
    private static int pick(double[] gains, SplittableRandom random) {
        double max = Arrays.stream(gains).max().orElseThrow();
        double[] p = new double[gains.length];
        double total = 0;
        for (int a = 0; a < gains.length; a++) total += p[a] = Math.exp(gains[a] - max);
        double u = random.nextDouble() * total;
        for (int a = 0; a < gains.length; a++) if ((u -= p[a]) < 0) return a;
        return gains.length - 1;
    }

    static String encode(double[][] nominees) {
        StringBuilder text = new StringBuilder();
        for (int a = 0; a < nominees.length; a++) {
            if (a > 0) text.append(';');
            for (int j = 0; j < nominees[a].length; j++) {
                if (j > 0) text.append(',');
                text.append((float) nominees[a][j]);
            }
        }
        return text.toString();
    }

    /** The nominees of a label, or null when it is missing or does not fit the space. */
    static double[][] decode(String text, int dimensions, int count) {
        if (text == null) return null;
        try {
            String[] parts = text.split(";");
            if (parts.length != count) return null;
            double[][] nominees = new double[count][];
            for (int a = 0; a < count; a++) {
                String[] values = parts[a].split(",");
                if (values.length != dimensions) return null;
                nominees[a] = new double[dimensions];
                for (int j = 0; j < dimensions; j++) {
                    double v = Double.parseDouble(values[j]);
                    if (!(v >= 0 && v <= 1)) return null;
                    nominees[a][j] = v;
                }
            }
            return nominees;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private List<double[]> initialDesign(int dimensions, int historySize, int count) {
        SplittableRandom shiftRandom = Seeds.forCall(config.seed, -1);
        double[] shift = new double[dimensions];
        for (int d = 0; d < dimensions; d++) shift[d] = shiftRandom.nextDouble();
        List<double[]> points = SobolSearch.points(dimensions, historySize, count);
        for (double[] p : points) for (int d = 0; d < dimensions; d++) p[d] = (p[d] + shift[d]) % 1.0;
        return points;
    }

    /** The process fitted to the finished trials, in standardised loss units, plus the points it is told to fear. */
    private record Surrogate(UnitSpace space, Features features, GaussianProcess process, double[][] x, double[] y,
                             double scale, double best, List<double[]> points) {

        /** The process fitted to {@code observed}; EI and PI measure improvement on {@code incumbent} when it is lower. */
        static Surrogate fit(UnitSpace space, PointHistory observed, SplittableRandom random,
                             GaussianProcess.Hyperparameters warm, double incumbent) {
            Features features = new Features(space);
            double[] losses = observed.losses();
            double mean = Arrays.stream(losses).average().orElseThrow();
            double variance = Arrays.stream(losses).map(v -> (v - mean) * (v - mean)).sum() / losses.length;
            double scale = variance > 0 ? Math.sqrt(variance) : 1.0;
            double[] y = Arrays.stream(losses).map(v -> (v - mean) / scale).toArray();
            double[][] x = observed.points().stream().map(p -> features.of(space.snap(p))).toArray(double[][]::new);
            GaussianProcess process = warm == null ? GaussianProcess.fit(x, y, random, HYPERPARAMETER_STARTS)
                    : GaussianProcess.fit(x, y, random, 1, warm);
            double best = Math.min(Arrays.stream(y).min().orElseThrow(), (incumbent - mean) / scale);
            return new Surrogate(space, features, process, x, y, scale, best, observed.points());
        }

        /** gp_hedge's gains: minus the sum of the current posterior means at each function's past nominees. */
        double[] gains(List<Trial> history) {
            double[] gains = new double[PORTFOLIO.length];
            double[] prediction = new double[2];
            for (Trial t : history) {
                if (PointHistory.loss(t).isEmpty()) continue;
                double[][] nominees = decode(t.labels().get(NOMINEES), space.size(), PORTFOLIO.length);
                if (nominees == null) continue;
                for (int a = 0; a < PORTFOLIO.length; a++) {
                    process.predict(features.of(space.snap(nominees[a])), prediction);
                    gains[a] -= prediction[0];
                }
            }
            return gains;
        }

        Surrogate withLies(List<double[]> lies) {
            if (lies.isEmpty()) return this;
            double[][] x2 = Arrays.copyOf(x, x.length + lies.size());
            double[] y2 = Arrays.copyOf(y, y.length + lies.size());
            for (int i = 0; i < lies.size(); i++) {
                x2[x.length + i] = features.of(lies.get(i));
                y2[y.length + i] = best;
            }
            GaussianProcess conditioned = GaussianProcess.condition(x2, y2, process.hyperparameters());
            return new Surrogate(space, features, conditioned, x, y, scale, best, points);
        }

        /**
         * The maximiser of each function in {@code acquisitions}. All share one pool of candidates, predicted once:
         * random points and points near the best trials. Each function refines its best few random candidates and,
         * separately, its best few near good trials, so that a far basin gets its chance against the incumbent's
         * neighbourhood.
         */
        double[][] maximise(Config config, Acquisition[] acquisitions, SplittableRandom random, Set<Map<String, String>> seen) {
            int d = space.size();
            List<double[]> candidates = new ArrayList<>();
            int randomCount = 500 + 100 * d;
            for (int i = 0; i < randomCount; i++) candidates.add(space.snap(RandomSearch.draw(space, random)));
            int[] order = bestFirst();
            for (int rank = 0; rank < Math.min(5, order.length); rank++) {
                double[] centre = points.get(order[rank]);
                for (double width : new double[] {0.1, 0.03, 0.01, 0.003, 0.001}) {
                    for (int k = 0; k < 10 * d / (rank + 1) + 4; k++) {
                        double[] c = new double[d];
                        for (int j = 0; j < d; j++) c[j] = Dimension.clamp(centre[j] + width * Seeds.gaussian(random));
                        candidates.add(space.snap(c));
                    }
                }
            }
            double[][] predictions = new double[candidates.size()][2];
            for (int i = 0; i < predictions.length; i++) process.predict(features.of(candidates.get(i)), predictions[i]);
            double[] prediction = new double[2];
            double[][] nominees = new double[acquisitions.length][];
            for (int a = 0; a < acquisitions.length; a++) {
                Acquisition acquisition = acquisitions[a];
                List<Scored> scored = new ArrayList<>(candidates.size());
                for (int i = 0; i < predictions.length; i++) {
                    scored.add(new Scored(candidates.get(i), value(predictions[i][0], predictions[i][1], config, acquisition)));
                }
                List<Scored> global = new ArrayList<>(scored.subList(0, randomCount));
                List<Scored> local = new ArrayList<>(scored.subList(randomCount, scored.size()));
                Scored best = null;
                for (List<Scored> pool : List.of(global, local)) {
                    pool.sort(Comparator.comparingDouble(Scored::value).reversed());
                    Set<Map<String, String>> refined = new HashSet<>();
                    for (Scored start : pool) {
                        if (refined.size() == REFINED_CANDIDATES) break;
                        if (!refined.add(space.assignment(start.point()))) continue;
                        Scored refinedPoint = patternSearch(start, config, acquisition, prediction, seen);
                        if (!seen.contains(space.assignment(refinedPoint.point())) && (best == null || refinedPoint.value() > best.value())) {
                            best = refinedPoint;
                        }
                    }
                }
                if (best == null) {
                    scored.sort(Comparator.comparingDouble(Scored::value).reversed());
                    best = scored.get(0);
                    for (Scored s : scored) {
                        if (!seen.contains(space.assignment(s.point()))) {
                            best = s;
                            break;
                        }
                    }
                }
                nominees[a] = best.point();
            }
            return nominees;
        }

        private int[] bestFirst() {
            Integer[] idx = new Integer[y.length];
            for (int i = 0; i < idx.length; i++) idx[i] = i;
            Arrays.sort(idx, Comparator.comparingDouble(i -> y[i]));
            return Arrays.stream(idx).mapToInt(Integer::intValue).toArray();
        }

        /** Compass search on the acquisition: try one step either way along each axis, halve the step when stuck. */
        private Scored patternSearch(Scored start, Config config, Acquisition acquisition, double[] prediction, Set<Map<String, String>> seen) {
            double[] point = start.point().clone();
            double value = start.value();
            double step = 0.05;
            while (step > 1e-4) {
                boolean improved = false;
                for (int j = 0; j < point.length; j++) {
                    for (double sign : new double[] {1, -1}) {
                        double[] trial = point.clone();
                        trial[j] = Dimension.clamp(trial[j] + sign * step);
                        trial = space.snap(trial);
                        if (Arrays.equals(trial, point)) continue;
                        double v = score(trial, config, acquisition, prediction);
                        if (v > value && !seen.contains(space.assignment(trial))) {
                            point = trial;
                            value = v;
                            improved = true;
                        }
                    }
                }
                if (!improved) step /= 2;
            }
            return new Scored(point, value);
        }

        private double score(double[] point, Config config, Acquisition acquisition, double[] prediction) {
            process.predict(features.of(point), prediction);
            return value(prediction[0], prediction[1], config, acquisition);
        }

        private double value(double mean, double sd, Config config, Acquisition acquisition) {
            double xi = config.xi() / scale;
            return switch (acquisition) {
                case EI -> {
                    double improvement = best - mean - xi;
                    double z = improvement / sd;
                    yield improvement * Normal.cdf(z) + sd * Normal.pdf(z);
                }
                case PI -> Normal.cdf((best - mean - xi) / sd);
                case LCB -> -(mean - config.kappa() * sd);
                case HEDGE -> throw new IllegalArgumentException("a portfolio, not one function");
            };
        }
    }

    private record Scored(double[] point, double value) {
    }

    /** Unit-cube points as GP inputs: categorical coordinates become one-hot blocks, the rest stay as they are. */
    private static final class Features {
        private final UnitSpace space;
        private final int width;

        Features(UnitSpace space) {
            this.space = space;
            int w = 0;
            for (Dimension d : space.dimensions()) w += d instanceof Dimension.Categorical c ? c.values().size() : 1;
            this.width = w;
        }

        double[] of(double[] u) {
            double[] f = new double[width];
            int at = 0;
            for (int i = 0; i < u.length; i++) {
                if (space.dimension(i) instanceof Dimension.Categorical c) {
                    f[at + Dimension.index(u[i], c.values().size())] = 1.0;
                    at += c.values().size();
                } else {
                    f[at++] = u[i];
                }
            }
            return f;
        }
    }
}
