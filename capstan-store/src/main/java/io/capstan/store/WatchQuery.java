package io.capstan.store;

import java.util.Objects;
import java.util.Optional;

/** Which changes a watcher wants; empty kind or namespace means all. */
public record WatchQuery(Optional<String> kind, Optional<String> namespace, LabelSelector selector) {
    public static final WatchQuery EVERYTHING = new WatchQuery(Optional.empty(), Optional.empty(), LabelSelector.EVERYTHING);

    public WatchQuery {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(selector, "selector");
    }

    public static WatchQuery ofKind(String kind) {
        return new WatchQuery(Optional.of(kind), Optional.empty(), LabelSelector.EVERYTHING);
    }
}
