package io.capstan.pipelines.run;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import io.capstan.core.PermanentFailureException;
import io.capstan.pipelines.ParameterType;

/** Typed KFP parameter values: parsing output files and coercing run parameters given as text. */
final class ParameterValues {
    private ParameterValues() {
    }

    /**
     * Parses the contents of an output parameter file. A string keeps its text minus one trailing newline, as
     * {@code echo} writes it.
     *
     * @throws PermanentFailureException naming {@code what} when the text is not a value of {@code type}
     */
    static JsonNode parse(ParameterType type, String text, String what) {
        var trimmed = text.strip();
        try {
            return switch (type) {
                case STRING -> TextNode.valueOf(text.endsWith("\n") ? text.substring(0, text.length() - 1) : text);
                case NUMBER_INTEGER -> LongNode.valueOf(trimmed.contains(".") ? (long) Double.parseDouble(trimmed) : Long.parseLong(trimmed));
                case NUMBER_DOUBLE -> DoubleNode.valueOf(Double.parseDouble(trimmed));
                case BOOLEAN -> {
                    if (!trimmed.equalsIgnoreCase("true") && !trimmed.equalsIgnoreCase("false")) throw new NumberFormatException(trimmed);
                    yield BooleanNode.valueOf(trimmed.equalsIgnoreCase("true"));
                }
                case LIST, STRUCT, TASK_FINAL_STATUS -> {
                    var node = Json.json().readTree(trimmed);
                    if (node == null || (type == ParameterType.LIST ? !node.isArray() : !node.isObject())) throw new NumberFormatException(trimmed);
                    yield node;
                }
            };
        } catch (NumberFormatException | JsonProcessingException e) {
            throw new PermanentFailureException(what + " must be " + type.wireName() + " but the step wrote '"
                    + (trimmed.length() > 80 ? trimmed.substring(0, 80) + "..." : trimmed) + "'");
        }
    }

    /**
     * Coerces a supplied value to the declared type: text such as {@code "3"} (from {@code -p n=3}) becomes a
     * number, a JSON list given as text becomes a list.
     *
     * @throws InvalidSpecException naming {@code what} when the value cannot be of that type
     */
    static JsonNode coerce(ParameterType type, JsonNode value, String what) {
        if (type.admits(value)) {
            return type == ParameterType.NUMBER_INTEGER && !value.isIntegralNumber() ? LongNode.valueOf(value.asLong()) : value;
        }
        if (value.isTextual()) {
            try {
                return parse(type, value.asText(), what);
            } catch (PermanentFailureException e) {
                throw new InvalidSpecException(what + " must be " + type.wireName() + ", got '" + value.asText() + "'");
            }
        }
        if (type == ParameterType.STRING && value.isValueNode()) return TextNode.valueOf(value.asText());
        if (type == ParameterType.STRING) return TextNode.valueOf(value.toString());
        throw new InvalidSpecException(what + " must be " + type.wireName() + ", got " + value);
    }
}
