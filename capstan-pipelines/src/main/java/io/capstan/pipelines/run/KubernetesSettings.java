package io.capstan.pipelines.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.CoreKinds;
import io.capstan.core.Json;
import io.capstan.core.PermanentFailureException;
import io.capstan.core.ResourceKey;
import io.capstan.core.TransientException;
import io.capstan.store.ResourceStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The kfp-kubernetes settings of a run's executors ({@code platforms.kubernetes.deploymentSpec.executors} of the
 * platform spec), emulated for steps that run as local processes:
 * <ul>
 *   <li>a PVC is a folder under the run, {@code volumes/pvc/<name>}; KFP's {@code createpvc} and {@code deletepvc}
 *       system steps create and delete it without a process, and {@code createpvc} outputs its {@code name};</li>
 *   <li>secrets and config maps come from {@code v1 Secret} and {@code ConfigMap} resources, as environment
 *       variables or as a folder with one file per key; a missing one fails the task unless marked optional;</li>
 *   <li>{@code fieldPathAsEnv} gets the downward-API value the step's pod would have;</li>
 *   <li>empty-dir and generic ephemeral volumes are a fresh folder per attempt.</li>
 * </ul>
 * A mount path is mapped to its local folder by rewriting it wherever it appears as a path in the step's command,
 * arguments (which hold a lightweight component's source) and environment; {@code CAPSTAN_PATH_MAP} tells the step
 * the mapping as a JSON object. Immutable; reads the store on each {@link #resolve}.
 */
final class KubernetesSettings {
    static final String CREATE_PVC_IMAGE = "argostub/createpvc";
    static final String DELETE_PVC_IMAGE = "argostub/deletepvc";
    static final String PATH_MAP_ENV = "CAPSTAN_PATH_MAP";
    /** The pod annotation and label KFP's API server puts on every step's pod. */
    static final String RUN_NAME_ANNOTATION = "pipelines.kubeflow.org/run_name";
    static final String RUN_ID_LABEL = "pipeline/runid";
    private static final Pattern LABEL_FIELD = Pattern.compile("metadata\\.(labels|annotations)\\[(?:'([^']*)'|\"([^\"]*)\")]");
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /** Reads the decoded entries of a Secret or ConfigMap. */
    @FunctionalInterface
    interface ConfigSource {
        ConfigSource NONE = (kind, namespace, name) -> Optional.empty();

        Optional<Map<String, byte[]>> find(String kind, String namespace, String name);

        static ConfigSource of(ResourceStore store) {
            return (kind, namespace, name) -> store.find(new ResourceKey(kind, namespace, name)).map(CoreKinds::entries);
        }
    }

    /** Resolves a KFP {@code InputParameterSpec} of the task: a runtime constant, an upstream output or a DAG input. */
    @FunctionalInterface
    interface Inputs {
        Optional<JsonNode> resolve(JsonNode inputParameterSpec);
    }

    /** A folder the step sees at {@code mountPath}: a PVC's shared folder, or one of the attempt's own with {@code files}. */
    record Mount(String mountPath, Optional<Path> shared, Map<String, byte[]> files) {
        Mount {
            files = Map.copyOf(files);
        }
    }

    /** What one executor's settings give one attempt: environment variables and mounts. */
    record Resolved(Map<String, String> env, List<Mount> mounts) {
        Resolved {
            env = Map.copyOf(env);
            mounts = List.copyOf(mounts);
        }

        /**
         * Creates the mounted folders and writes the secret and config-map files, then maps every mount path in
         * {@code command} to its folder and adds the environment.
         */
        StepCommand applyTo(StepCommand command, Path attemptDir) {
            if (env.isEmpty() && mounts.isEmpty()) return command;
            var map = new LinkedHashMap<String, String>();
            for (var m : mounts) map.put(m.mountPath(), materialize(m, attemptDir).toString());
            var rewrite = new PathMap(map);
            var newEnv = new LinkedHashMap<String, String>();
            command.env().forEach((k, v) -> newEnv.put(k, rewrite.apply(v)));
            env.forEach(newEnv::put);
            if (!map.isEmpty()) newEnv.put(PATH_MAP_ENV, Json.json().valueToTree(map).toString());
            return new StepCommand(command.command().stream().map(rewrite::apply).toList(),
                    command.args().stream().map(rewrite::apply).toList(), newEnv);
        }

        private static Path materialize(Mount m, Path attemptDir) {
            var dir = m.shared().orElseGet(() -> attemptDir.resolve("mounts").resolve(RunLayout.safe(m.mountPath())));
            try {
                Files.createDirectories(dir);
                for (var f : m.files().entrySet()) {
                    var file = dir.resolve(f.getKey());
                    Files.write(file, f.getValue());
                    try {
                        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
                    } catch (UnsupportedOperationException e) {
                        // Not a POSIX file system: the file keeps the folder's default permissions.
                    }
                }
            } catch (IOException e) {
                throw new TransientException("cannot prepare the folder " + dir + " mounted at " + m.mountPath() + ": " + e.getMessage(), e);
            }
            return dir.toAbsolutePath();
        }
    }

    /** Rewrites mount paths that stand as a path of their own (not inside a longer path) to their local folders. */
    private static final class PathMap {
        private final Pattern pattern;
        private final Map<String, String> map;

        PathMap(Map<String, String> map) {
            this.map = map;
            var longestFirst = map.keySet().stream().sorted(Comparator.comparingInt(String::length).reversed()).map(Pattern::quote).toList();
            this.pattern = map.isEmpty() ? null : Pattern.compile("(?<![\\w.\\-/])(" + String.join("|", longestFirst) + ")(?=$|/|[^\\w.\\-])");
        }

        String apply(String value) {
            if (pattern == null) return value;
            Matcher m = pattern.matcher(value);
            var sb = new StringBuilder();
            while (m.find()) m.appendReplacement(sb, Matcher.quoteReplacement(map.get(m.group(1))));
            m.appendTail(sb);
            return sb.toString();
        }
    }

    private final JsonNode executors;
    private final RunLayout layout;
    private final ConfigSource configs;

    KubernetesSettings(JsonNode platformSpec, RunLayout layout, ConfigSource configs) {
        this.executors = platformSpec.path("platforms").path("kubernetes").path("deploymentSpec").path("executors");
        this.layout = layout;
        this.configs = configs;
    }

    /** {@code activeDeadlineSeconds} of the executor (kfp-kubernetes {@code set_timeout}). */
    Optional<Duration> timeout(String executorLabel) {
        var seconds = executors.path(executorLabel).path("activeDeadlineSeconds");
        return seconds.canConvertToLong() && seconds.asLong() > 0 ? Optional.of(Duration.ofSeconds(seconds.asLong())) : Optional.empty();
    }

    static boolean isSystemStep(String image) {
        return image.equals(CREATE_PVC_IMAGE) || image.equals(DELETE_PVC_IMAGE);
    }

    /** The local folder of the PVC {@code name}, shared by every task of the run. */
    Path pvcDir(String name) {
        return layout.runDir().resolve("volumes").resolve("pvc").resolve(RunLayout.safe(name));
    }

    /**
     * Runs KFP's {@code createpvc} or {@code deletepvc} system step on its resolved inputs and returns its outputs.
     * As KFP names it, a PVC given only {@code pvc_name_suffix} is {@code <run name><suffix>}.
     */
    ObjectNode runSystemStep(String taskPath, String image, ObjectNode inputs) {
        var name = text(inputs.get("pvc_name"));
        var outputs = F.objectNode();
        var parameters = outputs.putObject("parameters");
        outputs.putObject("artifacts");
        if (image.equals(CREATE_PVC_IMAGE)) {
            if (name.isEmpty()) {
                var suffix = text(inputs.get("pvc_name_suffix"));
                if (suffix.isEmpty()) throw new PermanentFailureException("task " + taskPath + ": createpvc needs pvc_name or pvc_name_suffix");
                name = layout.runName() + (suffix.startsWith("-") ? suffix : "-" + suffix);
            }
            try {
                Files.createDirectories(pvcDir(name));
            } catch (IOException e) {
                throw new TransientException("task " + taskPath + ": cannot create the folder of PVC '" + name + "': " + e.getMessage(), e);
            }
            parameters.put("name", name);
            return outputs;
        }
        if (name.isEmpty()) throw new PermanentFailureException("task " + taskPath + ": deletepvc needs the input pvc_name");
        deleteTree(pvcDir(name), taskPath);
        return outputs;
    }

    private static void deleteTree(Path dir, String taskPath) {
        if (!Files.exists(dir)) return;
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                    if (e != null) throw e;
                    Files.delete(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new TransientException("task " + taskPath + ": cannot delete the PVC folder " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * What the settings of {@code executorLabel} give the attempt {@code workloadId} of {@code taskPath}, read now.
     *
     * @throws PermanentFailureException naming a secret, config map, key or PVC name that does not resolve, or a
     *                                   field path a local step has no value for
     */
    Resolved resolve(String taskPath, String executorLabel, String workloadId, Inputs inputs) {
        var config = executors.path(executorLabel);
        if (!config.isObject()) return new Resolved(Map.of(), List.of());
        var env = new LinkedHashMap<String, String>();
        var mounts = new ArrayList<Mount>();
        var where = "task " + taskPath + ": ";

        for (var pvc : config.path("pvcMount")) {
            var nameSpec = pvc.has("pvcNameParameter") ? pvc.get("pvcNameParameter") : legacyReference(pvc);
            var name = inputs.resolve(nameSpec).map(KubernetesSettings::text).orElse("");
            if (name.isEmpty()) throw new PermanentFailureException(where + "the PVC mounted at " + pvc.path("mountPath").asText() + " has no name: " + nameSpec + " resolved to nothing");
            var dir = pvcDir(name);
            var sub = pvc.path("subPath").asText("");
            if (!sub.isEmpty()) {
                var resolved = dir.resolve(sub).normalize();
                if (!resolved.startsWith(dir)) throw new PermanentFailureException(where + "subPath '" + sub + "' of PVC '" + name + "' leaves the volume");
                dir = resolved;
            }
            mounts.add(new Mount(mountPath(pvc, where), Optional.of(dir), Map.of()));
        }
        for (var s : config.path("secretAsEnv")) {
            fromConfig(where, CoreKinds.SECRET, s, "secretNameParameter", "secretName", inputs).ifPresent(entries ->
                    s.path("keyToEnv").forEach(k -> put(env, where, CoreKinds.SECRET, s, entries, k.path("secretKey").asText(), k.path("envVar").asText())));
        }
        for (var c : config.path("configMapAsEnv")) {
            fromConfig(where, CoreKinds.CONFIG_MAP, c, "configMapNameParameter", "configMapName", inputs).ifPresent(entries ->
                    c.path("keyToEnv").forEach(k -> put(env, where, CoreKinds.CONFIG_MAP, c, entries, k.path("configMapKey").asText(), k.path("envVar").asText())));
        }
        for (var s : config.path("secretAsVolume")) {
            var entries = fromConfig(where, CoreKinds.SECRET, s, "secretNameParameter", "secretName", inputs);
            mounts.add(new Mount(mountPath(s, where), Optional.empty(), entries.orElse(Map.of())));
        }
        for (var c : config.path("configMapAsVolume")) {
            var entries = fromConfig(where, CoreKinds.CONFIG_MAP, c, "configMapNameParameter", "configMapName", inputs);
            mounts.add(new Mount(mountPath(c, where), Optional.empty(), entries.orElse(Map.of())));
        }
        for (var field : List.of("emptyDirMounts", "genericEphemeralVolume")) {
            for (var v : config.path(field)) mounts.add(new Mount(mountPath(v, where), Optional.empty(), Map.of()));
        }
        for (var f : config.path("fieldPathAsEnv")) {
            env.put(f.path("name").asText(), fieldPath(where, f.path("fieldPath").asText(), config.path("podMetadata"), workloadId));
        }
        return new Resolved(env, mounts);
    }

    private static JsonNode legacyReference(JsonNode pvc) {
        var spec = F.objectNode();
        if (pvc.has("taskOutputParameter")) spec.set("taskOutputParameter", pvc.get("taskOutputParameter"));
        else if (pvc.has("componentInputParameter")) spec.set("componentInputParameter", pvc.get("componentInputParameter"));
        else if (pvc.has("constant")) spec.putObject("runtimeValue").set("constant", pvc.get("constant"));
        return spec;
    }

    private static String mountPath(JsonNode entry, String where) {
        var path = entry.path("mountPath").asText("");
        if (!path.startsWith("/")) throw new PermanentFailureException(where + "mountPath must be an absolute path, got '" + path + "'");
        while (path.length() > 1 && path.endsWith("/")) path = path.substring(0, path.length() - 1);
        return path;
    }

    private Optional<Map<String, byte[]>> fromConfig(String where, String kind, JsonNode entry, String parameterField, String legacyField,
                                                     Inputs inputs) {
        var name = entry.has(parameterField) ? inputs.resolve(entry.get(parameterField)).map(KubernetesSettings::text).orElse("")
                : entry.path(legacyField).asText("");
        boolean optional = entry.path("optional").asBoolean(false);
        var label = kind.equals(CoreKinds.SECRET) ? "secret" : "config map";
        if (name.isEmpty()) {
            if (optional) return Optional.empty();
            throw new PermanentFailureException(where + "a " + label + " it uses has no name: " + entry.path(parameterField) + " resolved to nothing");
        }
        var found = configs.find(kind, layout.namespace(), name);
        if (found.isEmpty() && !optional) {
            throw new PermanentFailureException(where + label + " '" + name + "' not found in namespace '" + layout.namespace()
                    + "'; create it (apiVersion: v1, kind: " + kind + ") or mark it optional");
        }
        return found;
    }

    private void put(Map<String, String> env, String where, String kind, JsonNode entry, Map<String, byte[]> entries, String key, String envVar) {
        var value = entries.get(key);
        if (value == null) {
            if (entry.path("optional").asBoolean(false)) return;
            var label = kind.equals(CoreKinds.SECRET) ? "secret" : "config map";
            throw new PermanentFailureException(where + label + " has no key '" + key + "' for environment variable " + envVar
                    + "; its keys are " + entries.keySet());
        }
        env.put(envVar, new String(value, StandardCharsets.UTF_8));
    }

    /** The downward-API value of {@code fieldPath} for the step's pod, which locally is its process. */
    private String fieldPath(String where, String fieldPath, JsonNode podMetadata, String workloadId) {
        switch (fieldPath) {
            case "metadata.name":
                return workloadId;
            case "metadata.namespace":
                return layout.namespace();
            case "metadata.uid":
                return UUID.nameUUIDFromBytes(workloadId.getBytes(StandardCharsets.UTF_8)).toString();
            case "spec.nodeName":
                return "localhost";
            case "spec.serviceAccountName":
                return "default";
            case "status.podIP", "status.hostIP":
                return "127.0.0.1";
            default:
                break;
        }
        var m = LABEL_FIELD.matcher(fieldPath);
        if (!m.matches()) {
            throw new PermanentFailureException(where + "fieldPathAsEnv '" + fieldPath + "' has no local value; use metadata.name, "
                    + "metadata.namespace, metadata.uid, metadata.labels['k'], metadata.annotations['k'], spec.nodeName, "
                    + "spec.serviceAccountName, status.podIP or status.hostIP");
        }
        var key = m.group(2) != null ? m.group(2) : m.group(3);
        boolean labels = m.group(1).equals("labels");
        var given = podMetadata.path(m.group(1)).path(key);
        if (!given.isMissingNode() && !given.isNull()) return given.asText();
        if (labels && key.equals(RUN_ID_LABEL)) return layout.uid();
        if (!labels && key.equals(RUN_NAME_ANNOTATION)) return layout.displayName();
        return "";
    }

    private static String text(JsonNode value) {
        if (value == null || value instanceof MissingNode || value.isNull()) return "";
        return value.isValueNode() ? value.asText() : value.toString();
    }
}
