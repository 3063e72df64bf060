package io.capstan.monitoring.drift;

import java.util.Arrays;
import org.apache.commons.math3.util.CombinatoricsUtils;

/**
 * The two-sample Kolmogorov–Smirnov test, two-sided, giving what {@code scipy.stats.ks_2samp} gives: the exact
 * p-value when neither sample has more than 10000 values, else the asymptotic one, which scipy takes from the
 * one-sample distribution of D at n = round(n1·n2/(n1+n2)) as Simard and L'Ecuyer (2011) compute it.
 *
 * <p>commons-math 3.6 has the pieces it can: the Durbin-matrix distribution for n ≤ 140 and Pelz–Good. Its own
 * two-sample exact p-value divides by C(n1+n2, n1), which overflows past a few hundred values, and it has no
 * one-sided Smirnov distribution; those are written here (lattice paths after Hodges 1958, Birnbaum–Tingey 1951,
 * and the Durbin matrix of Marsaglia, Tsang and Wang 2003 for n > 140).
 */
public final class KolmogorovSmirnov {
    /** Up to this many values in the larger sample, the exact p-value (scipy's {@code MAX_AUTO_N}). */
    public static final int MAX_EXACT_N = 10_000;
    private static final org.apache.commons.math3.stat.inference.KolmogorovSmirnovTest COMMONS =
            new org.apache.commons.math3.stat.inference.KolmogorovSmirnovTest();

    /** How the p-value was computed. */
    public enum Method {
        EXACT("exact"), ASYMPTOTIC("asymp");

        private final String wire;

        Method(String wire) {
            this.wire = wire;
        }

        public String wireName() {
            return wire;
        }
    }

    /** The statistic D, its p-value and how it was computed. */
    public record Result(double statistic, double pValue, Method method) {
    }

    private KolmogorovSmirnov() {
    }

    /** As scipy's {@code method='auto'}. */
    public static Result test(double[] a, double[] b) {
        return test(a, b, Math.max(a.length, b.length) <= MAX_EXACT_N ? Method.EXACT : Method.ASYMPTOTIC);
    }

    /** With the method chosen; an exact computation that cannot be done (lcm over 2^31) falls back to asymptotic, as scipy does. */
    public static Result test(double[] a, double[] b, Method method) {
        if (a.length == 0 || b.length == 0) throw new IllegalArgumentException("both samples need at least one value");
        double d = statistic(a, b);
        int n1 = a.length;
        int n2 = b.length;
        long g = gcd(n1, n2);
        if (method == Method.EXACT && (n1 / g) >= Integer.MAX_VALUE / (double) (n2 / g)) method = Method.ASYMPTOTIC;
        if (method == Method.EXACT) {
            long lcm = (n1 / g) * (long) n2;
            // scipy's np.round is half-to-even
            long h = (long) Math.rint(d * lcm);
            d = h / (double) lcm;
            if (h == 0) return new Result(d, 1.0, Method.EXACT);
            double p = n1 == n2 ? outsideSquare(n1, (int) h) : outsideInside(n1, n2, (int) g, h);
            if (p >= 0 && p <= 1) return new Result(d, p, Method.EXACT);
        }
        double m = Math.max(n1, n2);
        double n = Math.min(n1, n2);
        int en = (int) Math.rint(m * n / (m + n));
        return new Result(d, clip(kolmogorovSf(en, d)), Method.ASYMPTOTIC);
    }

    /** The largest distance between the two empirical CDFs (ties counted as scipy counts them). */
    static double statistic(double[] a, double[] b) {
        var x = a.clone();
        var y = b.clone();
        Arrays.sort(x);
        Arrays.sort(y);
        int i = 0;
        int j = 0;
        double d = 0;
        while (i < x.length && j < y.length) {
            double v = Math.min(x[i], y[j]);
            while (i < x.length && x[i] <= v) i++;
            while (j < y.length && y[j] <= v) j++;
            d = Math.max(d, Math.abs(i / (double) x.length - j / (double) y.length));
        }
        return d;
    }

