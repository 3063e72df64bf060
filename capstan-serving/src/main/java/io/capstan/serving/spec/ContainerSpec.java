package io.capstan.serving.spec;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Problems;
import io.capstan.core.SpecFields;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A component's first container ({@code spec.predictor.containers[0]}, {@code spec.transformer.containers[0]}): what
 * Capstan runs as a model-server process.
 *
 * @param image the image, or null; a host process runs {@code command} instead
 * @param command the entrypoint; empty when the spec gives none (the image's own)
 * @param env the variables with literal values; {@code valueFrom} entries (Secret and ConfigMap keys) are resolved
 *            when the process starts
 * @param workingDir the folder the process starts in, or null
 * @param path the spec path, e.g. {@code spec.predictor.containers[0]}
 */
public record ContainerSpec(String image, List<String> command, List<String> args, Map<String, String> env, String workingDir,
                            String path) {
    public ContainerSpec {
        command = List.copyOf(command);
        args = List.copyOf(args);
        env = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(env));
    }

    /** STORAGE_URI, as KServe's storage initializer reads it from a custom container. */
    public String storageUri() {
        return env.get("STORAGE_URI");
    }

    static ContainerSpec parse(JsonNode node, String at, Problems problems, List<String> warnings) {
        var image = SpecFields.string(node.get("image"), at + ".image", InferenceServiceSpec.MAX_STRING, problems).orElse(null);
        var command = SpecFields.strings(node.get("command"), at + ".command", 1000, InferenceServiceSpec.MAX_STRING, problems);
        var args = SpecFields.strings(node.get("args"), at + ".args", 1000, InferenceServiceSpec.MAX_STRING, problems);
        var env = new LinkedHashMap<String, String>();
        var list = node.get("env");
        if (SpecFields.present(list)) {
            if (!list.isArray()) {
                problems.add(at + ".env", "expected a list of {name, value}");
            } else {
                for (int i = 0; i < list.size(); i++) {
                    var item = list.get(i);
                    var itemAt = at + ".env[" + i + "]";
                    if (!item.isObject()) {
                        problems.add(itemAt, "expected {name, value}");
                        continue;
                    }
                    var name = SpecFields.name(item.get("name"), itemAt + ".name", problems);
                    if (name.isEmpty()) continue;
                    if (item.has("valueFrom")) continue;
                    env.put(name.get(), SpecFields.text(item.get("value"), itemAt + ".value", 65_536, problems).orElse(""));
                }
            }
        }
        var workingDir = SpecFields.string(node.get("workingDir"), at + ".workingDir", InferenceServiceSpec.MAX_STRING, problems)
                .orElse(null);
        return new ContainerSpec(image, command, args, env, workingDir, at);
    }
}
