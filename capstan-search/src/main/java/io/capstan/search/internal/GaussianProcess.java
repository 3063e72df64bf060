package io.capstan.search.internal;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A zero-mean Gaussian process with a Matérn 5/2 kernel with one length scale per input (ARD), a signal variance
 * and a noise variance. Hyperparameters come from maximising the log marginal posterior (analytic gradient,
 * L-BFGS, a few starts), with a prior that keeps length scales moderate. Meant for the few hundred points of a tuning experiment: everything is dense and O(n^3).
 */
public final class GaussianProcess {
    static final double MIN_LENGTH = 0.01, MAX_LENGTH = 20;
    static final double MIN_SIGNAL = 0.01, MAX_SIGNAL = 100;
    static final double MIN_NOISE = 1e-6, MAX_NOISE = 0.5;
    /**
     * A Gamma(3, 6) prior on each length scale (as BoTorch uses on unit-cube inputs): without it a dimension that
     * looked flat where the search has been gets an endless length scale, and the search never looks elsewhere.
     */
    private static final double LENGTH_PRIOR_SHAPE = 3, LENGTH_PRIOR_RATE = 6;
    private static final double SQRT5 = Math.sqrt(5);

    /** Kernel hyperparameters: ARD length scales, signal variance and noise variance. */
    public record Hyperparameters(double[] lengths, double signal, double noise) {
    }

    private final double[][] x;
    private final Hyperparameters hyper;
    /** The columns of L^-1, L the Cholesky factor of the training covariance. */
    private final double[][] inverseColumns;
    private final double[] alpha;

    private GaussianProcess(double[][] x, Hyperparameters hyper, double[][] inverseColumns, double[] alpha) {
        this.x = x;
        this.hyper = hyper;
        this.inverseColumns = inverseColumns;
        this.alpha = alpha;
    }

    /** A process conditioned on {@code (x, y)} with the given hyperparameters, or fitted ones when they are null. */
    public static GaussianProcess fit(double[][] x, double[] y, SplittableRandom random, int restarts) {
        return fit(x, y, random, restarts, null);
    }

    /** As {@link #fit(double[][], double[], SplittableRandom, int)}, the first start at {@code warm} when given. */
    public static GaussianProcess fit(double[][] x, double[] y, SplittableRandom random, int restarts, Hyperparameters warm) {
        return condition(x, y, fitHyperparameters(x, y, random, restarts, warm));
    }

    public static GaussianProcess condition(double[][] x, double[] y, Hyperparameters hyper) {
        int n = x.length;
        double[][] k = covariance(x, hyper);
        double[][] chol = cholesky(k);
        double jitter = 1e-8;
        while (chol == null) {
            for (int i = 0; i < n; i++) k[i][i] += jitter;
            chol = cholesky(k);
            jitter *= 10;
        }
        double[][] columns = inverseColumns(chol);
        double[][] inverse = inverseFromInverseColumns(columns);
        double[] alpha = new double[n];
        for (int i = 0; i < n; i++) alpha[i] = Lbfgs.dot(inverse[i], y);
        return new GaussianProcess(x, hyper, columns, alpha);
    }

    public Hyperparameters hyperparameters() {
        return hyper;
    }

    /** Writes the posterior mean and standard deviation at {@code point} into {@code out[0]} and {@code out[1]}. */
    public void predict(double[] point, double[] out) {
        int n = x.length;
        double[] k = new double[n];
        double mean = 0;
        for (int i = 0; i < n; i++) {
            k[i] = hyper.signal * matern(scaledDistance(point, x[i], hyper.lengths));
            mean += k[i] * alpha[i];
        }
        double[] v = new double[n];
        for (int j = 0; j < n; j++) {
            double[] column = inverseColumns[j];
            double kj = k[j];
            for (int i = j; i < n; i++) v[i] += column[i] * kj;
        }
        double explained = Lbfgs.dot(v, v);
        out[0] = mean;
        out[1] = Math.sqrt(Math.max(hyper.signal - explained, 1e-12));
    }

    static Hyperparameters fitHyperparameters(double[][] x, double[] y, SplittableRandom random, int restarts) {
        return fitHyperparameters(x, y, random, restarts, null);
    }

