package io.capstan.pipelines;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.capstan.core.Names;
import io.capstan.core.Problems;
import io.capstan.core.ResourceParser;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The optional second document of a compiled pipeline: per-platform settings such as Kubernetes volumes, node
 * selectors and secrets. Capstan keeps it whole for the Kubernetes backend. Locally, the kfp-kubernetes executor
 * settings in {@link #APPLIED_LOCALLY} are emulated; every other field is reported as a {@link PipelineWarning}.
 *
 * @param raw the document as written, or an empty object when the pipeline has none
 */
public record PlatformSpec(JsonNode raw) {
    public static final PlatformSpec NONE = new PlatformSpec(JsonNodeFactory.instance.objectNode());

    public PlatformSpec {
        raw = raw.deepCopy();
    }

    public boolean isEmpty() {
        return raw.isEmpty();
    }

    /** kfp-kubernetes executor settings that local runs apply: volumes, secrets, config maps, downward API, timeout. */
    public static final Set<String> APPLIED_LOCALLY = Set.of("pvcMount", "secretAsEnv", "secretAsVolume", "configMapAsEnv",
            "configMapAsVolume", "fieldPathAsEnv", "podMetadata", "activeDeadlineSeconds", "emptyDirMounts", "genericEphemeralVolume");

    /**
     * Adds a problem for each malformed entry of a setting in {@link #APPLIED_LOCALLY} that names a mount path, an
     * environment variable or a key, so that a run is refused before it starts rather than failing a task later.
     */
    static void checkApplied(String setting, JsonNode value, String path, Problems problems) {
        var mounts = Set.of("pvcMount", "secretAsVolume", "configMapAsVolume", "emptyDirMounts", "genericEphemeralVolume");
        var envKeys = Map.of("secretAsEnv", "secretKey", "configMapAsEnv", "configMapKey");
        if (!mounts.contains(setting) && !envKeys.containsKey(setting) && !setting.equals("fieldPathAsEnv")) return;
        if (!value.isArray()) {
            problems.add(path, "expected a list, got " + ResourceParser.describe(value));
            return;
        }
        for (int i = 0; i < value.size(); i++) {
            var entry = value.get(i);
            var at = path + "[" + i + "]";
            if (!entry.isObject()) {
                problems.add(at, "expected an object, got " + ResourceParser.describe(entry));
                continue;
            }
            // KFP's compiler accepts a relative mount path (its own samples have one); a local step refuses it when it starts.
            if (mounts.contains(setting) && entry.path("mountPath").asText("").isEmpty()) {
                problems.add(at + ".mountPath", "required: the path where the step sees the volume");
            }
            if (envKeys.containsKey(setting)) {
                var keys = entry.path("keyToEnv");
                for (int k = 0; k < keys.size(); k++) {
                    if (keys.get(k).path("envVar").asText("").isEmpty()) problems.add(at + ".keyToEnv[" + k + "].envVar", "required: the environment variable to set");
                    if (keys.get(k).path(envKeys.get(setting)).asText("").isEmpty()) {
                        problems.add(at + ".keyToEnv[" + k + "]." + envKeys.get(setting), "required: the key whose value the variable gets");
                    }
                }
            }
            if (setting.equals("fieldPathAsEnv")) {
                if (entry.path("name").asText("").isEmpty()) problems.add(at + ".name", "required: the environment variable to set");
                if (entry.path("fieldPath").asText("").isEmpty()) problems.add(at + ".fieldPath", "required: the pod field, such as metadata.name");
            }
        }
    }

    /** Why an executor setting of {@code platform} does nothing locally; empty when a local run applies it. */
    static Optional<String> localWarning(String platform, String executor, String setting, JsonNode value) {
        var where = "executor '" + Names.printable(executor) + "': ";
        if (platform.equals("kubernetes")) {
            if (APPLIED_LOCALLY.contains(setting)) return Optional.empty();
            var shown = value.toString();
            if (shown.length() > 200) shown = shown.substring(0, 200) + "...";
            var reason = switch (setting) {
                case "imagePullPolicy" -> "image pull policy " + shown + " is not applied locally: steps run as local processes and pull no image";
                case "imagePullSecret" -> "image pull secrets are not used locally: steps run as local processes and pull no image";
                case "nodeSelector" -> "node selector " + shown + " is not applied locally: every step runs on this machine";
                case "tolerations" -> "tolerations " + shown + " are not applied locally: every step runs on this machine";
                case "nodeAffinity", "podAffinity" -> setting + " " + shown + " is not applied locally: every step runs on this machine";
                default -> null;
            };
            if (reason != null) return Optional.of(where + reason + "; it takes effect on the Kubernetes backend");
        }
        return Optional.of("platform field '" + Names.printable(setting) + "' (" + Names.printable(platform) + ") of " + where.substring(0, where.length() - 2)
                + " is accepted but not applied locally; it takes effect only on the Kubernetes backend");
    }
}
