package io.capstan.serving.spec;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.Problems;
import io.capstan.core.SpecFields;
import io.capstan.serving.runtime.SupportedFormat;
import java.util.ArrayList;
import java.util.List;

/**
 * A KServe {@code ServingRuntime} or {@code ClusterServingRuntime} spec. {@code supportedModelFormats} (with autoSelect
 * and priority) choose the runtime for a model. A first container with a {@code command} runs as a model-server
 * process for each model it serves; without one (an image's entrypoint) the model is served by Capstan's built-in
 * runtime for its format.
 *
 * @param container the first container, or null
 */
public record ServingRuntimeSpec(List<SupportedFormat> supportedModelFormats, List<String> protocolVersions, boolean disabled,
                                 ContainerSpec container) {

    public ServingRuntimeSpec {
        supportedModelFormats = List.copyOf(supportedModelFormats);
        protocolVersions = List.copyOf(protocolVersions);
    }

    public static ServingRuntimeSpec parse(ObjectNode spec, Problems problems) {
        var formats = new ArrayList<SupportedFormat>();
        var node = spec.get("supportedModelFormats");
        if (node == null || !node.isArray()) {
            problems.add("spec.supportedModelFormats", node == null ? "is required" : "expected a list");
            return null;
        }
        for (int i = 0; i < node.size(); i++) {
            var at = "spec.supportedModelFormats[" + i + "]";
            var entry = node.get(i);
            if (!entry.isObject()) {
                problems.add(at, "expected an object with a name");
                continue;
            }
            var name = SpecFields.string(entry.get("name"), at + ".name", InferenceServiceSpec.MAX_STRING, problems);
            if (name.isEmpty()) {
                if (!entry.has("name")) problems.add(at + ".name", "is required");
                continue;
            }
            var version = SpecFields.string(entry.get("version"), at + ".version", InferenceServiceSpec.MAX_STRING, problems).orElse(null);
            boolean autoSelect = SpecFields.bool(entry.get("autoSelect"), at + ".autoSelect", false, problems);
            int priority = SpecFields.integerOrString(entry.get("priority"), at + ".priority", 1, Integer.MAX_VALUE, problems).orElse(0);
            formats.add(new SupportedFormat(name.get(), version, autoSelect, priority));
        }
        var protocols = new ArrayList<String>();
        var protocolNode = spec.get("protocolVersions");
        if (protocolNode != null && protocolNode.isArray()) protocolNode.forEach(p -> protocols.add(p.asText()));
        boolean disabled = SpecFields.bool(spec.get("disabled"), "spec.disabled", false, problems);
        ContainerSpec container = null;
        var containers = spec.get("containers");
        if (containers != null && containers.isArray() && !containers.isEmpty() && containers.get(0).isObject()) {
            container = ContainerSpec.parse(containers.get(0), "spec.containers[0]", problems, new ArrayList<>());
        }
        return new ServingRuntimeSpec(formats, protocols, disabled, container);
    }
}
