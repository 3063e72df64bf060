package io.capstan.search.bench;

import io.capstan.search.Parameter;
import io.capstan.search.SearchSpace;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/** Standard global-optimisation test functions, with their search spaces and known minima. */
public enum TestFunctions {
    BRANIN("branin", 0.397887, List.of(Parameter.ofDouble("x0", -5, 10), Parameter.ofDouble("x1", 0, 15)), TestFunctions::branin),
    HARTMANN6("hartmann6", -3.32237, unitCube(6), TestFunctions::hartmann6);

    private static final double[][] A = {{10, 3, 17, 3.5, 1.7, 8}, {0.05, 10, 17, 0.1, 8, 14},
            {3, 3.5, 1.7, 10, 17, 8}, {17, 8, 0.05, 10, 0.1, 14}};
    private static final double[][] P = {{1312, 1696, 5569, 124, 8283, 5886}, {2329, 4135, 8307, 3736, 1004, 9991},
            {2348, 1451, 3522, 2883, 3047, 6650}, {4047, 8828, 8732, 5743, 1091, 381}};
    private static final double[] ALPHA = {1.0, 1.2, 3.0, 3.2};

    private final String id;
    private final double optimum;
    private final SearchSpace space;
    private final ToDoubleFunction<double[]> function;

    TestFunctions(String id, double optimum, List<Parameter> parameters, ToDoubleFunction<double[]> function) {
        this.id = id;
        this.optimum = optimum;
        this.space = new SearchSpace(parameters);
        this.function = function;
    }

    public String id() {
        return id;
    }

    public double optimum() {
        return optimum;
    }

    public SearchSpace space() {
        return space;
    }

    public double evaluate(Map<String, String> assignment) {
        double[] x = new double[space.parameters().size()];
        for (int i = 0; i < x.length; i++) x[i] = Double.parseDouble(assignment.get(space.parameters().get(i).name()));
        return function.applyAsDouble(x);
    }

    static double branin(double[] x) {
        double b = 5.1 / (4 * Math.PI * Math.PI), c = 5 / Math.PI, t = 1 / (8 * Math.PI);
        double a = x[1] - b * x[0] * x[0] + c * x[0] - 6;
        return a * a + 10 * (1 - t) * Math.cos(x[0]) + 10;
    }

    static double hartmann6(double[] x) {
        double sum = 0;
        for (int i = 0; i < 4; i++) {
            double inner = 0;
            for (int j = 0; j < 6; j++) inner += A[i][j] * Math.pow(x[j] - 1e-4 * P[i][j], 2);
            sum += ALPHA[i] * Math.exp(-inner);
        }
        return -sum;
    }

    private static List<Parameter> unitCube(int dimensions) {
        List<Parameter> parameters = new ArrayList<>();
        for (int i = 0; i < dimensions; i++) parameters.add(Parameter.ofDouble("x" + i, 0, 1));
        return parameters;
    }
}