    private static long gcd(long a, long b) {
        while (b != 0) {
            long t = a % b;
            a = b;
            b = t;
        }
        return a;
    }

    /** P(D ≥ h/n) for two samples of n each, with scipy's Horner form of the alternating binomial sum. */
    static double outsideSquare(int n, int h) {
        double p = 0;
        for (int k = n / h; k >= 0; k--) {
            double p1 = 1;
            for (int j = 0; j < h; j++) p1 = (n - (double) k * h - j) * p1 / (n + (double) k * h + j + 1);
            p = p1 * (1 - p);
        }
        return 2 * p;
    }

    /**
     * P(D ≥ h/lcm) for samples of n1 and n2: one less the share of monotone lattice paths from (0,0) to (n1,n2)
     * that stay strictly inside |i·n2/g − j·n1/g| &lt; h. Each cell holds paths/C(i+j, i), so nothing overflows.
     */
    static double outsideInside(int n1, int n2, int g, long h) {
        int m = Math.max(n1, n2);
        int n = Math.min(n1, n2);
        long mg = m / g;
        long ng = n / g;
        var a = new double[n + 1];
        for (int i = 0; i <= m; i++) {
            // only j with |i·ng − j·mg| < h can be inside; the rest of the column is zero
            long lo = Math.max(0, Math.floorDiv(i * ng - h, mg) + 1);
            long hi = Math.min(n, Math.ceilDiv(i * ng + h, mg) - 1);
            for (int j = 0; j <= n; j++) {
                if (j < lo || j > hi) {
                    a[j] = 0;
                } else if (i == 0 && j == 0) {
                    a[j] = 1;
                } else {
                    a[j] = (i * a[j] + (j == 0 ? 0 : j * a[j - 1])) / (i + j);
                }
            }
        }
        return 1 - a[n];
    }

    private static double clip(double p) {
        return Math.max(0, Math.min(1, p));
    }

    /** P(D_n ≥ x) for the one-sample two-sided statistic, choosing the algorithm as scipy's {@code _kolmogn} does. */
    static double kolmogorovSf(int n, double x) {
        if (x >= 1) return 0;
        if (x <= 0) return 1;
        double t = n * x;
        if (t <= 1) {
            if (t <= 0.5) return 1;
            double prob;
            if (n <= 140) {
                prob = 1;
                for (int i = 1; i <= n; i++) prob *= i * (1.0 / n) * (2 * t - 1);
            } else {
                prob = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
            }
            return clip(1 - prob);
        }
        if (t >= n - 1) return clip(2 * Math.pow(1 - x, n));
        if (x >= 0.5) return clip(2 * smirnov(n, x));
        double nx2 = t * x;
        if (n <= 140) {
            // commons-math's Durbin matrix (in doubles) is exact here, as scipy's Durbin and Pomeranz are
            if (nx2 <= 4) return clip(1 - COMMONS.cdf(x, n));
            return clip(2 * smirnov(n, x));
        }
        if (nx2 >= 370) return 0;
        if (nx2 >= 2.2) return clip(2 * smirnov(n, x));
        double cdf;
        if (nx2 >= 18) cdf = 1;
        else if (n <= 100_000 && n * Math.pow(x, 1.5) <= 1.4) cdf = durbin(n, x);
        else cdf = COMMONS.pelzGood(x, n);
        return clip(1 - cdf);
    }

    private static final double[] STIRLING = {-2.955065359477124183e-2, 6.4102564102564102564e-3,
            -1.9175269175269175269e-3, 8.4175084175084175084e-4, -5.952380952380952381e-4, 7.9365079365079365079e-4,
            -2.7777777777777777778e-3, 8.3333333333333333333e-2};

