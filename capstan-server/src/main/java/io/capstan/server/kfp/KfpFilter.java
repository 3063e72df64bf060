package io.capstan.server.kfp;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * KFP's list filter: a JSON {@code {"predicates": [...]}}, every predicate of which must hold (KFP ANDs them).
 * Values compare as instants when the field is a time, as numbers when both sides are numbers, else as text.
 */
record KfpFilter(List<Predicate> predicates) {
    static final KfpFilter EVERYTHING = new KfpFilter(List.of());

    KfpFilter {
        predicates = List.copyOf(predicates);
    }

    enum Operation { EQUALS, NOT_EQUALS, GREATER_THAN, GREATER_THAN_EQUALS, LESS_THAN, LESS_THAN_EQUALS, IN, IS_SUBSTRING }

    /** One predicate; {@code values} holds one value, or several for {@code IN}, each a String, Long or Instant. */
    record Predicate(String key, Operation operation, List<Object> values) {
        Predicate {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(operation, "operation");
            values = List.copyOf(values);
        }

        boolean test(Object actual) {
            return switch (operation) {
                case EQUALS -> compare(actual, values.getFirst()) == 0;
                case NOT_EQUALS -> compare(actual, values.getFirst()) != 0;
                case GREATER_THAN -> compare(actual, values.getFirst()) > 0;
                case GREATER_THAN_EQUALS -> compare(actual, values.getFirst()) >= 0;
                case LESS_THAN -> compare(actual, values.getFirst()) < 0;
                case LESS_THAN_EQUALS -> compare(actual, values.getFirst()) <= 0;
                case IN -> values.stream().anyMatch(v -> compare(actual, v) == 0);
                case IS_SUBSTRING -> String.valueOf(actual).contains(String.valueOf(values.getFirst()));
            };
        }

        private static int compare(Object actual, Object expected) {
            if (actual instanceof Instant a) {
                var e = switch (expected) {
                    case Instant i -> i;
                    case Long seconds -> Instant.ofEpochSecond(seconds);
                    default -> KfpFilter.parseInstant(String.valueOf(expected)).orElse(Instant.EPOCH);
                };
                return a.compareTo(e);
            }
            if (actual instanceof Long a && expected instanceof Long e) return a.compareTo(e);
            return String.valueOf(actual).compareTo(String.valueOf(expected));
        }
    }

    /** Whether {@code fields}, the filterable fields of one object by KFP key, satisfy every predicate. */
    boolean matches(Map<String, Object> fields) {
        return predicates.stream().allMatch(p -> p.test(fields.getOrDefault(p.key(), "")));
    }

    /**
     * Parses the URL-decoded {@code filter} query value; the keys must be in {@code keys}.
     *
     * @throws InvalidSpecException naming the predicate and field at fault
     */
    static KfpFilter parse(String text, Set<String> keys) {
        if (text == null || text.isBlank()) return EVERYTHING;
        if (text.length() > 16384) throw InvalidSpecException.of("filter", "filter is longer than 16384 characters");
        JsonNode root;
        try {
            root = KfpWire.MAPPER.readTree(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw InvalidSpecException.of("filter", "filter is not valid JSON: " + Names.printable(e.getOriginalMessage())
                    + "; expected {\"predicates\": [{\"key\": ..., \"operation\": \"EQUALS\", \"string_value\": ...}]}");
        }
        if (!root.isObject() || (root.has("predicates") && !root.get("predicates").isArray())) {
            throw InvalidSpecException.of("filter.predicates", "filter must be an object with a 'predicates' array");
        }
        var out = new ArrayList<Predicate>();
        var errors = new ArrayList<io.capstan.core.FieldError>();
        int i = 0;
        for (var p : root.path("predicates")) {
            var where = "filter.predicates[" + i++ + "]";
            var key = p.path("key").asText("");
            if (!keys.contains(key)) {
                errors.add(io.capstan.core.FieldError.of(where + ".key", "filter key '" + Names.printable(key)
                        + "' is not supported here; use one of " + String.join(", ", keys.stream().sorted().toList())));
                continue;
            }
            Operation op;
            try {
                op = Operation.valueOf(p.path("operation").asText(""));
            } catch (IllegalArgumentException e) {
                errors.add(io.capstan.core.FieldError.of(where + ".operation", "operation '" + Names.printable(p.path("operation").asText(""))
                        + "' is not one of EQUALS, NOT_EQUALS, GREATER_THAN, GREATER_THAN_EQUALS, LESS_THAN, LESS_THAN_EQUALS, IN, IS_SUBSTRING"));
                continue;
            }
            var stamp = field(p, "timestamp_value").asText("");
            if (!stamp.isEmpty() && parseInstant(stamp).isEmpty()) {
                errors.add(io.capstan.core.FieldError.of(where + ".timestamp_value", "timestamp_value '" + Names.printable(stamp)
                        + "' is not an RFC 3339 time such as 2026-01-01T00:00:00Z"));
                continue;
            }
            var values = values(p, op);
            if (values.isEmpty()) {
                errors.add(io.capstan.core.FieldError.of(where, "predicate on '" + key + "' has no value; set "
                        + (op == Operation.IN ? "string_values, int_values or long_values" : "string_value, int_value, long_value or timestamp_value")));
                continue;
            }
            out.add(new Predicate(key, op, values));
        }
        if (!errors.isEmpty()) throw new InvalidSpecException(errors);
        return new KfpFilter(out);
    }

    private static List<Object> values(JsonNode p, Operation op) {
        var out = new ArrayList<Object>();
        if (op == Operation.IN) {
            for (var field : List.of("string_values", "int_values", "long_values")) {
                for (var v : field(p, field).path("values")) out.add(field.equals("string_values") ? v.asText() : (Object) v.asLong());
            }
            return out;
        }
        if (!field(p, "string_value").isMissingNode()) out.add(field(p, "string_value").asText());
        else if (!field(p, "int_value").isMissingNode()) out.add(field(p, "int_value").asLong());
        else if (!field(p, "long_value").isMissingNode()) out.add(field(p, "long_value").asLong());
        else if (!field(p, "timestamp_value").isMissingNode()) parseInstant(field(p, "timestamp_value").asText()).ifPresent(out::add);
        return out;
    }

    /**
     * A predicate field by its proto name or its JSON (camelCase) name: protobuf's JSON mapping accepts both, and
     * KFP's Python client writes {@code stringValue}.
     */
    private static JsonNode field(JsonNode p, String protoName) {
        var v = p.get(protoName);
        if (v == null || v.isNull()) {
            var parts = protoName.split("_");
            var camel = new StringBuilder(parts[0]);
            for (int i = 1; i < parts.length; i++) camel.append(Character.toUpperCase(parts[i].charAt(0))).append(parts[i].substring(1));
            v = p.get(camel.toString());
        }
        return v == null || v.isNull() ? com.fasterxml.jackson.databind.node.MissingNode.getInstance() : v;
    }

    private static java.util.Optional<Instant> parseInstant(String text) {
        try {
            return java.util.Optional.of(Instant.parse(text));
        } catch (DateTimeParseException e) {
            return java.util.Optional.empty();
        }
    }
}
