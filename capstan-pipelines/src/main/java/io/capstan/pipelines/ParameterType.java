package io.capstan.pipelines;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Arrays;
import java.util.Optional;

/** The type of a KFP parameter, as {@code parameterType} writes it in the IR. */
public enum ParameterType {
    STRING("STRING"),
    NUMBER_INTEGER("NUMBER_INTEGER"),
    NUMBER_DOUBLE("NUMBER_DOUBLE"),
    BOOLEAN("BOOLEAN"),
    LIST("LIST"),
    STRUCT("STRUCT"),
    TASK_FINAL_STATUS("TASK_FINAL_STATUS");

    private final String wireName;

    ParameterType(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    /** The type named {@code name}, also accepting the legacy {@code type} names INT and DOUBLE of schema 2.0.0. */
    public static Optional<ParameterType> fromWire(String name) {
        return switch (name) {
            case "INT" -> Optional.of(NUMBER_INTEGER);
            case "DOUBLE" -> Optional.of(NUMBER_DOUBLE);
            default -> Arrays.stream(values()).filter(t -> t.wireName.equals(name)).findFirst();
        };
    }

    /** Whether a value of type {@code produced} may feed an input of this type; an integer widens to a double. */
    public boolean accepts(ParameterType produced) {
        return this == produced
                || (this == NUMBER_DOUBLE && produced == NUMBER_INTEGER)
                // PipelineTaskFinalStatus is a struct; a DAG may forward it to a STRUCT input and back.
                || (this == STRUCT && produced == TASK_FINAL_STATUS)
                || (this == TASK_FINAL_STATUS && produced == STRUCT);
    }

    /** Whether the JSON {@code value} (a default or a constant) is a value of this type. */
    public boolean admits(JsonNode value) {
        return switch (this) {
            case STRING -> value.isTextual();
            case NUMBER_INTEGER -> value.isIntegralNumber() || (value.isNumber() && value.asDouble() == Math.rint(value.asDouble()));
            case NUMBER_DOUBLE -> value.isNumber();
            case BOOLEAN -> value.isBoolean();
            case LIST -> value.isArray();
            case STRUCT -> value.isObject();
            case TASK_FINAL_STATUS -> value.isObject();
        };
    }
}
