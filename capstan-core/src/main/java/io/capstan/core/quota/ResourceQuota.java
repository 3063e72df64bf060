package io.capstan.core.quota;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Names;
import io.capstan.core.Problems;
import io.capstan.core.Quantity;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The hard limits of one namespace, read from a Kubeflow Profile's {@code spec.resourceQuotaSpec} (a Kubernetes
 * {@code ResourceQuotaSpec}). Enforced keys are those of {@link QuotaResource}; {@code cpu} and {@code memory} are
 * read as {@code requests.cpu} and {@code requests.memory} (the smaller wins when both are given). Other keys, such
 * as {@code requests.storage} or {@code count/...}, are accepted and not enforced locally; {@link #ignoredKeys()}
 * names them. {@code scopes} and {@code scopeSelector} are ignored likewise.
 *
 * @param namespace   the namespace the Profile creates (its {@code metadata.name})
 * @param hard        the enforced limits, CPUs in millicores, memory in bytes
 * @param ignoredKeys {@code hard} keys that are not enforced here
 */
public record ResourceQuota(String namespace, Map<QuotaResource, Long> hard, List<String> ignoredKeys) {
    public ResourceQuota {
        Objects.requireNonNull(namespace, "namespace");
        hard = Map.copyOf(hard);
        ignoredKeys = List.copyOf(ignoredKeys);
    }

    /**
     * Reads {@code resourceQuotaSpec}; a missing or empty spec means no limit.
     *
     * @param path where the spec sits, for error messages, such as {@code spec.resourceQuotaSpec}
     * @throws io.capstan.core.InvalidSpecException naming every bad field (a quantity that does not parse, a negative
     *                                              limit, a {@code hard} that is not a map)
     */
    public static ResourceQuota parse(String namespace, JsonNode resourceQuotaSpec, String path) {
        var problems = new Problems();
        var hard = new EnumMap<QuotaResource, Long>(QuotaResource.class);
        var ignored = new ArrayList<String>();
        var node = resourceQuotaSpec == null ? null : resourceQuotaSpec.get("hard");
        if (node != null && !node.isNull() && !node.isObject()) {
            problems.add(path + ".hard", "must be a map of resource names to quantities, such as {cpu: \"4\", pods: \"10\"}");
        } else if (node != null) {
            for (var e : node.properties()) {
                var field = path + ".hard." + e.getKey();
                var resource = QuotaResource.ofKey(e.getKey());
                if (resource.isEmpty()) {
                    ignored.add(e.getKey());
                    continue;
                }
                if (!e.getValue().isTextual() && !e.getValue().isNumber()) {
                    problems.add(field, "must be a quantity such as \"4\", \"500m\" or \"8Gi\"");
                    continue;
                }
                try {
                    var quantity = Quantity.parse(field, e.getValue().asText());
                    if (quantity.signum() < 0) {
                        problems.add(field, "must not be negative, got " + Names.printable(e.getValue().asText()));
                        continue;
                    }
                    hard.merge(resource.get(), resource.get().units(quantity), Math::min);
                } catch (io.capstan.core.InvalidSpecException ex) {
                    ex.errors().forEach(err -> problems.add(err.path(), err.message()));
                }
            }
        }
        problems.throwIfAny();
        return new ResourceQuota(namespace, hard, ignored);
    }

    /** Why {@code asked} exceeds a hard limit even in an empty namespace, naming the limit; empty when it fits. */
    public Optional<String> neverFits(QuotaUsage asked, String what) {
        for (var e : hard.entrySet()) {
            long want = asked.of(e.getKey());
            if (want > e.getValue()) {
                return Optional.of("namespace %s: %s asks %s %s but the quota allows %s; lower its requests or raise spec.resourceQuotaSpec.hard[%s] in Profile %s"
                        .formatted(namespace, what, e.getKey().format(want), e.getKey().wireName(), e.getKey().format(e.getValue()),
                                e.getKey().wireName(), namespace));
            }
        }
        return Optional.empty();
    }

    /** Why {@code asked} does not fit beside {@code used} now, naming the limit; empty when it fits. */
    public Optional<String> exceeded(QuotaUsage used, QuotaUsage asked, String what) {
        for (var e : hard.entrySet()) {
            long want = asked.of(e.getKey());
            if (want > 0 && used.of(e.getKey()) + want > e.getValue()) {
                return Optional.of("namespace %s: %s %s of %s in use, %s asks %s".formatted(namespace, e.getKey().wireName(),
                        e.getKey().format(used.of(e.getKey())), e.getKey().format(e.getValue()), what, e.getKey().format(want)));
            }
        }
        return Optional.empty();
    }
}
