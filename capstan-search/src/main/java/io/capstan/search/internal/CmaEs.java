package io.capstan.search.internal;

import io.capstan.search.SearchAlgorithm;
import io.capstan.search.SearchSpace;
import io.capstan.search.Suggestion;
import io.capstan.search.Trial;
import io.capstan.search.TrialState;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.apache.commons.math3.linear.RealMatrix;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Katib's {@code cmaes}: the standard (mu/mu_w, lambda) CMA-ES (Hansen's tutorial) on the unit cube, starting at
 * its centre with step size {@code sigma}. The state is replayed from the history: each suggestion carries the
 * labels {@value #GENERATION} and {@value #INDEX}, and a generation is told once {@code lambda} of its trials have
 * finished (the first {@code lambda} in history order). While a generation waits for running trials, extra samples
 * of it keep parallel workers busy; they are not used for the update. Trials without these labels are ignored. A
 * sample that repeats a tried assignment (possible in small discrete spaces) is drawn again.
 *
 * <p>With {@code restart_strategy} {@code ipop} (Auger and Hansen 2005) a run that has converged or stagnated is
 * followed by a fresh one from a random mean with twice the population; {@code bipop} (Hansen 2009) alternates
 * such runs with small-population runs of a smaller, random step size, giving each regime about the same number of
 * trials. A run stops when its step size is below {@value #TOL_X} in every coordinate, when its best loss over the
 * last {@code 10 + ceil(30 n / lambda)} generations together with its current generation's losses spans less than
 * {@value #TOL_FUN}, when that window brought no improvement on its earlier best, or when the covariance's
 * condition number passes {@value #MAX_CONDITION}. Restarts are replayed from the history as generations are: each
 * suggestion of a restarted run also carries {@value #RESTART}.
 */
public final class CmaEs implements SearchAlgorithm {
    public static final String GENERATION = "cmaes-generation";
    public static final String INDEX = "cmaes-index";
    public static final String RESTART = "cmaes-restart";
    static final double TOL_X = 1e-5, TOL_FUN = 1e-12, MAX_CONDITION = 1e14;
    private static final int RESAMPLES_TO_STAY_INSIDE = 100;
    private static final int DRAWS_FOR_A_NEW_POINT = 50;

    /** Katib's {@code restart_strategy}. */
    public enum Restarts { NONE, IPOP, BIPOP }

    private final long seed;
    private final double initialSigma;
    private final Restarts restarts;

    public CmaEs(long seed, double initialSigma) {
        this(seed, initialSigma, Restarts.NONE);
    }

    public CmaEs(long seed, double initialSigma, Restarts restarts) {
        this.seed = seed;
        this.initialSigma = initialSigma;
        this.restarts = restarts;
    }

    @Override
    public List<Suggestion> suggest(SearchSpace searchSpace, List<Trial> history, int count) {
        UnitSpace space = UnitSpace.of(searchSpace);
        Map<List<Integer>, List<Trial>> byGeneration = new HashMap<>();
        for (Trial t : history) {
            String g = t.labels().get(GENERATION);
            if (g == null || !t.labels().containsKey(INDEX)) continue;
            int run = Integer.parseInt(t.labels().getOrDefault(RESTART, "0"));
            byGeneration.computeIfAbsent(List.of(run, Integer.parseInt(g)), k -> new ArrayList<>()).add(t);
        }
        Schedule schedule = new Schedule(space.size());
        int run = 0;
        State state = new State(space.size(), initialSigma, schedule.lambda0, null);
        int generation = 0;
        while (true) {
            List<Trial> trials = byGeneration.getOrDefault(List.of(run, generation), List.of());
            List<Trial> finished = trials.stream().filter(t -> t.state() != TrialState.RUNNING).limit(state.lambda).toList();
            if (finished.size() < state.lambda) break;
            state.tell(space, finished);
            generation++;
            if (restarts != Restarts.NONE && state.shouldStop()) {
                schedule.used(state);
                run++;
                generation = 0;
                state = schedule.next(run, space.size());
            }
        }
        List<Trial> current = byGeneration.getOrDefault(List.of(run, generation), List.of());
        int nextIndex = current.stream().mapToInt(t -> Integer.parseInt(t.labels().get(INDEX)) + 1).max().orElse(0);
        Set<Map<String, String>> seen = new HashSet<>();
        for (Trial t : history) seen.add(space.key(t.assignment()));
        List<Suggestion> suggestions = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int index = nextIndex + i;
            Map<String, String> assignment = null;
            for (int attempt = 0; attempt < DRAWS_FOR_A_NEW_POINT && assignment == null; attempt++) {
                SplittableRandom random = run == 0 ? Seeds.forCall(seed, generation, index, attempt)
                        : Seeds.forCall(seed, run, generation, index, attempt, 1);
                Map<String, String> candidate = space.assignment(state.sample(space, random));
                if (!seen.contains(candidate)) assignment = candidate;
            }
            if (assignment == null) {
                assignment = RandomSearch.freshPoint(space, run == 0 ? Seeds.forCall(seed, generation, index, -1)
                        : Seeds.forCall(seed, run, generation, index, -1, 1), seen);
            }
            if (assignment == null) break;
            seen.add(assignment);
            Map<String, String> labels = run == 0
                    ? Map.of(GENERATION, Integer.toString(generation), INDEX, Integer.toString(index))
                    : Map.of(GENERATION, Integer.toString(generation), INDEX, Integer.toString(index), RESTART, Integer.toString(run));
            suggestions.add(new Suggestion(assignment, labels));
        }
        return suggestions;
    }

    /** Population sizes and step sizes of the restarts, and the trials each regime has used (BIPOP). */
    private final class Schedule {
        final int lambda0;
        int largeRuns;
        long largeBudget, smallBudget;
        boolean lastWasLarge = true;

        Schedule(int n) {
            this.lambda0 = 4 + (int) Math.floor(3 * Math.log(n));
        }

        void used(State state) {
            long trials = (long) state.lambda * state.generation;
            if (lastWasLarge) largeBudget += trials;
            else smallBudget += trials;
        }

        State next(int run, int n) {
            SplittableRandom random = Seeds.forCall(seed, run, -7);
            double[] mean = new double[n];
            for (int i = 0; i < n; i++) mean[i] = random.nextDouble();
            if (restarts == Restarts.BIPOP && run > 1 && smallBudget < largeBudget) {
                double u = random.nextDouble();
                double largest = lambda0 * Math.pow(2, largeRuns);
                int lambda = Math.max(lambda0, (int) Math.floor(lambda0 * Math.pow(largest / (2.0 * lambda0), u * u)));
                lastWasLarge = false;
                return new State(n, initialSigma * Math.pow(10, -2 * random.nextDouble()), lambda, mean);
            }
            largeRuns++;
            lastWasLarge = true;
            return new State(n, initialSigma, lambda0 << Math.min(largeRuns, 20), mean);
        }
    }

    /** The evolving search distribution: mean, step size, covariance and evolution paths. */
    private static final class State {
        final int n, lambda, mu;
        final double[] weights;
        final double muEff, cc, cs, c1, cmu, damps, chiN;
        double[] mean;
        double sigma;
        double[][] c;
        double[] pc, ps;
        double[][] b;
        double[] diag;
        int generation;
        /** The best loss told in each generation, and the losses of the latest one (for the stopping tests). */
        final List<Double> bestPerGeneration = new ArrayList<>();
        double[] lastLosses = new double[0];

        State(int n, double sigma, int lambda, double[] start) {
            this.n = n;
            this.lambda = lambda;
            this.mu = lambda / 2;
            double[] w = new double[mu];
            double sum = 0;
            for (int i = 0; i < mu; i++) sum += w[i] = Math.log(mu + 0.5) - Math.log(i + 1);
            double squares = 0;
            for (int i = 0; i < mu; i++) squares += (w[i] /= sum) * w[i];
            this.weights = w;
            this.muEff = 1 / squares;
            this.cc = (4 + muEff / n) / (n + 4 + 2 * muEff / n);
            this.cs = (muEff + 2) / (n + muEff + 5);
            this.c1 = 2 / ((n + 1.3) * (n + 1.3) + muEff);
            this.cmu = Math.min(1 - c1, 2 * (muEff - 2 + 1 / muEff) / ((n + 2) * (n + 2) + muEff));
            this.damps = 1 + 2 * Math.max(0, Math.sqrt((muEff - 1) / (n + 1)) - 1) + cs;
            this.chiN = Math.sqrt(n) * (1 - 1.0 / (4 * n) + 1.0 / (21.0 * n * n));
            this.mean = new double[n];
            if (start == null) java.util.Arrays.fill(mean, 0.5);
            else this.mean = start.clone();
            this.sigma = sigma;
            this.c = identity(n);
            this.b = identity(n);
            this.diag = new double[n];
            java.util.Arrays.fill(diag, 1.0);
            this.pc = new double[n];
            this.ps = new double[n];
        }

        double[] sample(UnitSpace space, SplittableRandom random) {
            double[] x = new double[n];
            for (int attempt = 0; attempt < RESAMPLES_TO_STAY_INSIDE; attempt++) {
                double[] z = new double[n];
                for (int i = 0; i < n; i++) z[i] = diag[i] * Seeds.gaussian(random);
                boolean inside = true;
                for (int i = 0; i < n; i++) {
                    double step = 0;
                    for (int j = 0; j < n; j++) step += b[i][j] * z[j];
                    x[i] = mean[i] + sigma * step;
                    inside &= x[i] >= 0 && x[i] <= 1;
                }
                if (inside) break;
            }
            for (int i = 0; i < n; i++) x[i] = Dimension.clamp(x[i]);
            return space.snap(x);
        }

        void tell(UnitSpace space, List<Trial> finished) {
            List<double[]> points = new ArrayList<>();
            List<Double> losses = new ArrayList<>();
            for (Trial t : finished) {
                OptionalDouble loss = PointHistory.loss(t);
                var point = space.point(t.assignment());
                if (loss.isPresent() && point.isPresent()) {
                    points.add(point.get());
                    losses.add(loss.getAsDouble());
                }
            }
            generation++;
            lastLosses = losses.stream().mapToDouble(Double::doubleValue).toArray();
            bestPerGeneration.add(losses.stream().mapToDouble(Double::doubleValue).min().orElse(Double.POSITIVE_INFINITY));
            if (points.size() < 2) return;
            Integer[] order = new Integer[points.size()];
            for (int i = 0; i < order.length; i++) order[i] = i;
            java.util.Arrays.sort(order, (a, bb) -> Double.compare(losses.get(a), losses.get(bb)));
            int selected = Math.min(mu, points.size());
            double[] w = java.util.Arrays.copyOf(weights, selected);
            double total = java.util.Arrays.stream(w).sum();
            for (int i = 0; i < selected; i++) w[i] /= total;

            double[] oldMean = mean.clone();
            double[][] y = new double[selected][n];
            double[] newMean = new double[n];
            for (int k = 0; k < selected; k++) {
                double[] p = points.get(order[k]);
                for (int i = 0; i < n; i++) {
                    y[k][i] = (p[i] - oldMean[i]) / sigma;
                    newMean[i] += w[k] * p[i];
                }
            }
            double[] meanShift = new double[n];
            for (int i = 0; i < n; i++) meanShift[i] = (newMean[i] - oldMean[i]) / sigma;
            // C^{-1/2} * meanShift = B D^{-1} B^T meanShift
            double[] bt = new double[n];
            for (int j = 0; j < n; j++) for (int i = 0; i < n; i++) bt[j] += b[i][j] * meanShift[i];
            for (int j = 0; j < n; j++) bt[j] /= diag[j];
            double[] whitened = new double[n];
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) whitened[i] += b[i][j] * bt[j];
            double psNorm = 0;
            for (int i = 0; i < n; i++) {
                ps[i] = (1 - cs) * ps[i] + Math.sqrt(cs * (2 - cs) * muEff) * whitened[i];
                psNorm += ps[i] * ps[i];
            }
            psNorm = Math.sqrt(psNorm);
            boolean hsig = psNorm / Math.sqrt(1 - Math.pow(1 - cs, 2.0 * generation)) / chiN < 1.4 + 2.0 / (n + 1);
            for (int i = 0; i < n; i++) pc[i] = (1 - cc) * pc[i] + (hsig ? Math.sqrt(cc * (2 - cc) * muEff) * meanShift[i] : 0);
            double lost = hsig ? 0 : cc * (2 - cc);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j <= i; j++) {
                    double rankMu = 0;
                    for (int k = 0; k < selected; k++) rankMu += w[k] * y[k][i] * y[k][j];
                    c[i][j] = c[j][i] = (1 - c1 - cmu) * c[i][j] + c1 * (pc[i] * pc[j] + lost * c[i][j]) + cmu * rankMu;
                }
            }
            sigma *= Math.exp((cs / damps) * (psNorm / chiN - 1));
            sigma = Math.min(sigma, 1.0);
            mean = newMean;
            decompose();
        }

        /** Whether this run has converged or stagnated (see the class comment). */
        boolean shouldStop() {
            boolean tinySteps = true;
            for (int i = 0; i < n; i++) tinySteps &= sigma * Math.max(Math.sqrt(c[i][i]), Math.abs(pc[i])) < TOL_X;
            if (tinySteps) return true;
            double maxD = 0, minD = Double.POSITIVE_INFINITY;
            for (double v : diag) {
                maxD = Math.max(maxD, v);
                minD = Math.min(minD, v);
            }
            if (minD <= 0 || (maxD / minD) * (maxD / minD) > MAX_CONDITION) return true;
            int window = 10 + (int) Math.ceil(30.0 * n / lambda);
            int g = bestPerGeneration.size();
            if (g <= window) return false;
            double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
            for (double v : bestPerGeneration.subList(g - window, g)) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
            for (double v : lastLosses) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
            if (hi - lo < TOL_FUN) return true;
            double before = Double.POSITIVE_INFINITY;
            for (double v : bestPerGeneration.subList(0, g - window)) before = Math.min(before, v);
            double recent = Double.POSITIVE_INFINITY;
            for (double v : bestPerGeneration.subList(g - window, g)) recent = Math.min(recent, v);
            return !(recent < before - TOL_FUN * Math.max(1, Math.abs(before)));
        }

        private void decompose() {
            RealMatrix matrix = new Array2DRowRealMatrix(c);
            EigenDecomposition eigen = new EigenDecomposition(matrix);
            double[] values = eigen.getRealEigenvalues();
            for (int j = 0; j < n; j++) {
                diag[j] = Math.sqrt(Math.max(values[j], 1e-20));
                for (int i = 0; i < n; i++) b[i][j] = eigen.getV().getEntry(i, j);
            }
        }

        private static double[][] identity(int n) {
            double[][] m = new double[n][n];
            for (int i = 0; i < n; i++) m[i][i] = 1;
            return m;
        }
    }
}
