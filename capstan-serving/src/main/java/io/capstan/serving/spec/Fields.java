package io.capstan.serving.spec;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Problems;
import java.time.Duration;
import java.util.Optional;

/** Typed reads of optional spec fields; each wrong value is a problem naming its path. */
final class Fields {
    static final int MAX_STRING = 4096;

    private Fields() {
    }

    static Optional<String> string(JsonNode parent, String field, String path, Problems problems) {
        var node = parent.get(field);
        if (node == null || node.isNull()) return Optional.empty();
        if (!node.isTextual()) {
            problems.add(path, "expected a string");
            return Optional.empty();
        }
        var text = node.asText();
        if (text.length() > MAX_STRING) {
            problems.add(path, "is " + text.length() + " characters, more than the limit of " + MAX_STRING);
            return Optional.empty();
        }
        for (int i = 0; i < text.length(); i++) {
            if (Character.isISOControl(text.charAt(i))) {
                problems.add(path, "contains a control character");
                return Optional.empty();
            }
        }
        return Optional.of(text);
    }

    static Optional<Integer> integer(JsonNode parent, String field, String path, int min, int max, Problems problems) {
        var node = parent.get(field);
        if (node == null || node.isNull()) return Optional.empty();
        if (node.isTextual() && node.asText().matches("-?\\d{1,9}")) node = com.fasterxml.jackson.databind.node.IntNode.valueOf(Integer.parseInt(node.asText()));
        if (!node.canConvertToInt() || !node.isIntegralNumber()) {
            problems.add(path, "expected a whole number");
            return Optional.empty();
        }
        int value = node.asInt();
        if (value < min || value > max) {
            problems.add(path, "must be between " + min + " and " + max + ", got " + value);
            return Optional.empty();
        }
        return Optional.of(value);
    }

    static boolean bool(JsonNode parent, String field, String path, boolean fallback, Problems problems) {
        var node = parent.get(field);
        if (node == null || node.isNull()) return fallback;
        if (!node.isBoolean()) {
            problems.add(path, "expected true or false");
            return fallback;
        }
        return node.asBoolean();
    }

    static Optional<JsonNode> object(JsonNode parent, String field, String path, Problems problems) {
        var node = parent.get(field);
        if (node == null || node.isNull()) return Optional.empty();
        if (!node.isObject()) {
            problems.add(path, "expected an object");
            return Optional.empty();
        }
        return Optional.of(node);
    }

    /** A Kubernetes-style duration ("10ms", "5s", "1m") or a whole number of {@code unitIfBare}. */
    static Optional<Duration> duration(String text, java.time.temporal.ChronoUnit unitIfBare, String path, Problems problems) {
        var m = java.util.regex.Pattern.compile("(\\d{1,9})(ms|s|m|h)?").matcher(text.strip());
        if (!m.matches()) {
            problems.add(path, "'" + io.capstan.core.Names.printable(text) + "' is not a duration; use e.g. 500ms, 30s or 5m");
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
}
