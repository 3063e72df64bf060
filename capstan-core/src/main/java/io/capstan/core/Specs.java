package io.capstan.core;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/** Binds a resource spec to an engine's own spec record, turning Jackson's type errors into field errors. */
public final class Specs {
    private Specs() {
    }

    /**
     * Binds {@code spec} to {@code type}; a wrong type or a record constructor's {@link InvalidSpecException}
     * becomes a problem naming the field under {@code spec}.
     */
    public static <T> T bind(ObjectNode spec, Class<T> type, Problems problems) {
        try {
            return Json.json().treeToValue(spec, type);
        } catch (JsonMappingException e) {
            var path = "spec" + pathOf(e.getPath());
            var cause = e.getCause();
            if (cause instanceof InvalidSpecException invalid) {
                invalid.errors().forEach(err -> problems.add(err.path().isEmpty() ? path : err.path(), err.message()));
            } else if (e instanceof MismatchedInputException m && m.getTargetType() != null) {
                problems.add(path, "expected " + typeName(m.getTargetType()) + ", got a value that is not one");
            } else {
                problems.add(path, e.getOriginalMessage());
            }
            return null;
        } catch (JsonProcessingException e) {
            problems.add("spec", e.getOriginalMessage());
            return null;
        }
    }

    /** As {@link #bind(ObjectNode, Class, Problems)}, throwing {@link InvalidSpecException} on failure. */
    public static <T> T bind(ObjectNode spec, Class<T> type) {
        var problems = new Problems();
        var value = bind(spec, type, problems);
        problems.throwIfAny();
        return value;
    }

    static String pathOf(List<JsonMappingException.Reference> refs) {
        var sb = new StringBuilder();
        for (var r : refs) {
            if (r.getIndex() >= 0) sb.append('[').append(r.getIndex()).append(']');
            else if (r.getFieldName() != null) sb.append('.').append(r.getFieldName());
        }
        return sb.toString();
    }

    private static String typeName(Class<?> t) {
        if (t == int.class || t == Integer.class || t == long.class || t == Long.class) return "an integer";
        if (t == double.class || t == Double.class || t == float.class || t == Float.class) return "a number";
        if (t == boolean.class || t == Boolean.class) return "a boolean";
        if (t == String.class) return "a string";
        if (List.class.isAssignableFrom(t)) return "a list";
        if (java.util.Map.class.isAssignableFrom(t)) return "a map";
        if (t.isEnum()) return "one of " + java.util.Arrays.toString(t.getEnumConstants());
        return "an object";
    }
}
