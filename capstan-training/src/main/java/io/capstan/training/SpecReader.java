package io.capstan.training;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.backend.ResourceRequest;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import io.capstan.core.Problems;
import io.capstan.core.Quantity;
import io.capstan.core.ResourceParser;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/** Reads typed values out of a spec tree, adding a problem with the field path for every bad one. */
final class SpecReader {
    static final int MAX_ARGS = 1024;
    static final int MAX_ENV = 1024;
    static final int MAX_STRING = 64 * 1024;
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_.-]*");

    private SpecReader() {
    }

    static boolean present(JsonNode node) {
        return node != null && !node.isNull() && !node.isMissingNode();
    }

    static Optional<JsonNode> object(JsonNode parent, String field, String path, Problems problems) {
        var node = parent == null ? null : parent.get(field);
        if (!present(node)) return Optional.empty();
        if (!node.isObject()) {
            problems.add(path, "expected an object, got " + ResourceParser.describe(node));
            return Optional.empty();
        }
        return Optional.of(node);
    }

    static Optional<String> text(JsonNode parent, String field, String path, Problems problems) {
        var node = parent == null ? null : parent.get(field);
        if (!present(node)) return Optional.empty();
        if (!node.isTextual()) {
            problems.add(path, "expected a string, got " + ResourceParser.describe(node));
            return Optional.empty();
        }
        var s = node.asText();
        if (s.length() > MAX_STRING) {
            problems.add(path, "is " + s.length() + " characters long; the limit is " + MAX_STRING);
            return Optional.empty();
        }
        if (s.indexOf('\0') >= 0) {
            problems.add(path, "must not contain NUL characters");
            return Optional.empty();
        }
        return Optional.of(s);
    }

    static int integer(JsonNode parent, String field, String path, int fallback, int min, int max, Problems problems) {
        var node = parent == null ? null : parent.get(field);
        if (!present(node)) return fallback;
        if (!node.isIntegralNumber() || !node.canConvertToInt()) {
            problems.add(path, "expected an integer from " + min + " to " + max + ", got " + ResourceParser.describe(node));
            return fallback;
        }
        int v = node.asInt();
        if (v < min || v > max) {
            problems.add(path, "must be from " + min + " to " + max + ", got " + v);
            return fallback;
        }
        return v;
    }

    static boolean bool(JsonNode parent, String field, String path, Problems problems) {
        var node = parent == null ? null : parent.get(field);
        if (!present(node)) return false;
        if (!node.isBoolean()) {
            problems.add(path, "expected true or false, got " + ResourceParser.describe(node));
            return false;
        }
        return node.asBoolean();
    }

    static List<String> strings(JsonNode parent, String field, String path, Problems problems) {
        var node = parent == null ? null : parent.get(field);
        var out = new ArrayList<String>();
        if (!present(node)) return out;
        if (!node.isArray()) {
            problems.add(path, "expected a list of strings, got " + ResourceParser.describe(node));
            return out;
        }
        if (node.size() > MAX_ARGS) {
            problems.add(path, "has " + node.size() + " entries; the limit is " + MAX_ARGS);
            return out;
        }
        for (int i = 0; i < node.size(); i++) {
            var item = node.get(i);
            if (!item.isValueNode() || item.isNull()) {
                problems.add(path + "[" + i + "]", "expected a string, got " + ResourceParser.describe(item));
            } else if (item.asText().indexOf('\0') >= 0) {
                problems.add(path + "[" + i + "]", "must not contain NUL characters");
            } else if (item.asText().length() > MAX_STRING) {
                problems.add(path + "[" + i + "]", "is " + item.asText().length() + " characters long; the limit is " + MAX_STRING);
            } else {
                out.add(item.asText());
            }
        }
        return out;
    }

    /**
     * Kubernetes' container env: a list of {name, value}. {@code valueFrom} (secrets, field refs) cannot be resolved
     * locally; such variables are reported in {@code warnings} and left out.
     */
    static Map<String, String> env(JsonNode parent, String field, String path, Problems problems, List<String> warnings) {
        var node = parent == null ? null : parent.get(field);
        var out = new LinkedHashMap<String, String>();
        if (!present(node)) return out;
        if (!node.isArray()) {
            problems.add(path, "expected a list of {name, value}, got " + ResourceParser.describe(node));
            return out;
        }
        if (node.size() > MAX_ENV) {
            problems.add(path, "has " + node.size() + " entries; the limit is " + MAX_ENV);
            return out;
        }
        for (int i = 0; i < node.size(); i++) {
            var item = node.get(i);
            var at = path + "[" + i + "]";
            if (!item.isObject()) {
                problems.add(at, "expected {name, value}, got " + ResourceParser.describe(item));
                continue;
            }
            var name = text(item, "name", at + ".name", problems);
            if (name.isEmpty()) {
                if (!present(item.get("name"))) problems.add(at + ".name", "required: the variable's name");
                continue;
            }
            if (!ENV_NAME.matcher(name.get()).matches()) {
                problems.add(at + ".name", "'" + Names.printable(name.get()) + "' is not a valid environment variable name");
                continue;
            }
            if (present(item.get("valueFrom"))) {
                warnings.add(at + ".valueFrom: cannot be resolved outside Kubernetes; " + name.get() + " is left unset");
                continue;
            }
            var value = item.get("value");
            if (!present(value)) {
                out.put(name.get(), "");
            } else if (!value.isValueNode()) {
                problems.add(at + ".value", "expected a string, got " + ResourceParser.describe(value));
            } else if (value.asText().indexOf('\0') >= 0) {
                problems.add(at + ".value", "must not contain NUL characters");
            } else {
                out.put(name.get(), value.asText());
            }
        }
        return out;
    }

    /** Reads {@code requests} (falling back to {@code limits}) for cpu, memory and nvidia.com/gpu. */
    static ResourceRequest resources(JsonNode parent, String field, String path, Problems problems) {
        var res = object(parent, field, path, problems);
        if (res.isEmpty()) return ResourceRequest.NONE;
        var requests = object(res.get(), "requests", path + ".requests", problems);
        var limits = object(res.get(), "limits", path + ".limits", problems);
        double cpus = quantity(requests, limits, "cpu", path, problems, true).doubleValue();
        long memory = quantity(requests, limits, "memory", path, problems, false).longValue();
        var gpu = quantity(requests, limits, "nvidia.com/gpu", path, problems, false);
        if (gpu.compareTo(BigDecimal.valueOf(64)) > 0) {
            problems.add(path + ".limits.nvidia.com/gpu", "must be at most 64, got " + gpu.toPlainString());
            gpu = BigDecimal.ZERO;
        }
        return new ResourceRequest(cpus, memory, gpu.intValue());
    }

    private static BigDecimal quantity(Optional<JsonNode> requests, Optional<JsonNode> limits, String name, String path,
                                       Problems problems, boolean fractional) {
        var fromRequests = requests.map(r -> r.get(name)).filter(SpecReader::present);
        var node = fromRequests.or(() -> limits.map(l -> l.get(name)).filter(SpecReader::present));
        if (node.isEmpty()) return BigDecimal.ZERO;
        var at = path + (fromRequests.isPresent() ? ".requests." : ".limits.") + name;
        if (!node.get().isNumber() && !node.get().isTextual()) {
            problems.add(at, "expected a quantity such as 500m, 2 or 1Gi, got " + ResourceParser.describe(node.get()));
            return BigDecimal.ZERO;
        }
        try {
            var q = Quantity.parse(at, node.get().asText());
            if (q.signum() < 0) {
                problems.add(at, "must not be negative, got " + node.get().asText());
                return BigDecimal.ZERO;
            }
            if (!fractional) q = q.setScale(0, RoundingMode.CEILING);
            if (q.compareTo(BigDecimal.valueOf(Long.MAX_VALUE / 2)) > 0) {
                problems.add(at, "quantity is too large");
                return BigDecimal.ZERO;
            }
            return q;
        } catch (InvalidSpecException e) {
            e.errors().forEach(err -> problems.add(at, err.message()));
            return BigDecimal.ZERO;
        }
    }
}
