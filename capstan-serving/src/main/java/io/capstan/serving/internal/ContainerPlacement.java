package io.capstan.serving.internal;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.backend.ContainerOptions;
import io.capstan.core.InvalidSpecException;
import io.capstan.serving.runtime.ModelLoadException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * How a component's (or a ServingRuntime's) container runs when it runs in one: {@code capstan.io/execution} (a revision annotation),
 * {@code imagePullPolicy}, and its {@code hostPath} volumes at their {@code volumeMounts}. Secret and config-map
 * volumes are written to files and their paths rewritten instead (see the reconciler); other volume kinds are not
 * mounted.
 */
final class ContainerPlacement {
    private ContainerPlacement() {
    }

    /**
     * @param annotations the revision's annotations
     * @param component e.g. {@code spec.predictor}, holding {@code volumes} and {@code containers}
     * @param at the component's spec path, for errors
     */
    static ContainerOptions of(JsonNode annotations, JsonNode component, String at) throws ModelLoadException {
        return of(execution(annotations), component, at);
    }

    /** The resource's {@code capstan.io/execution} from its (revision's) annotations. */
    static ContainerOptions.Execution execution(JsonNode annotations) throws ModelLoadException {
        try {
            return ContainerOptions.Execution.parse(annotations.path(ContainerOptions.EXECUTION_ANNOTATION).asText(""),
                    "metadata.annotations[" + ContainerOptions.EXECUTION_ANNOTATION + "]");
        } catch (InvalidSpecException e) {
            throw new ModelLoadException(e.getMessage(), e);
        }
    }

    /** As {@link #of(JsonNode, JsonNode, String)}; {@code component} may also be a ServingRuntime's spec. */
    static ContainerOptions of(ContainerOptions.Execution execution, JsonNode component, String at) throws ModelLoadException {
        try {
            var container = component.path("containers").path(0);
            var policy = ContainerOptions.PullPolicy.parse(container.path("imagePullPolicy").asText(""),
                    at + ".containers[0].imagePullPolicy");
            Map<String, String> hostPaths = new HashMap<>();
            var volumes = component.path("volumes");
            for (int i = 0; i < volumes.size(); i++) {
                var v = volumes.get(i);
                if (!v.has("hostPath")) continue;
                var host = v.path("hostPath").path("path").asText("");
                if (!host.startsWith("/")) {
                    throw InvalidSpecException.of(at + ".volumes[" + i + "].hostPath.path", at + ".volumes[" + i
                            + "].hostPath.path: required: an absolute folder of this machine");
                }
                hostPaths.put(v.path("name").asText(""), host);
            }
            var mounts = new ArrayList<ContainerOptions.Mount>();
            var volumeMounts = container.path("volumeMounts");
            for (int i = 0; i < volumeMounts.size(); i++) {
                var m = volumeMounts.get(i);
                var host = hostPaths.get(m.path("name").asText(""));
                if (host == null) continue;
                mounts.add(new ContainerOptions.Mount(Path.of(host), m.path("mountPath").asText(""), m.path("readOnly").asBoolean(false)));
            }
            return new ContainerOptions(execution, policy, mounts, Optional.empty());
        } catch (InvalidSpecException e) {
            throw new ModelLoadException(e.getMessage(), e);
        }
    }
}
