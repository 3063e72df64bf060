package io.capstan.pipelines.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.capstan.pipelines.ComponentSpec;
import io.capstan.pipelines.ExecutionPlan;
import java.util.TreeMap;

/** The cache key of a container step: what must match for an earlier execution's outputs to be reused. */
final class StepCacheKey {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private StepCacheKey() {
    }

    /** SHA-256 over the component spec, the resolved inputs and the command, in canonical JSON. */
    static String of(ComponentSpec component, ExecutionPlan.ContainerStep step, TaskStatus st) {
        var o = F.objectNode();
        o.set("component", component.raw());
        o.set("inputs", st.inputs());
        var uris = F.objectNode();
        st.inputArtifacts().properties().forEach(e -> {
            var list = uris.putArray(e.getKey());
            e.getValue().forEach(a -> list.add(a.path("uri").asText("")));
        });
        o.set("artifacts", uris);
        var c = step.container();
        var command = o.putArray("command");
        c.command().forEach(command::add);
        var args = o.putArray("args");
        c.args().forEach(args::add);
        o.put("image", c.image());
        return PipelineRuns.sha256(canonical(o).toString());
    }

    private static JsonNode canonical(JsonNode node) {
        if (node.isObject()) {
            var sorted = new TreeMap<String, JsonNode>();
            node.properties().forEach(e -> sorted.put(e.getKey(), canonical(e.getValue())));
            var o = F.objectNode();
            sorted.forEach(o::set);
            return o;
        }
        if (node.isArray()) {
            var a = F.arrayNode();
            node.forEach(n -> a.add(canonical(n)));
            return a;
        }
        return node;
    }
}
