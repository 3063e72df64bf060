package io.capstan.store.testing;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.capstan.core.ObjectMeta;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import java.util.List;
import java.util.Map;

/**
 * Kubeflow Profiles for tests, stored by kind string: {@code profile("team-a", Map.of("pods", "2"))} governs namespace
 * {@code team-a} with that {@code spec.resourceQuotaSpec.hard}.
 */
public final class TestProfiles {
    public static final String KIND = "Profile";

    private TestProfiles() {
    }

    public static Resource profile(String namespace, Map<String, String> hard) {
        var spec = JsonNodeFactory.instance.objectNode();
        spec.putObject("owner").put("kind", "User").put("name", "alice@example.com");
        var h = spec.putObject("resourceQuotaSpec").putObject("hard");
        hard.forEach(h::put);
        var meta = new ObjectMeta(namespace, ObjectMeta.DEFAULT_NAMESPACE, "", Map.of(), Map.of(), null, 0, "", List.of());
        return Resource.of("kubeflow.org/v1", KIND, meta, spec);
    }

    public static ResourceKey key(String namespace) {
        return new ResourceKey(KIND, ObjectMeta.DEFAULT_NAMESPACE, namespace);
    }
}
