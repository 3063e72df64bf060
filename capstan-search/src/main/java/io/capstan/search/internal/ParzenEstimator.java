package io.capstan.search.internal;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Optuna's Parzen estimator (3.x) on the unit cube: one kernel per observation plus a prior kernel, truncated
 * normals for numbers (mass of the value's slice for listed values) and smoothed choice distributions for
 * categories. Univariate estimators size each kernel by its neighbours' distances; multivariate ones use Scott's
 * rule, as Optuna does, and keep dimensions together in each kernel. Univariate estimators depart from Optuna in
 * two ways, both measured on Branin and Hartmann6 over 30 seeds (bench/hpo-bench.sh): each kernel is
 * {@value #NEIGHBOUR_BANDWIDTH_FACTOR} of the neighbour gap, and the minimum width (Optuna's magic clip) is
 * {@value #MAGIC_CLIP_FACTOR} of Optuna's, so the search narrows in on a good region sooner. The prior kernel keeps
 * the whole range as its width. Multivariate estimators are Optuna's.
 */
final class ParzenEstimator {
    private static final double SIGMA0_MAGNITUDE = 0.2;
    /**
     * Optuna's magic clip keeps every kernel at least {@code 1 / min(100, 1 + kernels)} of the range wide; the
     * univariate estimator uses {@value} of that, so the good group's kernels can narrow as the search closes in.
     * (Multivariate kernels keep Optuna's clip: Scott's rule already sets their width.)
     */
    static final double MAGIC_CLIP_FACTOR = 0.4;
    /** Univariate kernels are this fraction of the larger gap to their neighbours (Optuna: the whole gap). */
    static final double NEIGHBOUR_BANDWIDTH_FACTOR = 0.6;

    private final UnitSpace space;
    private final double[] logWeights;
    /** Per dimension and kernel: centre and width (numeric dimensions). */
    private final double[][] mus, sigmas;
    /** Per categorical dimension, kernel and choice: log probability. */
    private final double[][][] logChoices;

    ParzenEstimator(UnitSpace space, double[][] observations, double[] weights, double priorWeight, boolean multivariate) {
        this.space = space;
        int n = observations.length;
        int kernels = n + 1;
        double[] w = Arrays.copyOf(weights, kernels);
        w[n] = priorWeight;
        double total = Arrays.stream(w).sum();
        logWeights = Arrays.stream(w).map(v -> Math.log(v / total)).toArray();
        int d = space.size();
        mus = new double[d][];
        sigmas = new double[d][];
        logChoices = new double[d][][];
        for (int j = 0; j < d; j++) {
            double[] values = new double[n];
            for (int i = 0; i < n; i++) values[i] = observations[i][j];
            if (space.dimension(j) instanceof Dimension.Categorical c) {
                logChoices[j] = choices(values, c.values().size(), priorWeight, kernels);
            } else {
                mus[j] = Arrays.copyOf(values, kernels);
                mus[j][n] = 0.5;
                sigmas[j] = multivariate ? scott(n, d) : neighbourWidths(mus[j]);
                if (!multivariate) for (int k = 0; k < n; k++) sigmas[j][k] *= NEIGHBOUR_BANDWIDTH_FACTOR;
                sigmas[j][n] = 1.0;
                double minSigma = (multivariate ? 1.0 : MAGIC_CLIP_FACTOR) / Math.min(100.0, 1.0 + kernels);
                for (int k = 0; k < kernels; k++) sigmas[j][k] = Math.max(minSigma, Math.min(1.0, sigmas[j][k]));
            }
        }
    }

    private static double[] scott(int n, int d) {
        double sigma = SIGMA0_MAGNITUDE * Math.pow(Math.max(n, 1), -1.0 / (d + 4));
        double[] sigmas = new double[n + 1];
        Arrays.fill(sigmas, sigma);
        return sigmas;
    }

    /** Each kernel as wide as the larger gap to its neighbours (the range ends count as neighbours, not as kernels). */
    private static double[] neighbourWidths(double[] mus) {
        int m = mus.length;
        Integer[] order = new Integer[m];
        for (int i = 0; i < m; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Double.compare(mus[a], mus[b]));
        double[] withEnds = new double[m + 2];
        withEnds[0] = 0;
        withEnds[m + 1] = 1;
        for (int i = 0; i < m; i++) withEnds[i + 1] = mus[order[i]];
        double[] sorted = new double[m];
        for (int i = 0; i < m; i++) sorted[i] = Math.max(withEnds[i + 1] - withEnds[i], withEnds[i + 2] - withEnds[i + 1]);
        if (m + 2 >= 4) {
            sorted[0] = withEnds[2] - withEnds[1];
            sorted[m - 1] = withEnds[m] - withEnds[m - 1];
        }
        double[] sigmas = new double[m];
        for (int i = 0; i < m; i++) sigmas[order[i]] = sorted[i];
        return sigmas;
    }

    private static double[][] choices(double[] values, int size, double priorWeight, int kernels) {
        double[][] logP = new double[kernels][size];
        for (int k = 0; k < kernels; k++) {
            double[] p = new double[size];
            Arrays.fill(p, priorWeight / kernels);
            if (k < values.length) p[Dimension.index(values[k], size)] += 1;
            double sum = Arrays.stream(p).sum();
            for (int c = 0; c < size; c++) logP[k][c] = Math.log(p[c] / sum);
        }
        return logP;
    }

    /** The width of kernel {@code k} along numeric dimension {@code j}, in unit-cube units. */
    double width(int j, int k) {
        return sigmas[j][k];
    }

    int kernelCount() {
        return logWeights.length;
    }

    int pickKernel(SplittableRandom random) {
        double u = random.nextDouble();
        double cumulative = 0;
        for (int k = 0; k < logWeights.length; k++) {
            cumulative += Math.exp(logWeights[k]);
            if (u < cumulative) return k;
        }
        return logWeights.length - 1;
    }

    /** A draw of dimension {@code j} from kernel {@code k}, snapped to a value of the dimension. */
    double sample(int j, int k, SplittableRandom random) {
        if (logChoices[j] != null) {
            double u = random.nextDouble();
            double cumulative = 0;
            double[] logP = logChoices[j][k];
            for (int c = 0; c < logP.length; c++) {
                cumulative += Math.exp(logP[c]);
                if (u < cumulative) return (c + 0.5) / logP.length;
            }
            return (logP.length - 0.5) / logP.length;
        }
        double mu = mus[j][k], sigma = sigmas[j][k];
        for (int attempt = 0; attempt < 1000; attempt++) {
            double x = mu + sigma * Seeds.gaussian(random);
            if (x >= 0 && x <= 1) return space.dimension(j).snap(x);
        }
        return space.dimension(j).snap(Dimension.clamp(mu));
    }

    /** log of kernel {@code k}'s density (or mass, for listed values) along dimension {@code j} at {@code x}. */
    double logKernel(int j, int k, double x) {
        Dimension dimension = space.dimension(j);
        if (logChoices[j] != null) return logChoices[j][k][Dimension.index(x, logChoices[j][k].length)];
        double mu = mus[j][k], sigma = sigmas[j][k];
        double normaliser = Normal.cdf((1 - mu) / sigma) - Normal.cdf(-mu / sigma);
        if (dimension.levels().isPresent()) {
            int size = dimension.levels().getAsInt();
            int i = Dimension.index(x, size);
            double mass = Normal.cdf(((i + 1.0) / size - mu) / sigma) - Normal.cdf(((double) i / size - mu) / sigma);
            return Math.log(Math.max(mass, 1e-300)) - Math.log(Math.max(normaliser, 1e-300));
        }
        double z = (x - mu) / sigma;
        return -0.5 * z * z - Math.log(sigma * Math.sqrt(2 * Math.PI)) - Math.log(Math.max(normaliser, 1e-300));
    }

    /** log density of the mixture along dimension {@code j} alone (univariate TPE). */
    double logDensity(int j, double x) {
        double[] terms = new double[kernelCount()];
        for (int k = 0; k < terms.length; k++) terms[k] = logWeights[k] + logKernel(j, k, x);
        return logSumExp(terms);
    }

    /** log density of the mixture at the whole point {@code x} (multivariate TPE). */
    double logDensity(double[] x) {
        double[] terms = new double[kernelCount()];
        for (int k = 0; k < terms.length; k++) {
            double sum = logWeights[k];
            for (int j = 0; j < x.length; j++) sum += logKernel(j, k, x[j]);
            terms[k] = sum;
        }
        return logSumExp(terms);
    }

    private static double logSumExp(double[] values) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : values) max = Math.max(max, v);
        if (max == Double.NEGATIVE_INFINITY) return max;
        double sum = 0;
        for (double v : values) sum += Math.exp(v - max);
        return max + Math.log(sum);
    }
}
