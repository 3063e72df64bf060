package io.capstan.search;

import java.util.List;
import java.util.Objects;
import java.util.OptionalDouble;

/**
 * One dimension of a search space.
 *
 * @param min, max     bounds for DOUBLE and INT (inclusive); ignored for DISCRETE and CATEGORICAL
 * @param step         grid step for DOUBLE and INT, when given
 * @param values       the choices of DISCRETE (numbers written as text) and CATEGORICAL parameters
 */
public record Parameter(String name, ParameterType type, double min, double max, OptionalDouble step,
                        List<String> values, Distribution distribution) {
    public Parameter {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(step, "step");
        Objects.requireNonNull(distribution, "distribution");
        values = List.copyOf(values);
    }

    public static Parameter ofDouble(String name, double min, double max) {
        return new Parameter(name, ParameterType.DOUBLE, min, max, OptionalDouble.empty(), List.of(), Distribution.UNIFORM);
    }

    public static Parameter ofInt(String name, int min, int max) {
        return new Parameter(name, ParameterType.INT, min, max, OptionalDouble.empty(), List.of(), Distribution.UNIFORM);
    }

    public static Parameter ofCategorical(String name, List<String> values) {
        return new Parameter(name, ParameterType.CATEGORICAL, 0, 0, OptionalDouble.empty(), values, Distribution.UNIFORM);
    }
}