    static Hyperparameters fitHyperparameters(double[][] x, double[] y, SplittableRandom random, int restarts, Hyperparameters warm) {
        int d = x[0].length;
        double[][][] squared = squaredDifferences(x);
        Lbfgs.Objective objective = (z, gradient) -> negativeLogLikelihood(squared, y, z, gradient);
        Lbfgs.Result best = null;
        for (int start = 0; start < restarts; start++) {
            double[] theta = new double[d + 2];
            for (int i = 0; i < d; i++) theta[i] = start == 0 ? 0.3 : Math.exp(Math.log(0.05) + random.nextDouble() * Math.log(40));
            theta[d] = 1.0;
            theta[d + 1] = start == 0 ? 1e-4 : 1e-3;
            if (start == 0 && warm != null && warm.lengths().length == d) {
                System.arraycopy(warm.lengths(), 0, theta, 0, d);
                theta[d] = warm.signal();
                theta[d + 1] = warm.noise();
            }
            Lbfgs.Result result = Lbfgs.minimize(objective, toFree(theta), 40);
            if (best == null || result.value() < best.value()) best = result;
        }
        double[] theta = fromFree(best.x());
        return new Hyperparameters(Arrays.copyOf(theta, d), theta[d], theta[d + 1]);
    }

    /** -log p(y | x, theta(z)) and its gradient in the unconstrained coordinates {@code z}. */
    private static double negativeLogLikelihood(double[][][] squared, double[] y, double[] z, double[] gradient) {
        int n = y.length;
        int d = z.length - 2;
        double[] theta = fromFree(z);
        double signal = theta[d];
        double noise = theta[d + 1];
        double[] inverseLengthSq = new double[d];
        for (int k = 0; k < d; k++) inverseLengthSq[k] = 1.0 / (theta[k] * theta[k]);
        double[][] kernel = new double[n][n];
        double[][] scaled = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double r2 = 0;
                double[] diff = squared[i][j];
                for (int k = 0; k < d; k++) r2 += diff[k] * inverseLengthSq[k];
                double r = Math.sqrt(r2);
                double e = Math.exp(-SQRT5 * r);
                kernel[i][j] = kernel[j][i] = signal * (1 + SQRT5 * r + 5.0 / 3.0 * r2) * e;
                scaled[i][j] = scaled[j][i] = signal * 5.0 / 3.0 * (1 + SQRT5 * r) * e;
            }
        }
        double[][] cov = new double[n][];
        for (int i = 0; i < n; i++) {
            cov[i] = kernel[i].clone();
            cov[i][i] += noise;
        }
        double[][] chol = cholesky(cov);
        if (chol == null) return Double.POSITIVE_INFINITY;
        double[][] inverse = inverseFromCholesky(chol);
        double[] alpha = new double[n];
        for (int i = 0; i < n; i++) alpha[i] = Lbfgs.dot(inverse[i], y);
        double logDet = 0;
        for (int i = 0; i < n; i++) logDet += 2 * Math.log(chol[i][i]);
        double value = 0.5 * Lbfgs.dot(y, alpha) + 0.5 * logDet + 0.5 * n * Math.log(2 * Math.PI);
        for (int k = 0; k < d; k++) value -= (LENGTH_PRIOR_SHAPE - 1) * Math.log(theta[k]) - LENGTH_PRIOR_RATE * theta[k];

        double[] dTheta = new double[d + 2];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double w = alpha[i] * alpha[j] - inverse[i][j];
                double factor = i == j ? 0.5 : 1.0;
                dTheta[d] += factor * w * kernel[i][j] / signal;
                if (i == j) {
                    dTheta[d + 1] += 0.5 * w;
                    continue;
                }
                double[] diff = squared[i][j];
                double ws = w * scaled[i][j];
                for (int k = 0; k < d; k++) dTheta[k] += ws * diff[k] * inverseLengthSq[k] / theta[k];
            }
        }
        for (int k = 0; k < d; k++) dTheta[k] += (LENGTH_PRIOR_SHAPE - 1) / theta[k] - LENGTH_PRIOR_RATE;
        // dTheta holds d(log posterior)/d(theta); chain through theta(z) and negate.
        for (int k = 0; k < d + 2; k++) gradient[k] = -dTheta[k] * dThetaDz(z, k);
        return value;
    }

    // Each hyperparameter is log-scaled and squashed into its bounds: theta = exp(lo + (hi - lo) * sigmoid(z)).
    private static double[] bounds(int k, int d) {
        if (k < d) return new double[] {Math.log(MIN_LENGTH), Math.log(MAX_LENGTH)};
        if (k == d) return new double[] {Math.log(MIN_SIGNAL), Math.log(MAX_SIGNAL)};
        return new double[] {Math.log(MIN_NOISE), Math.log(MAX_NOISE)};
    }

    private static double[] fromFree(double[] z) {
        int d = z.length - 2;
        double[] theta = new double[z.length];
        for (int k = 0; k < z.length; k++) {
            double[] b = bounds(k, d);
            theta[k] = Math.exp(b[0] + (b[1] - b[0]) * sigmoid(z[k]));
        }
        return theta;
    }

    private static double dThetaDz(double[] z, int k) {
        double[] b = bounds(k, z.length - 2);
        double s = sigmoid(z[k]);
        double theta = Math.exp(b[0] + (b[1] - b[0]) * s);
        return theta * (b[1] - b[0]) * s * (1 - s);
    }

    private static double[] toFree(double[] theta) {
        int d = theta.length - 2;
        double[] z = new double[theta.length];
        for (int k = 0; k < theta.length; k++) {
            double[] b = bounds(k, d);
            double s = (Math.log(theta[k]) - b[0]) / (b[1] - b[0]);
            s = Math.min(1 - 1e-6, Math.max(1e-6, s));
            z[k] = Math.log(s / (1 - s));
        }
        return z;
    }

    private static double sigmoid(double z) {
        return 1.0 / (1.0 + Math.exp(-z));
    }

    private static double[][][] squaredDifferences(double[][] x) {
        int n = x.length;
        int d = x[0].length;
        double[][][] squared = new double[n][][];
        for (int i = 0; i < n; i++) {
            squared[i] = new double[i + 1][];
            for (int j = 0; j <= i; j++) {
                double[] diff = new double[d];
                for (int k = 0; k < d; k++) {
                    double delta = x[i][k] - x[j][k];
                    diff[k] = delta * delta;
                }
                squared[i][j] = diff;
            }
        }
        return squared;
    }

    private static double[][] covariance(double[][] x, Hyperparameters hyper) {
        int n = x.length;
        double[][] k = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) k[i][j] = k[j][i] = hyper.signal * matern(scaledDistance(x[i], x[j], hyper.lengths));
            k[i][i] += hyper.noise;
        }
        return k;
    }

    private static double scaledDistance(double[] a, double[] b, double[] lengths) {
        double r2 = 0;
        for (int k = 0; k < a.length; k++) {
            double delta = (a[k] - b[k]) / lengths[k];
            r2 += delta * delta;
        }
        return Math.sqrt(r2);
    }

    private static double matern(double r) {
        return (1 + SQRT5 * r + 5.0 / 3.0 * r * r) * Math.exp(-SQRT5 * r);
    }

    /** The lower Cholesky factor of {@code a}, or null when {@code a} is not positive definite. */
    static double[][] cholesky(double[][] a) {
        int n = a.length;
        double[][] l = new double[n][n];
        for (int i = 0; i < n; i++) {
            double[] li = l[i];
            for (int j = 0; j <= i; j++) {
                double[] lj = l[j];
                double sum = a[i][j];
                for (int k = 0; k < j; k++) sum -= li[k] * lj[k];
                if (i == j) {
                    if (!(sum > 0)) return null;
                    li[i] = Math.sqrt(sum);
                } else {
                    li[j] = sum / lj[j];
                }
            }
        }
        return l;
    }

    /** (L L^T)^-1 from the lower factor L. */
    static double[][] inverseFromCholesky(double[][] l) {
        return inverseFromInverseColumns(inverseColumns(l));
    }

    /** The columns of L^-1 for a lower-triangular L: {@code t[j][i]} is entry (i, j), zero for i < j. */
    static double[][] inverseColumns(double[][] l) {
        int n = l.length;
        double[][] t = new double[n][n];
        for (int j = 0; j < n; j++) {
            double[] column = t[j];
            column[j] = 1.0 / l[j][j];
            for (int i = j + 1; i < n; i++) {
                double[] li = l[i];
                double sum = 0;
                for (int k = j; k < i; k++) sum -= li[k] * column[k];
                column[i] = sum / li[i];
            }
        }
        return t;
    }

    /** (L L^T)^-1 = L^-T L^-1 from the columns of L^-1. */
    static double[][] inverseFromInverseColumns(double[][] t) {
        int n = t.length;
        double[][] inverse = new double[n][n];
        for (int i = 0; i < n; i++) {
            double[] ti = t[i];
            for (int j = 0; j <= i; j++) {
                double[] tj = t[j];
                double sum = 0;
                for (int k = i; k < n; k++) sum += ti[k] * tj[k];
                inverse[i][j] = inverse[j][i] = sum;
            }
        }
        return inverse;
    }
}
