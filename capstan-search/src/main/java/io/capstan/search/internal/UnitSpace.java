package io.capstan.search.internal;

import io.capstan.core.InvalidSpecException;
import io.capstan.search.Distribution;
import io.capstan.search.Parameter;
import io.capstan.search.SearchSpace;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A search space as the unit cube [0, 1]^d, one coordinate per parameter in declaration order. */
public final class UnitSpace {
    /** Integer ranges with more values than this are treated as continuous and rounded. */
    private static final int MAX_LISTED_LEVELS = 10_000;

    private final List<Dimension> dimensions;

    public UnitSpace(List<Dimension> dimensions) {
        this.dimensions = List.copyOf(dimensions);
    }

    /** @throws InvalidSpecException naming {@code spec.parameters[i].feasibleSpace.*} for an unusable parameter */
    public static UnitSpace of(SearchSpace space) {
        List<Dimension> dimensions = new ArrayList<>();
        List<Parameter> parameters = space.parameters();
        if (parameters.isEmpty()) throw InvalidSpecException.of("spec.parameters", "the search space has no parameters; add at least one");
        for (int i = 0; i < parameters.size(); i++) dimensions.add(dimension(parameters.get(i), "spec.parameters[" + i + "].feasibleSpace"));
        return new UnitSpace(dimensions);
    }

    private static Dimension dimension(Parameter p, String path) {
        boolean log = p.distribution() == Distribution.LOG_UNIFORM || p.distribution() == Distribution.LOG_NORMAL;
        boolean normal = p.distribution() == Distribution.NORMAL || p.distribution() == Distribution.LOG_NORMAL;
        return switch (p.type()) {
            case CATEGORICAL -> {
                if (p.values().isEmpty()) throw InvalidSpecException.of(path + ".list", "parameter '%s' lists no values; give at least one".formatted(p.name()));
                yield new Dimension.Categorical(p.name(), p.values());
            }
            case DISCRETE -> {
                if (p.values().isEmpty()) throw InvalidSpecException.of(path + ".list", "parameter '%s' lists no values; give at least one".formatted(p.name()));
                List<String> sorted = new ArrayList<>(p.values());
                try {
                    sorted.sort((a, b) -> Double.compare(Double.parseDouble(a), Double.parseDouble(b)));
                } catch (NumberFormatException e) {
                    throw InvalidSpecException.of(path + ".list", "discrete parameter '%s' has a value that is not a number: %s".formatted(p.name(), e.getMessage()));
                }
                yield new Dimension.Ordinal(p.name(), sorted);
            }
            case DOUBLE, INT -> numeric(p, path, log, normal);
        };
    }

    private static Dimension numeric(Parameter p, String path, boolean log, boolean normal) {
        boolean integral = p.type() == io.capstan.search.ParameterType.INT;
        if (!(p.min() <= p.max())) {
            throw InvalidSpecException.of(path + ".min", "parameter '%s' has min %s above max %s; set min <= max".formatted(p.name(), p.min(), p.max()));
        }
        if (log && p.min() <= 0) {
            throw InvalidSpecException.of(path + ".min", "parameter '%s' is log-distributed, so min must be > 0, got %s".formatted(p.name(), p.min()));
        }
        if (p.step().isPresent()) {
            double step = p.step().getAsDouble();
            if (!(step > 0)) throw InvalidSpecException.of(path + ".step", "parameter '%s' has step %s; it must be > 0".formatted(p.name(), step));
            long count = (long) Math.floor((p.max() - p.min()) / step + 1e-9) + 1;
            if (count <= MAX_LISTED_LEVELS) return new Dimension.Ordinal(p.name(), stepped(p.min(), step, count, integral));
        } else if (integral && !log && p.max() - p.min() < MAX_LISTED_LEVELS) {
            return new Dimension.Ordinal(p.name(), stepped(p.min(), 1, (long) (p.max() - p.min()) + 1, true));
        }
        return new Dimension.Continuous(p.name(), p.min(), p.max(), log, integral, normal);
    }

    private static List<String> stepped(double min, double step, long count, boolean integral) {
        List<String> values = new ArrayList<>();
        for (long k = 0; k < count; k++) {
            double v = min + k * step;
            values.add(integral ? Long.toString(Math.round(v)) : Dimension.plainDecimal(
                    new java.math.BigDecimal(Double.toString(min)).add(new java.math.BigDecimal(Double.toString(step)).multiply(java.math.BigDecimal.valueOf(k))).doubleValue()));
        }
        return values;
    }

    public List<Dimension> dimensions() {
        return dimensions;
    }

    public int size() {
        return dimensions.size();
    }

    public Dimension dimension(int i) {
        return dimensions.get(i);
    }

    /** The assignment that the point {@code u} stands for. */
    public Map<String, String> assignment(double[] u) {
        Map<String, String> assignment = new LinkedHashMap<>();
        for (int i = 0; i < dimensions.size(); i++) assignment.put(dimensions.get(i).name(), dimensions.get(i).text(u[i]));
        return assignment;
    }

    /** The point of {@code assignment}, or empty when it lacks a parameter or holds a value outside the space. */
    public Optional<double[]> point(Map<String, String> assignment) {
        double[] u = new double[dimensions.size()];
        for (int i = 0; i < u.length; i++) {
            String text = assignment.get(dimensions.get(i).name());
            if (text == null) return Optional.empty();
            u[i] = dimensions.get(i).unit(text);
            if (Double.isNaN(u[i])) return Optional.empty();
        }
        return Optional.of(u);
    }

    /** {@code u} moved to the nearest point that can be suggested (whole numbers, listed values). */
    public double[] snap(double[] u) {
        double[] s = new double[u.length];
        for (int i = 0; i < u.length; i++) s[i] = dimensions.get(i).snap(u[i]);
        return s;
    }

    /** The part of {@code assignment} that names this space's parameters, for comparing assignments. */
    public Map<String, String> key(Map<String, String> assignment) {
        Map<String, String> key = new LinkedHashMap<>();
        for (Dimension d : dimensions) key.put(d.name(), assignment.get(d.name()));
        return key;
    }
}