    /** log(n!/n^n) by Stirling's series with n·log n taken out first. */
    private static double logFactorialOverPower(int n) {
        double rn = 1.0 / n;
        double poly = 0;
        double r2 = rn / n;
        for (double c : STIRLING) poly = poly * r2 + c;
        return Math.log(n) / 2 - n + Math.log(2 * Math.PI) / 2 + rn * poly;
    }

    /**
     * P(D_n⁺ ≥ x), the one-sided statistic, by the Birnbaum–Tingey sum; every term is positive, so summing their
     * logarithms' exponentials loses nothing to cancellation. Past a million values, Smirnov's approximation, as cephes.
     */
    static double smirnov(int n, double x) {
        if (x >= 1) return 0;
        if (x <= 0) return 1;
        if (n > 1_000_000) return Math.exp(-Math.pow(6.0 * n * x + 1, 2) / 18.0 / n);
        int last = (int) Math.floor(n * (1 - x));
        double sum = 0;
        for (int j = 0; j <= last; j++) {
            double a = 1 - x - (double) j / n;
            if (a <= 0) continue;
            double logTerm = CombinatoricsUtils.binomialCoefficientLog(n, j) + (n - j) * Math.log(a) + (j - 1) * Math.log(x + (double) j / n);
            sum += Math.exp(logTerm);
        }
        return clip(x * sum);
    }

    /** P(D_n ≤ d) by Durbin's matrix, as Marsaglia, Tsang and Wang compute it: the k-th diagonal entry of H^n, scaled. */
    static double durbin(int n, double d) {
        if (d >= 1) return 1;
        double nd = n * d;
        if (nd <= 0.5) return 0;
        int k = (int) Math.ceil(nd);
        double h = k - nd;
        int m = 2 * k - 1;
        var hm = new double[m][m];
        var v = new double[m];
        var w = new double[m];
        double fac = 1;
        for (int j = 1; j <= m; j++) {
            w[j - 1] = fac;
            fac /= j;
            v[j - 1] = (1 - Math.pow(h, j)) * fac;
        }
        double tt = Math.pow(Math.max(2 * h - 1, 0), m) - 2 * Math.pow(h, m);
        v[m - 1] = (1 + tt) * fac;
        for (int i = 1; i < m; i++) {
            for (int r = i - 1; r < m; r++) hm[r][i] = w[r - (i - 1)];
        }
        for (int r = 0; r < m; r++) hm[r][0] = v[r];
        for (int c = 0; c < m; c++) hm[m - 1][c] = v[m - 1 - c];
        var power = identity(m);
        int expnt = 0;
        int hExpnt = 0;
        int nn = n;
        while (nn > 0) {
            if (nn % 2 == 1) {
                power = multiply(power, hm);
                expnt += hExpnt;
            }
            hm = multiply(hm, hm);
            hExpnt *= 2;
            if (Math.abs(hm[k - 1][k - 1]) > 0x1p128) {
                for (var row : hm) for (int c = 0; c < m; c++) row[c] /= 0x1p128;
                hExpnt += 128;
            }
            nn /= 2;
        }
        double p = power[k - 1][k - 1];
        for (int i = 1; i <= n; i++) {
            p = i * p / n;
            if (Math.abs(p) < 0x1p-128) {
                p *= 0x1p128;
                expnt -= 128;
            }
        }
        return expnt != 0 ? Math.scalb(p, expnt) : p;
    }

    private static double[][] identity(int m) {
        var out = new double[m][m];
        for (int i = 0; i < m; i++) out[i][i] = 1;
        return out;
    }

    private static double[][] multiply(double[][] a, double[][] b) {
        int m = a.length;
        var out = new double[m][m];
        for (int i = 0; i < m; i++) {
            for (int l = 0; l < m; l++) {
                double ail = a[i][l];
                if (ail == 0) continue;
                for (int j = 0; j < m; j++) out[i][j] += ail * b[l][j];
            }
        }
        return out;
    }
}
