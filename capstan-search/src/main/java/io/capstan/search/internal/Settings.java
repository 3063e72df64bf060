package io.capstan.search.internal;

import io.capstan.core.InvalidSpecException;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * An algorithm's settings as Katib writes them (name to text), checked against the names the algorithm knows.
 * Every error names {@code <prefix>.<setting>}, for example {@code algorithm.algorithmSettings.eta}.
 */
public final class Settings {
    public static final String ALGORITHM_PREFIX = "algorithm.algorithmSettings";
    public static final String EARLY_STOPPING_PREFIX = "earlyStopping.algorithmSettings";

    private final Map<String, String> values;
    private final String prefix;

    private Settings(Map<String, String> values, String prefix) {
        this.values = Map.copyOf(values);
        this.prefix = prefix;
    }

    /** Settings for an algorithm that understands only {@code known}; anything else is rejected. */
    public static Settings of(Map<String, String> values, String prefix, Set<String> known) {
        Objects.requireNonNull(values, "settings");
        for (String name : values.keySet()) {
            if (!known.contains(name)) {
                String accepted = known.isEmpty() ? "this algorithm takes no settings"
                        : "known settings are " + String.join(", ", new TreeSet<>(known));
                throw InvalidSpecException.of(prefix + "." + name,
                        "unknown setting '%s'; %s".formatted(name, accepted));
            }
        }
        return new Settings(values, prefix);
    }

    public String path(String name) {
        return prefix + "." + name;
    }

    public Optional<String> text(String name) {
        return Optional.ofNullable(values.get(name)).map(String::trim);
    }

    public int intValue(String name, int defaultValue, int min, int max) {
        Optional<String> text = text(name);
        if (text.isEmpty()) return defaultValue;
        int value;
        try {
            value = Integer.parseInt(text.get());
        } catch (NumberFormatException e) {
            throw bad(name, text.get(), "a whole number");
        }
        if (value < min || value > max) throw bad(name, text.get(), "a whole number in [%d, %d]".formatted(min, max));
        return value;
    }

    /** A number in [{@code min}, {@code max}], or in ({@code min}, {@code max}] when {@code openMin}. */
    public double doubleValue(String name, double defaultValue, double min, double max, boolean openMin) {
        Optional<String> text = text(name);
        if (text.isEmpty()) return defaultValue;
        double value;
        try {
            value = Double.parseDouble(text.get());
        } catch (NumberFormatException e) {
            throw bad(name, text.get(), "a number");
        }
        boolean aboveMin = openMin ? value > min : value >= min;
        if (!aboveMin || value > max || Double.isNaN(value)) {
            throw bad(name, text.get(), "a number in %s%s, %s]".formatted(openMin ? "(" : "[", min, max));
        }
        return value;
    }

    /** The {@code random_state} setting, or a fixed seed so that runs without one are reproducible too. */
    public long seed() {
        Optional<String> text = text("random_state");
        if (text.isEmpty()) return 0x5EEDL;
        try {
            return Long.parseLong(text.get());
        } catch (NumberFormatException e) {
            throw bad("random_state", text.get(), "a whole number");
        }
    }

    /** One of {@code choices} (compared ignoring case), returned as spelled in {@code choices}. */
    public String choice(String name, String defaultValue, Set<String> choices) {
        Optional<String> text = text(name);
        if (text.isEmpty()) return defaultValue;
        for (String choice : choices) {
            if (choice.equalsIgnoreCase(text.get())) return choice;
        }
        throw bad(name, text.get(), "one of " + String.join(", ", new TreeSet<>(choices)));
    }

    public InvalidSpecException bad(String name, String value, String expected) {
        return InvalidSpecException.of(path(name), "setting '%s' is '%s'; it must be %s".formatted(name, value, expected));
    }
}
