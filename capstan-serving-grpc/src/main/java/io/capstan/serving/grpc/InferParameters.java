package io.capstan.serving.grpc;

import io.capstan.serving.api.InvalidInputException;
import io.capstan.serving.grpc.proto.InferParameter;
import java.util.HashMap;
import java.util.Map;

/** Converts {@link InferParameter} maps to the serving API's values (String, Boolean, Long or Double) and back. */
final class InferParameters {

    private InferParameters() {
    }

    /** @throws InvalidInputException for a parameter with no value or a uint64 beyond Long.MAX_VALUE */
    static Map<String, Object> decode(Map<String, InferParameter> parameters, String where) {
        if (parameters.isEmpty()) {
            return Map.of();
        }
        Map<String, Object> out = new HashMap<>(parameters.size() * 2);
        parameters.forEach((name, parameter) -> out.put(name, decode(name, parameter, where)));
        return out;
    }

    private static Object decode(String name, InferParameter parameter, String where) {
        return switch (parameter.getParameterChoiceCase()) {
            case BOOL_PARAM -> parameter.getBoolParam();
            case INT64_PARAM -> parameter.getInt64Param();
            case STRING_PARAM -> parameter.getStringParam();
            case DOUBLE_PARAM -> parameter.getDoubleParam();
            case UINT64_PARAM -> {
                long value = parameter.getUint64Param();
                if (value < 0) {
                    throw new InvalidInputException(where + "parameters['" + name + "']: uint64 value "
                            + Long.toUnsignedString(value) + " is larger than " + Long.MAX_VALUE);
                }
                yield value;
            }
            case PARAMETERCHOICE_NOT_SET -> throw new InvalidInputException(where + "parameters['" + name
                    + "'] has no value; set one of bool_param, int64_param, string_param, double_param");
        };
    }

    static Map<String, InferParameter> encode(Map<String, Object> parameters) {
        if (parameters.isEmpty()) {
            return Map.of();
        }
        Map<String, InferParameter> out = new HashMap<>(parameters.size() * 2);
        parameters.forEach((name, value) -> out.put(name, encode(value)));
        return out;
    }

    private static InferParameter encode(Object value) {
        InferParameter.Builder out = InferParameter.newBuilder();
        return switch (value) {
            case Boolean b -> out.setBoolParam(b).build();
            case Long l -> out.setInt64Param(l).build();
            case Integer i -> out.setInt64Param(i).build();
            case Short s -> out.setInt64Param(s).build();
            case Byte b -> out.setInt64Param(b).build();
            case Double d -> out.setDoubleParam(d).build();
            case Float f -> out.setDoubleParam(f).build();
            default -> out.setStringParam(String.valueOf(value)).build();
        };
    }
}
