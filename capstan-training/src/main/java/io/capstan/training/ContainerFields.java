package io.capstan.training;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.backend.ResourceRequest;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import io.capstan.core.Problems;
import io.capstan.core.Quantity;
import io.capstan.core.SpecFields;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Reads the parts of a Kubernetes container that training jobs share (env, resources) and the limits on its
 * strings, adding a problem with the field path for every bad value.
 */
final class ContainerFields {
    static final int MAX_ARGS = 1024;
    static final int MAX_ENV = 1024;
    static final int MAX_STRING = 64 * 1024;
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_.-]*");

    private ContainerFields() {
    }

    /**
     * Kubernetes' container env: a list of {name, value}. A {@code valueFrom} of a secret or config map is left to
     * {@link #configRefs} and resolved at start; other sources (field refs) cannot be resolved locally, and such
     * variables are reported in {@code warnings} and left out.
     */
    static Map<String, String> env(JsonNode node, String path, Problems problems, List<String> warnings) {
        var out = new LinkedHashMap<String, String>();
        if (!SpecFields.present(node)) return out;
        if (!node.isArray()) {
            problems.add(path, "expected a list of {name, value}, got " + SpecFields.describe(node));
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
                problems.add(at, "expected {name, value}, got " + SpecFields.describe(item));
                continue;
            }
            var name = SpecFields.text(item.get("name"), at + ".name", MAX_STRING, problems);
            if (name.isEmpty()) {
                if (!SpecFields.present(item.get("name"))) problems.add(at + ".name", "required: the variable's name");
                continue;
            }
            if (!ENV_NAME.matcher(name.get()).matches()) {
                problems.add(at + ".name", "'" + Names.printable(name.get()) + "' is not a valid environment variable name");
                continue;
            }
            if (SpecFields.present(item.get("valueFrom"))) {
                var from = item.get("valueFrom");
                if (!from.has("secretKeyRef") && !from.has("configMapKeyRef")) {
                    warnings.add(at + ".valueFrom: cannot be resolved outside Kubernetes; " + name.get() + " is left unset");
                }
                continue;
            }
            var value = item.get("value");
            if (!SpecFields.present(value)) {
                out.put(name.get(), "");
            } else if (!value.isValueNode()) {
                problems.add(at + ".value", "expected a string, got " + SpecFields.describe(value));
            } else if (value.asText().indexOf('\0') >= 0) {
                problems.add(at + ".value", "must not contain NUL characters");
            } else {
                out.put(name.get(), value.asText());
            }
        }
        return out;
    }

    /**
     * The container's references to Secrets and ConfigMaps, as a container node for
     * {@link io.capstan.core.ConfigResolver}: its {@code env} entries with a secret or config-map {@code valueFrom},
     * its {@code envFrom} and {@code volumeMounts}, and the pod's secret and config-map {@code volumes} (kept under
     * {@code volumes}). Later containers' references come after, so they win.
     */
    static com.fasterxml.jackson.databind.node.ObjectNode configRefs(JsonNode... containers) {
        var out = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        var env = out.putArray("env");
        var envFrom = out.putArray("envFrom");
        for (var node : containers) {
            if (node == null) continue;
            for (var item : node.path("env")) {
                var from = item.path("valueFrom");
                if (from.has("secretKeyRef") || from.has("configMapKeyRef")) env.add(item.deepCopy());
            }
            for (var item : node.path("envFrom")) envFrom.add(item.deepCopy());
            for (var item : node.path("volumeMounts")) out.withArray("volumeMounts").add(item.deepCopy());
            for (var item : node.path("volumes")) {
                if (item.has("secret") || item.has("configMap")) out.withArray("volumes").add(item.deepCopy());
            }
        }
        return out;
    }

    /** Reads {@code requests} (falling back to {@code limits}) for cpu, memory and nvidia.com/gpu. */
    static ResourceRequest resources(JsonNode node, String path, Problems problems) {
        var res = SpecFields.object(node, path, problems);
        if (res.isEmpty()) return ResourceRequest.NONE;
        var requests = SpecFields.object(res.get().get("requests"), path + ".requests", problems);
        var limits = SpecFields.object(res.get().get("limits"), path + ".limits", problems);
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
        var fromRequests = requests.map(r -> r.get(name)).filter(SpecFields::present);
        var node = fromRequests.or(() -> limits.map(l -> l.get(name)).filter(SpecFields::present));
        if (node.isEmpty()) return BigDecimal.ZERO;
        var at = path + (fromRequests.isPresent() ? ".requests." : ".limits.") + name;
        if (!node.get().isNumber() && !node.get().isTextual()) {
            problems.add(at, "expected a quantity such as 500m, 2 or 1Gi, got " + SpecFields.describe(node.get()));
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
