package io.capstan.search.internal;

/** Limited-memory BFGS for smooth unconstrained minimisation, with a backtracking (Armijo) line search. */
public final class Lbfgs {

    /** A function to minimise: returns f(x) and writes its gradient into {@code gradient}; +inf where undefined. */
    @FunctionalInterface
    public interface Objective {
        double evaluate(double[] x, double[] gradient);
    }

    /** What a minimisation reached. */
    public record Result(double[] x, double value) {
    }

    private static final int MEMORY = 7;

    private Lbfgs() {
    }

    public static Result minimize(Objective f, double[] start, int maxIterations) {
        int n = start.length;
        double[] x = start.clone();
        double[] g = new double[n];
        double fx = f.evaluate(x, g);
        if (!Double.isFinite(fx)) return new Result(x, fx);
        double[][] s = new double[MEMORY][];
        double[][] y = new double[MEMORY][];
        double[] rho = new double[MEMORY];
        int stored = 0;
        double[] xNew = new double[n];
        double[] gNew = new double[n];
        for (int iteration = 0; iteration < maxIterations; iteration++) {
            double[] direction = direction(g, s, y, rho, stored);
            double slope = dot(direction, g);
            if (slope >= 0) {
                for (int i = 0; i < n; i++) direction[i] = -g[i];
                slope = -dot(g, g);
                stored = 0;
            }
            double step = iteration == 0 && stored == 0 ? Math.min(1.0, 1.0 / Math.max(1e-12, norm(g))) : 1.0;
            double fNew = Double.NaN;
            boolean accepted = false;
            for (int trial = 0; trial < 25; trial++) {
                for (int i = 0; i < n; i++) xNew[i] = x[i] + step * direction[i];
                fNew = f.evaluate(xNew, gNew);
                if (Double.isFinite(fNew) && fNew <= fx + 1e-4 * step * slope) {
                    accepted = true;
                    break;
                }
                step *= 0.5;
            }
            if (!accepted) break;
            double[] sk = new double[n];
            double[] yk = new double[n];
            for (int i = 0; i < n; i++) {
                sk[i] = xNew[i] - x[i];
                yk[i] = gNew[i] - g[i];
            }
            double sy = dot(sk, yk);
            if (sy > 1e-12) {
                int slot = stored < MEMORY ? stored++ : shift(s, y, rho);
                s[slot] = sk;
                y[slot] = yk;
                rho[slot] = 1.0 / sy;
            }
            double change = fx - fNew;
            System.arraycopy(xNew, 0, x, 0, n);
            System.arraycopy(gNew, 0, g, 0, n);
            fx = fNew;
            if (maxAbs(g) < 1e-5 || change < 1e-8 * Math.max(1.0, Math.abs(fx))) break;
        }
        return new Result(x, fx);
    }

    private static int shift(double[][] s, double[][] y, double[] rho) {
        for (int i = 1; i < MEMORY; i++) {
            s[i - 1] = s[i];
            y[i - 1] = y[i];
            rho[i - 1] = rho[i];
        }
        return MEMORY - 1;
    }

    private static double[] direction(double[] g, double[][] s, double[][] y, double[] rho, int stored) {
        double[] q = g.clone();
        double[] alpha = new double[stored];
        for (int k = stored - 1; k >= 0; k--) {
            alpha[k] = rho[k] * dot(s[k], q);
            for (int i = 0; i < q.length; i++) q[i] -= alpha[k] * y[k][i];
        }
        double gamma = stored > 0 ? dot(s[stored - 1], y[stored - 1]) / dot(y[stored - 1], y[stored - 1]) : 1.0;
        for (int i = 0; i < q.length; i++) q[i] *= gamma;
        for (int k = 0; k < stored; k++) {
            double beta = rho[k] * dot(y[k], q);
            for (int i = 0; i < q.length; i++) q[i] += s[k][i] * (alpha[k] - beta);
        }
        for (int i = 0; i < q.length; i++) q[i] = -q[i];
        return q;
    }

    static double dot(double[] a, double[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) sum += a[i] * b[i];
        return sum;
    }

    private static double norm(double[] a) {
        return Math.sqrt(dot(a, a));
    }

    private static double maxAbs(double[] a) {
        double m = 0;
        for (double v : a) m = Math.max(m, Math.abs(v));
        return m;
    }
}
