package io.capstan.metadata;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import java.util.Map;
import java.util.Objects;

/**
 * A property value of an artifact, execution or context: MLMD's {@code Value} oneof. A {@link StructValue}
 * holds a JSON object (MLMD's {@code google.protobuf.Struct}) as normalized text.
 */
public sealed interface PropertyValue {

    PropertyType type();

    static PropertyValue of(long value) {
        return new IntValue(value);
    }

    static PropertyValue of(double value) {
        return new DoubleValue(value);
    }

    static PropertyValue of(String value) {
        return new StringValue(value);
    }

    static PropertyValue of(boolean value) {
        return new BoolValue(value);
    }

    /** A struct value from a map of JSON-mappable values (strings, numbers, booleans, lists, maps). */
    static PropertyValue struct(Map<String, ?> value) {
        Objects.requireNonNull(value, "value");
        return new StructValue(Json.json().valueToTree(value).toString());
    }

    record IntValue(long value) implements PropertyValue {
        @Override
        public PropertyType type() {
            return PropertyType.INT;
        }
    }

    record DoubleValue(double value) implements PropertyValue {
        @Override
        public PropertyType type() {
            return PropertyType.DOUBLE;
        }
    }

    record StringValue(String value) implements PropertyValue {
        public StringValue {
            Objects.requireNonNull(value, "value");
        }

        @Override
        public PropertyType type() {
            return PropertyType.STRING;
        }
    }

    record BoolValue(boolean value) implements PropertyValue {
        @Override
        public PropertyType type() {
            return PropertyType.BOOLEAN;
        }
    }

    /** A JSON object; the text is normalized (no insignificant whitespace) so that equal objects compare equal. */
    record StructValue(String json) implements PropertyValue {
        public StructValue {
            Objects.requireNonNull(json, "json");
            JsonNode tree;
            try {
                tree = Json.json().readTree(json);
            } catch (JsonProcessingException e) {
                throw new InvalidSpecException("struct property value is not valid JSON: " + e.getOriginalMessage()
                        + "; pass a JSON object such as {\"k\": 1}");
            }
            if (tree == null || !tree.isObject()) {
                throw new InvalidSpecException("struct property value must be a JSON object, got: " + abbreviate(json));
            }
            json = tree.toString();
        }

        @Override
        public PropertyType type() {
            return PropertyType.STRUCT;
        }

        private static String abbreviate(String s) {
            return s.length() <= 60 ? s : s.substring(0, 57) + "...";
        }
    }
}
