package io.capstan.tuning;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Names;
import io.capstan.core.Problems;
import io.capstan.core.ResourceParser;
import java.util.OptionalDouble;
import java.util.OptionalInt;

/** Reading single spec fields into values, each bad one reported as a problem naming its path. */
final class SpecFields {
    static final int MAX_NAME_LENGTH = 253;

    private SpecFields() {
    }

    static boolean object(JsonNode node, String path, boolean required, Problems problems) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            if (required) problems.add(path, "required");
            return false;
        }
        if (!node.isObject()) {
            problems.add(path, "expected an object, got " + describe(node));
            return false;
        }
        return true;
    }

    static String name(JsonNode node, String path, boolean required, Problems problems) {
        if (node == null || node.isNull() || (node.isTextual() && node.asText().isEmpty())) {
            if (required) problems.add(path, "required");
            return null;
        }
        if (!node.isTextual()) {
            problems.add(path, "expected a string, got " + describe(node));
            return null;
        }
        var text = node.asText();
        if (text.length() > MAX_NAME_LENGTH) {
            problems.add(path, "is " + text.length() + " characters long; the limit is " + MAX_NAME_LENGTH);
            return null;
        }
        if (!Names.printable(text).equals(text) && text.length() <= 64) {
            problems.add(path, "'" + Names.printable(text) + "' contains control characters");
            return null;
        }
        return text;
    }

    static OptionalDouble number(JsonNode node, String path, Problems problems) {
        double v;
        if (node.isNumber()) {
            v = node.asDouble();
        } else if (node.isTextual()) {
            try {
                var text = node.asText().strip();
                if (text.length() > 64) throw new NumberFormatException();
                v = Double.parseDouble(text);
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

    static OptionalInt integer(JsonNode node, String path, int min, int max, Problems problems) {
        if (node == null || node.isNull()) return OptionalInt.empty();
        long v;
        if (node.isIntegralNumber() && node.canConvertToLong()) v = node.asLong();
        else if (node.isTextual() && node.asText().matches("-?\\d{1,12}")) v = Long.parseLong(node.asText());
        else {
            problems.add(path, "expected an integer from " + min + " to " + max + ", got " + describe(node));
            return OptionalInt.empty();
        }
        if (v < min || v > max) {
            problems.add(path, "must be from " + min + " to " + max + ", got " + v);
            return OptionalInt.empty();
        }
        return OptionalInt.of((int) v);
    }

    static String describe(JsonNode node) {
        return ResourceParser.describe(node);
    }

    static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }
}
