package io.capstan.store.testing;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.ObjectMeta;
import io.capstan.core.Resource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** Builder of test resources with valid defaults: {@code aResource("Job", "default", "x").withLabel("a", "b").build()}. */
public final class TestResources {
    private final String kind;
    private final String namespace;
    private final String name;
    private String apiVersion = "capstan.io/v1";
    private final Map<String, String> labels = new HashMap<>();
    private ObjectNode spec = JsonNodeFactory.instance.objectNode().put("image", "busybox");

    private TestResources(String kind, String namespace, String name) {
        this.kind = Objects.requireNonNull(kind, "kind");
        this.namespace = Objects.requireNonNull(namespace, "namespace");
        this.name = Objects.requireNonNull(name, "name");
    }

    public static TestResources aResource(String kind, String namespace, String name) {
        return new TestResources(kind, namespace, name);
    }

    public TestResources withApiVersion(String value) {
        apiVersion = value;
        return this;
    }

    public TestResources withLabel(String key, String value) {
        labels.put(key, value);
        return this;
    }

    public TestResources withSpec(ObjectNode value) {
        spec = value.deepCopy();
        return this;
    }

    public TestResources withSpecField(String field, String value) {
        spec.put(field, value);
        return this;
    }

    public Resource build() {
        var meta = new ObjectMeta(name, namespace, "", labels, Map.of(), null, 0, "", List.of());
        return Resource.of(apiVersion, kind, meta, spec);
    }
}
