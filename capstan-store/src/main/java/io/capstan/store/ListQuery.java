package io.capstan.store;

import java.util.Objects;
import java.util.Optional;

/**
 * Which resources to list. An empty namespace means all namespaces. {@code continueToken} comes from the previous
 * {@link Page}; {@code limit} is 1..1000.
 */
public record ListQuery(String kind, Optional<String> namespace, LabelSelector selector, int limit, Optional<String> continueToken) {
    public static final int MAX_LIMIT = 1000;

    public ListQuery {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(selector, "selector");
        Objects.requireNonNull(continueToken, "continueToken");
        if (limit < 1 || limit > MAX_LIMIT) throw io.capstan.core.InvalidSpecException.of("limit", "limit must be 1.." + MAX_LIMIT + ", got " + limit);
    }

    public static ListQuery all(String kind, String namespace) {
        return new ListQuery(kind, Optional.of(namespace), LabelSelector.EVERYTHING, MAX_LIMIT, Optional.empty());
    }
}
