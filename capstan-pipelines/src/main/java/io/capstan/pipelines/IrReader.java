package io.capstan.pipelines;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import io.capstan.core.Names;
import io.capstan.core.Problems;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads fields out of a JSON tree by path, adding a problem for each wrong type and a warning for each field it
 * does not know. Absent fields read as the IR's proto3 defaults (empty string, false, 0). One instance per document;
 * not thread-safe.
 */
final class IrReader {
    private final Problems problems;
    private final List<PipelineWarning> warnings;

    IrReader(Problems problems, List<PipelineWarning> warnings) {
        this.problems = problems;
        this.warnings = warnings;
    }

    static String child(String path, String field) {
        return path.isEmpty() ? field : path + "." + field;
    }

    void error(String path, String message) {
        problems.add(path, message);
    }

    void warn(String path, String message) {
        warnings.add(new PipelineWarning(path, message));
    }

    /** Whether {@code node} is an object; otherwise a problem is added. Unknown fields become warnings. */
    boolean object(JsonNode node, String path, Set<String> known) {
        if (!node.isObject()) {
            error(path, "expected an object, got " + describe(node));
            return false;
        }
        node.fieldNames().forEachRemaining(name -> {
            if (!known.contains(name)) {
                warnings.add(new PipelineWarning(child(path, name),
                        "field '" + Names.printable(name) + "' is not part of the KFP IR that Capstan reads; it is kept but ignored"));
            }
        });
        return true;
    }

    /** The field's value, or a missing node; an explicit null reads as missing. */
    static JsonNode field(JsonNode node, String name) {
        var value = node.path(name);
        return value.isNull() ? MissingNode.getInstance() : value;
    }

    String text(JsonNode node, String name, String path) {
        var value = field(node, name);
        if (value.isMissingNode()) return "";
        if (value.isTextual()) return value.asText();
        if (value.isNumber() || value.isBoolean()) return value.asText();
        error(child(path, name), "expected a string, got " + describe(value));
        return "";
    }

    String requiredText(JsonNode node, String name, String path, String why) {
        var value = text(node, name, path);
        if (value.isEmpty() && !hasProblemAt(node, name)) error(child(path, name), "is required: " + why);
        return value;
    }

    private static boolean hasProblemAt(JsonNode node, String name) {
        var v = field(node, name);
        return !v.isMissingNode() && !v.isValueNode();
    }

    boolean bool(JsonNode node, String name, String path) {
        var value = field(node, name);
        if (value.isMissingNode()) return false;
        if (value.isBoolean()) return value.asBoolean();
        error(child(path, name), "expected true or false, got " + describe(value));
        return false;
    }

    long integer(JsonNode node, String name, String path) {
        var value = field(node, name);
        if (value.isMissingNode()) return 0;
        if (value.isIntegralNumber() && value.canConvertToLong()) return value.asLong();
        if (value.isTextual()) {
            try {
                return Long.parseLong(value.asText().strip());
            } catch (NumberFormatException e) {
                // reported below: proto3 JSON writes 64-bit integers as strings, anything else is wrong
            }
        }
        error(child(path, name), "expected an integer, got " + describe(value));
        return 0;
    }

    double number(JsonNode node, String name, String path, double absent) {
        var value = field(node, name);
        if (value.isMissingNode()) return absent;
        if (value.isNumber()) return value.asDouble();
        error(child(path, name), "expected a number, got " + describe(value));
        return absent;
    }

    List<String> strings(JsonNode node, String name, String path) {
        var value = field(node, name);
        if (value.isMissingNode()) return List.of();
        var p = child(path, name);
        if (!value.isArray()) {
            error(p, "expected a list of strings, got " + describe(value));
            return List.of();
        }
        var out = new ArrayList<String>();
        for (int i = 0; i < value.size(); i++) {
            var item = value.get(i);
            if (item.isTextual() || item.isNumber() || item.isBoolean()) out.add(item.asText());
            else error(p + "[" + i + "]", "expected a string, got " + describe(item));
        }
        return out;
    }

    /** The entries of a map field in document order, or none; a non-object adds a problem. */
    Map<String, JsonNode> entries(JsonNode node, String name, String path) {
        var value = field(node, name);
        var out = new LinkedHashMap<String, JsonNode>();
        if (value.isMissingNode()) return out;
        if (!value.isObject()) {
            error(child(path, name), "expected a map of names to objects, got " + describe(value));
            return out;
        }
        value.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue()));
        return out;
    }

    static String describe(JsonNode node) {
        if (node.isMissingNode()) return "nothing";
        if (node.isObject()) return "an object";
        if (node.isArray()) return "a list";
        if (node.isTextual()) return "the string '" + Names.printable(node.asText()) + "'";
        if (node.isBoolean()) return "the boolean " + node.asText();
        if (node.isNumber()) return "the number " + node.asText();
        return node.getNodeType().toString().toLowerCase();
    }
}
