package io.capstan.search;

import java.util.Map;

/**
 * Creates algorithms and early-stopping rules by their Katib names ({@code random}, {@code grid}, {@code sobol},
 * {@code tpe}, {@code multivariate-tpe}, {@code bayesianoptimization}, {@code cmaes}, {@code hyperband},
 * {@code pbt}; {@code medianstop}) with Katib's settings.
 */
public final class SearchAlgorithms {
    private SearchAlgorithms() {
    }

    /**
     * The algorithm {@code name} configured by {@code settings} for {@code space}.
     *
     * @throws io.capstan.core.InvalidSpecException naming {@code algorithm.algorithmName} for an unknown or refused
     *         algorithm (enas and darts, with the reason), or {@code algorithm.algorithmSettings.<name>} for an
     *         unknown setting or a bad value
     */
    public static SearchAlgorithm create(String name, Map<String, String> settings, SearchSpace space) {
        throw new UnsupportedOperationException("not yet implemented: " + name);
    }

    /**
     * The early-stopping rule {@code name} ({@code medianstop}) configured by {@code settings}.
     *
     * @throws io.capstan.core.InvalidSpecException naming {@code earlyStopping.algorithmName} or
     *         {@code earlyStopping.algorithmSettings.<name>}
     */
    public static EarlyStoppingRule earlyStopping(String name, Map<String, String> settings) {
        throw new UnsupportedOperationException("not yet implemented: " + name);
    }
}
