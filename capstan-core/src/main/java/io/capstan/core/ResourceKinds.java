package io.capstan.core;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The immutable set of kinds this Capstan accepts, assembled once at start-up from every module's kinds. */
public final class ResourceKinds {
    private final Map<String, ResourceKind> byKind;

    private ResourceKinds(Map<String, ResourceKind> byKind) {
        this.byKind = Map.copyOf(byKind);
    }

    public static ResourceKinds of(Collection<ResourceKind> kinds) {
        var map = new LinkedHashMap<String, ResourceKind>();
        for (var k : kinds) {
            if (map.putIfAbsent(k.kind(), k) != null) throw new IllegalArgumentException("kind registered twice: " + k.kind());
        }
        return new ResourceKinds(map);
    }

    public Optional<ResourceKind> findByKind(String kind) {
        return Optional.ofNullable(byKind.get(kind));
    }

    /** Looks a kind up by kind, plural or short name, ignoring case, as {@code capstan get jobs} does. */
    public Optional<ResourceKind> findByName(String name) {
        return byKind.values().stream().filter(k -> k.isNamed(name)).findFirst();
    }

    public ResourceKind getByName(String name) {
        return findByName(name).orElseThrow(() -> new NotFoundException(
                "unknown resource type '" + name + "'; known types: " + String.join(", ", plurals())));
    }

    public List<ResourceKind> all() {
        return List.copyOf(byKind.values());
    }

    public List<String> plurals() {
        var out = new ArrayList<String>();
        byKind.values().forEach(k -> out.add(k.plural()));
        out.sort(null);
        return out;
    }
}
