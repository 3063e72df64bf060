package io.capstan.core;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.regex.Pattern;

/**
 * Typed reads of single fields out of a spec tree. Each method takes the field's node as Jackson gives it
 * ({@code parent.get(name)} or {@code parent.path(name)}: {@code null}, a missing node or JSON null all mean
 * "absent") and the field's path within the document. A wrong value adds one problem naming that path to
 * {@code problems} and reads as absent, so a validator reports every bad field at once. Stateless and thread-safe.
 */
public final class SpecFields {
    /** Kubernetes' limit on an object name (DNS-1123 subdomain), used for names within specs too. */
    public static final int MAX_NAME_LENGTH = 253;
    private static final Pattern INTEGRAL = Pattern.compile("-?\\d{1,18}");
    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m|h)?");
    private static final int MAX_NUMBER_TEXT = 64;

    private SpecFields() {
    }

    /** Whether {@code node} holds a value: not {@code null}, not missing and not JSON null. */
    public static boolean present(JsonNode node) {
        return node != null && !node.isNull() && !node.isMissingNode();
    }

    /** What {@code node} is, for messages such as "expected a string, got a number". */
    public static String describe(JsonNode node) {
        if (!present(node)) return "nothing";
        if (node.isObject()) return "an object";
        if (node.isArray()) return "a list";
        if (node.isBoolean()) return "a boolean";
        if (node.isNumber()) return "a number";
        if (node.isTextual()) return "a string";
        return node.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    }

    /** An optional object; empty when absent or not an object. */
    public static Optional<JsonNode> object(JsonNode node, String path, Problems problems) {
        if (!present(node)) return Optional.empty();
        if (!node.isObject()) {
            problems.add(path, "expected an object, got " + describe(node));
            return Optional.empty();
        }
        return Optional.of(node);
    }

    /** As {@link #object}, adding a "required" problem when the field is absent. */
    public static Optional<JsonNode> requiredObject(JsonNode node, String path, Problems problems) {
        if (!present(node)) problems.add(path, "required");
        return object(node, path, problems);
    }

    /**
     * A single-line string such as an image, URL or mode: at most {@code maxLength} characters and no control
     * characters (tab and newline included).
     */
    public static Optional<String> string(JsonNode node, String path, int maxLength, Problems problems) {
        var text = textual(node, path, maxLength, problems);
        if (text.isPresent() && indexOfControl(text.get(), false) >= 0) {
            problems.add(path, "'" + Names.printable(text.get()) + "' contains a control character");
            return Optional.empty();
        }
        return text;
    }

    /**
     * Free text such as a command-line argument or a script: at most {@code maxLength} characters; newlines and
     * tabs are kept, NUL is refused because no process argument or environment variable can hold it.
     */
    public static Optional<String> text(JsonNode node, String path, int maxLength, Problems problems) {
        var text = textual(node, path, maxLength, problems);
        if (text.isPresent() && text.get().indexOf('\0') >= 0) {
            problems.add(path, "must not contain NUL characters");
            return Optional.empty();
        }
        return text;
    }

    /**
     * A list of at most {@code maxEntries} values read as {@link #text}; scalars other than strings (numbers,
     * booleans) are taken as their text, as YAML authors write {@code args: [--epochs, 3]}. Bad entries are left out.
     */
    public static List<String> strings(JsonNode node, String path, int maxEntries, int maxLength, Problems problems) {
        var out = new ArrayList<String>();
        if (!present(node)) return out;
        if (!node.isArray()) {
            problems.add(path, "expected a list of strings, got " + describe(node));
            return out;
        }
        if (node.size() > maxEntries) {
            problems.add(path, "has " + node.size() + " entries; the limit is " + maxEntries);
            return out;
        }
        for (int i = 0; i < node.size(); i++) {
            var item = node.get(i);
            var at = path + "[" + i + "]";
            if (!item.isValueNode() || item.isNull()) {
                problems.add(at, "expected a string, got " + describe(item));
                continue;
            }
            var s = item.asText();
            if (s.indexOf('\0') >= 0) {
                problems.add(at, "must not contain NUL characters");
            } else if (s.length() > maxLength) {
                problems.add(at, tooLong(s.length(), maxLength));
            } else {
                out.add(s);
            }
        }
        return out;
    }

    /**
     * A required name (of a metric, parameter, container or label value): a non-empty string of at most
     * {@link #MAX_NAME_LENGTH} characters with no control or invisible formatting characters. An empty string is
     * reported as missing.
     */
    public static Optional<String> name(JsonNode node, String path, Problems problems) {
        if (!present(node) || (node.isTextual() && node.asText().isEmpty())) {
            problems.add(path, "required");
            return Optional.empty();
        }
        var text = textual(node, path, MAX_NAME_LENGTH, problems);
        if (text.isPresent() && indexOfControl(text.get(), true) >= 0) {
            problems.add(path, "'" + Names.printable(text.get()) + "' contains a control character");
            return Optional.empty();
        }
        return text;
    }

    /** A JSON integer from {@code min} to {@code max}; a string such as "3" is refused, as Kubernetes does. */
    public static OptionalInt integer(JsonNode node, String path, int min, int max, Problems problems) {
        if (!present(node)) return OptionalInt.empty();
        if (!node.isIntegralNumber() || !node.canConvertToLong()) return notAnInteger(node, path, min, max, problems);
        return inRange(node.asLong(), path, min, max, problems);
    }

    /**
     * As {@link #integer}, also taking an integral string such as "3": Katib and KServe users write counts as
     * strings, because parameter values and annotations are strings.
     */
    public static OptionalInt integerOrString(JsonNode node, String path, int min, int max, Problems problems) {
        if (present(node) && node.isTextual() && INTEGRAL.matcher(node.asText()).matches()) {
            return inRange(Long.parseLong(node.asText()), path, min, max, problems);
        }
        return integer(node, path, min, max, problems);
    }

    /** A finite number, or a string holding one (Katib writes parameter values as strings). */
    public static OptionalDouble number(JsonNode node, String path, Problems problems) {
        if (!present(node)) return OptionalDouble.empty();
        double v;
        if (node.isNumber()) {
            v = node.asDouble();
        } else if (node.isTextual() && node.asText().length() <= MAX_NUMBER_TEXT) {
            try {
                v = Double.parseDouble(node.asText().strip());
            } catch (NumberFormatException e) {
                problems.add(path, "expected a number, got " + describe(node));
                return OptionalDouble.empty();
            }
        } else {
            problems.add(path, "expected a number, got " + describe(node));
            return OptionalDouble.empty();
        }
        if (!Double.isFinite(v)) {
            problems.add(path, "must be a finite number, got " + describe(node));
            return OptionalDouble.empty();
        }
        return OptionalDouble.of(v);
    }

    /** A boolean, or {@code fallback} when absent or not a boolean. */
    public static boolean bool(JsonNode node, String path, boolean fallback, Problems problems) {
        if (!present(node)) return fallback;
        if (!node.isBoolean()) {
            problems.add(path, "expected true or false, got " + describe(node));
            return fallback;
        }
        return node.asBoolean();
    }

    /** A Kubernetes-style duration ("10ms", "5s", "1m", "2h") or a whole number of {@code unitIfBare}. */
    public static Optional<Duration> duration(String text, ChronoUnit unitIfBare, String path, Problems problems) {
        var m = DURATION.matcher(text.strip());
        if (!m.matches()) {
            problems.add(path, "'" + Names.printable(text) + "' is not a duration; use e.g. 500ms, 30s or 5m");
            return Optional.empty();
        }
        long value = Long.parseLong(m.group(1));
        var unit = m.group(2);
        if (unit == null) return Optional.of(Duration.of(value, unitIfBare));
        return Optional.of(switch (unit) {
            case "ms" -> Duration.ofMillis(value);
            case "s" -> Duration.ofSeconds(value);
            case "m" -> Duration.ofMinutes(value);
            default -> Duration.ofHours(value);
        });
    }

    private static Optional<String> textual(JsonNode node, String path, int maxLength, Problems problems) {
        if (!present(node)) return Optional.empty();
        if (!node.isTextual()) {
            problems.add(path, "expected a string, got " + describe(node));
            return Optional.empty();
        }
        var text = node.asText();
        if (text.length() > maxLength) {
            problems.add(path, tooLong(text.length(), maxLength));
            return Optional.empty();
        }
        return Optional.of(text);
    }

    private static String tooLong(int length, int maxLength) {
        return "is " + length + " characters long; the limit is " + maxLength;
    }

    private static int indexOfControl(String text, boolean formatToo) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isISOControl(c) || (formatToo && Character.getType(c) == Character.FORMAT)) return i;
        }
        return -1;
    }

    private static OptionalInt notAnInteger(JsonNode node, String path, int min, int max, Problems problems) {
        problems.add(path, "expected an integer from " + min + " to " + max + ", got " + describe(node));
        return OptionalInt.empty();
    }

    private static OptionalInt inRange(long value, String path, int min, int max, Problems problems) {
        if (value < min || value > max) {
            problems.add(path, "must be from " + min + " to " + max + ", got " + value);
            return OptionalInt.empty();
        }
        return OptionalInt.of((int) value);
    }
}
