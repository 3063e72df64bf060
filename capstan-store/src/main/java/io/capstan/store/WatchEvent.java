package io.capstan.store;

import io.capstan.core.Resource;
import java.util.Objects;

/** One change in the feed: the resource as it was right after the change (for DELETED, as it was last stored). */
public record WatchEvent(Type type, long resourceVersion, Resource resource) {
    public WatchEvent {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(resource, "resource");
    }

    public enum Type { ADDED, MODIFIED, DELETED }
}
