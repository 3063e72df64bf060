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
 * by a pattern search.
 */
public final class BayesianOptimization implements SearchAlgorithm {
    /** The acquisition function; LCB is skopt's name for UCB when minimising. */
    public enum Acquisition { EI, PI, LCB }

    /** What the algorithm is configured with. */
    public record Config(long seed, int initialPoints, Acquisition acquisition, double xi, double kappa) {
    }

    private static final int HYPERPARAMETER_STARTS = 2;
    private static final int REFINED_CANDIDATES = 3;

    private final Config config;

    public BayesianOptimization(Config config) {
        this.config = config;
    }

    @Override
    public List<Suggestion> suggest(SearchSpace searchSpace, List<Trial> history, int count) {
        UnitSpace space = UnitSpace.of(searchSpace);
        Observations observed = Observations.of(space, history);
        SplittableRandom random = Seeds.forCall(config.seed, history.size());
        Set<Map<String, String>> seen = new HashSet<>(observed.seen());
        List<Suggestion> suggestions = new ArrayList<>();
        int started = observed.size() + observed.pending().size();
        List<double[]> initial = initialDesign(space.size(), history.size(), count);
        List<double[]> lies = new ArrayList<>(observed.pending());
        Surrogate surrogate = null;
        for (int i = 0; i < count; i++) {
            double[] next;
            if (started + i < config.initialPoints || observed.size() < 2) {
                next = initial.get(i);
            } else {
                if (surrogate == null) surrogate = Surrogate.fit(space, observed, random);
                next = surrogate.withLies(lies).maximise(config, random, seen);
            }
            Map<String, String> assignment = space.assignment(next);
            if (!seen.add(assignment)) {
                assignment = RandomSearch.freshPoint(space, random, seen);
                if (assignment == null) break;
                seen.add(assignment);
                next = space.point(assignment).orElseThrow();
            }
            lies.add(space.snap(next));
            suggestions.add(Suggestion.of(assignment));
        }
        return suggestions;
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

        static Surrogate fit(UnitSpace space, Observations observed, SplittableRandom random) {
            Features features = new Features(space);
            double[] losses = observed.losses();
            double mean = Arrays.stream(losses).average().orElseThrow();
            double variance = Arrays.stream(losses).map(v -> (v - mean) * (v - mean)).sum() / losses.length;
            double scale = variance > 0 ? Math.sqrt(variance) : 1.0;
            double[] y = Arrays.stream(losses).map(v -> (v - mean) / scale).toArray();
            double[][] x = observed.points().stream().map(p -> features.of(space.snap(p))).toArray(double[][]::new);
            GaussianProcess process = GaussianProcess.fit(x, y, random, HYPERPARAMETER_STARTS);
            double best = Arrays.stream(y).min().orElseThrow();
            return new Surrogate(space, features, process, x, y, scale, best, observed.points());
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

        double[] maximise(Config config, SplittableRandom random, Set<Map<String, String>> seen) {
            int d = space.size();
            List<double[]> candidates = new ArrayList<>();
            int randomCount = 500 + 100 * d;
            for (int i = 0; i < randomCount; i++) candidates.add(RandomSearch.draw(space, random));
            int[] order = bestFirst();
            for (int rank = 0; rank < Math.min(5, order.length); rank++) {
                double[] centre = points.get(order[rank]);
                for (double width : new double[] {0.1, 0.03, 0.01, 0.003, 0.001}) {
                    for (int k = 0; k < 10 * d / (rank + 1) + 4; k++) {
                        double[] c = new double[d];
                        for (int j = 0; j < d; j++) c[j] = Dimension.clamp(centre[j] + width * Seeds.gaussian(random));
                        candidates.add(c);
                    }
                }
            }
            double[] prediction = new double[2];
            List<Scored> scored = new ArrayList<>(candidates.size());
            for (double[] c : candidates) {
                double[] snapped = space.snap(c);
                scored.add(new Scored(snapped, score(snapped, config, prediction)));
            }
            // Refine the best random candidates and, separately, the best ones near good trials, so that a far
            // basin gets its chance against the incumbent's neighbourhood.
            List<Scored> global = new ArrayList<>(scored.subList(0, randomCount));
            List<Scored> local = new ArrayList<>(scored.subList(randomCount, scored.size()));
            Scored best = null;
            for (List<Scored> pool : List.of(global, local)) {
                pool.sort(Comparator.comparingDouble(Scored::value).reversed());
                Set<Map<String, String>> refined = new HashSet<>();
                for (Scored start : pool) {
                    if (refined.size() == REFINED_CANDIDATES) break;
                    if (!refined.add(space.assignment(start.point()))) continue;
                    Scored refinedPoint = patternSearch(start, config, prediction, seen);
                    if (!seen.contains(space.assignment(refinedPoint.point())) && (best == null || refinedPoint.value() > best.value())) {
                        best = refinedPoint;
                    }
                }
            }
            if (best == null) {
                scored.sort(Comparator.comparingDouble(Scored::value).reversed());
                for (Scored s : scored) if (!seen.contains(space.assignment(s.point()))) return s.point();
                return scored.get(0).point();
            }
            return best.point();
        }

        private int[] bestFirst() {
            Integer[] idx = new Integer[y.length];
            for (int i = 0; i < idx.length; i++) idx[i] = i;
            Arrays.sort(idx, Comparator.comparingDouble(i -> y[i]));
            return Arrays.stream(idx).mapToInt(Integer::intValue).toArray();
        }

        /** Compass search on the acquisition: try one step either way along each axis, halve the step when stuck. */
        private Scored patternSearch(Scored start, Config config, double[] prediction, Set<Map<String, String>> seen) {
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
                        double v = score(trial, config, prediction);
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

        private double score(double[] point, Config config, double[] prediction) {
            process.predict(features.of(point), prediction);
            double mean = prediction[0];
            double sd = prediction[1];
            double xi = config.xi() / scale;
            return switch (config.acquisition()) {
                case EI -> {
                    double improvement = best - mean - xi;
                    double z = improvement / sd;
                    yield improvement * Normal.cdf(z) + sd * Normal.pdf(z);
                }
                case PI -> Normal.cdf((best - mean - xi) / sd);
                case LCB -> -(mean - config.kappa() * sd);
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
