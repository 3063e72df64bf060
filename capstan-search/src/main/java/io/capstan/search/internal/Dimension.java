package io.capstan.search.internal;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.List;
import java.util.OptionalInt;

/**
 * One parameter seen as a coordinate of the unit cube. Algorithms work on {@code u} in [0, 1]; a dimension turns
 * {@code u} into the text Katib would write and back.
 */
public sealed interface Dimension permits Dimension.Continuous, Dimension.Ordinal, Dimension.Categorical {

    String name();

    /** The value, as text, that {@code u} stands for. */
    String text(double u);

    /** The coordinate of {@code text}, or NaN when the text is not a value of this dimension. */
    double unit(String text);

    /** The coordinate of the value nearest to {@code u}: what {@code u} becomes once suggested. */
    default double snap(double u) {
        return unit(text(u));
    }

    /** The number of distinct values, when they are few enough to list. */
    OptionalInt levels();

    /**
     * A range of numbers, linear or logarithmic, optionally whole numbers; {@code normal} asks random sampling to
     * favour the middle.
     */
    record Continuous(String name, double min, double max, boolean log, boolean integral, boolean normal)
            implements Dimension {
        @Override
        public String text(double u) {
            double value = value(u);
            return integral ? Long.toString(Math.round(value)) : plainDecimal(value);
        }

        @Override
        public double snap(double u) {
            return integral ? unit(text(u)) : clamp(u);
        }

        public double value(double u) {
            double c = clamp(u);
            double value = log ? Math.exp(Math.log(min) + c * (Math.log(max) - Math.log(min))) : min + c * (max - min);
            return Math.max(min, Math.min(max, value));
        }

        @Override
        public double unit(String text) {
            double value;
            try {
                value = Double.parseDouble(text.trim());
            } catch (NumberFormatException e) {
                return Double.NaN;
            }
            if (max == min) return 0.5;
            double u = log ? (Math.log(value) - Math.log(min)) / (Math.log(max) - Math.log(min)) : (value - min) / (max - min);
            return clamp(u);
        }

        @Override
        public OptionalInt levels() {
            return OptionalInt.empty();
        }
    }

    /** Ordered values (stepped numbers, discrete lists); each owns an equal slice of the unit interval. */
    record Ordinal(String name, List<String> values) implements Dimension {
        public Ordinal {
            values = List.copyOf(values);
        }

        @Override
        public String text(double u) {
            return values.get(index(u, values.size()));
        }

        @Override
        public double unit(String text) {
            int i = values.indexOf(text.trim());
            if (i < 0) i = numericallyEqual(text);
            return i < 0 ? Double.NaN : (i + 0.5) / values.size();
        }

        /** The index of the value equal to {@code text} as a number ("3.0" for "3"), or -1. */
        private int numericallyEqual(String text) {
            try {
                double target = Double.parseDouble(text.trim());
                for (int i = 0; i < values.size(); i++) {
                    double value = Double.parseDouble(values.get(i));
                    if (Math.abs(value - target) <= 1e-9 * Math.max(1, Math.abs(value))) return i;
                }
            } catch (NumberFormatException e) {
                return -1;
            }
            return -1;
        }

        @Override
        public OptionalInt levels() {
            return OptionalInt.of(values.size());
        }
    }

    /** Unordered choices; algorithms that model distance encode them one-hot. */
    record Categorical(String name, List<String> values) implements Dimension {
        public Categorical {
            values = List.copyOf(values);
        }

        @Override
        public String text(double u) {
            return values.get(index(u, values.size()));
        }

        @Override
        public double unit(String text) {
            int i = values.indexOf(text);
            return i < 0 ? Double.NaN : (i + 0.5) / values.size();
        }

        @Override
        public OptionalInt levels() {
            return OptionalInt.of(values.size());
        }
    }

    MathContext SIGNIFICANT_DIGITS = new MathContext(12);

    static int index(double u, int size) {
        return Math.min(size - 1, Math.max(0, (int) Math.floor(u * size)));
    }

    static double clamp(double u) {
        return Math.max(0.0, Math.min(1.0, u));
    }

    /**
     * Plain decimal notation with at most 12 significant digits, never exponent notation, always with a fraction
     * part ("3.0", "0.00001").
     */
    static String plainDecimal(double value) {
        String plain = new BigDecimal(value).round(SIGNIFICANT_DIGITS).stripTrailingZeros().toPlainString();
        return plain.contains(".") ? plain : plain + ".0";
    }
}
