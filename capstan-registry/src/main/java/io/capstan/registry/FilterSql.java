package io.capstan.registry;

import io.capstan.registry.FilterQuery.Binary;
import io.capstan.registry.FilterQuery.Comparison;
import io.capstan.registry.FilterQuery.Expr;
import io.capstan.registry.FilterQuery.FilterException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Compiles a parsed {@code filterQuery} into a SQL condition on {@code registry_entity e}, every value a bound
 * parameter. Names are resolved as upstream resolves them: the entity's own columns ({@code id}, {@code name},
 * {@code externalId}, the two times), then the kind's well-known properties, then custom properties, whose value
 * column is the type suffix or, without one, the literal's type ({@code 'x'} string, {@code 1} int, {@code 1.0}
 * double, {@code true} bool).
 */
final class FilterSql {
    private static final Map<String, String> COLUMNS = Map.of("id", "e.id", "name", "e.name", "externalId", "e.external_id",
            "createTimeSinceEpoch", "e.create_time", "lastUpdateTimeSinceEpoch", "e.update_time");
    private static final Set<String> NUMERIC_COLUMNS = Set.of("e.id", "e.create_time", "e.update_time");

    private FilterSql() {
    }

    /** The condition for {@code expr}, appending its parameters to {@code params}. */
    static String compile(Expr expr, Set<String> wellKnown, List<Object> params) {
        return switch (expr) {
            case Binary b -> "(" + compile(b.left(), wellKnown, params) + " " + b.op() + " " + compile(b.right(), wellKnown, params) + ")";
            case Comparison c -> comparison(c, wellKnown, params);
        };
    }

    private static String comparison(Comparison c, Set<String> wellKnown, List<Object> params) {
        var column = c.explicitType() == null ? COLUMNS.get(c.name()) : null;
        if (column != null) return columnCondition(c, column, params);
        boolean custom = !wellKnown.contains(c.name());
        String valueColumn;
        if (c.explicitType() != null) {
            valueColumn = c.explicitType();
        } else {
            var sample = c.value() instanceof List<?> list ? (list.isEmpty() ? "" : list.getFirst()) : c.value();
            valueColumn = switch (sample) {
                case String s -> "string_value";
                case Long l -> custom ? "int_value" : "double_value";
                case Double d -> "double_value";
                case Boolean b -> "bool_value";
                default -> "string_value";
            };
        }
        // Uncorrelated, so that the database reads the matching properties once through the typed index (a correlated
        // EXISTS made H2 scan that index again for every entity).
        var sql = new StringBuilder("e.id IN (SELECT p.entity_id FROM registry_property p WHERE p.name = ? AND p.is_custom = ? AND ");
        params.add(c.name());
        params.add(custom);
        sql.append(test(c, "p." + valueColumn, valueColumn, params)).append(')');
        return sql.toString();
    }

    private static String columnCondition(Comparison c, String column, List<Object> params) {
        var type = NUMERIC_COLUMNS.contains(column) ? "int_value" : "string_value";
        return test(c, column, type, params);
    }

    /** {@code column op value}, the value converted to what {@code type} holds. */
    private static String test(Comparison c, String column, String type, List<Object> params) {
        var op = c.op();
        if (op.equals("IN")) {
            var values = c.value() instanceof List<?> list ? list : List.of(c.value());
            if (values.isEmpty()) return "1 = 0";
            var marks = new ArrayList<String>();
            for (var v : values) {
                params.add(convert(c, v, type));
                marks.add("?");
            }
            return column + " IN (" + String.join(", ", marks) + ")";
        }
        if (c.value() instanceof List<?>) throw new FilterException("invalid filter query: " + c.property() + " " + op + " takes one value; a list needs IN");
        if (op.equals("LIKE") || op.equals("ILIKE")) {
            if (!type.equals("string_value")) {
                throw new FilterException("invalid filter query: " + c.property() + " " + op + " compares text, but " + c.property() + " is a number or boolean");
            }
            params.add(convert(c, c.value(), type));
            return op.equals("LIKE") ? column + " LIKE ?" : "LOWER(" + column + ") LIKE LOWER(?)";
        }
        if (type.equals("bool_value") && !op.equals("=") && !op.equals("!=") && !op.equals("<>")) {
            throw new FilterException("invalid filter query: " + c.property() + " is a boolean; compare it with = or !=");
        }
        params.add(convert(c, c.value(), type));
        return column + " " + (op.equals("!=") ? "<>" : op) + " ?";
    }

    private static Object convert(Comparison c, Object value, String type) {
        try {
            return switch (type) {
                case "string_value" -> value instanceof Double d ? Double.toString(d) : String.valueOf(value);
                case "int_value" -> switch (value) {
                    case Long l -> l;
                    case Double d when d == Math.rint(d) && Math.abs(d) < 9.2e18 -> d.longValue();
                    case String s -> Long.parseLong(s.trim());
                    default -> throw new NumberFormatException();
                };
                case "double_value" -> switch (value) {
                    case Long l -> l.doubleValue();
                    case Double d -> d;
                    case String s -> Double.parseDouble(s.trim());
                    default -> throw new NumberFormatException();
                };
                case "bool_value" -> switch (value) {
                    case Boolean b -> b;
                    case String s when s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false") -> Boolean.parseBoolean(s);
                    default -> throw new NumberFormatException();
                };
                default -> throw new IllegalStateException(type);
            };
        } catch (NumberFormatException e) {
            var what = switch (type) {
                case "int_value" -> "an integer";
                case "double_value" -> "a number";
                case "bool_value" -> "true or false";
                default -> "a string";
            };
            throw new FilterException("invalid filter query: " + c.property() + " needs " + what + ", not " + describe(value));
        }
    }

    private static String describe(Object value) {
        return value instanceof String s ? "'" + s + "'" : String.valueOf(value);
    }
}
