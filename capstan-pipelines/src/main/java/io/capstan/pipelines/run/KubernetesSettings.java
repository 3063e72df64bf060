package io.capstan.pipelines.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.ConfigResolver;
import io.capstan.core.CoreKinds;
import io.capstan.core.PermanentFailureException;
import io.capstan.core.TransientException;
import io.capstan.store.ResourceStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
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
    static final String PATH_MAP_ENV = ConfigResolver.PATH_MAP_ENV;
    /** The pod annotation and label KFP's API server puts on every step's pod. */
    static final String RUN_NAME_ANNOTATION = "pipelines.kubeflow.org/run_name";
    static final String RUN_ID_LABEL = "pipeline/runid";
    private static final Pattern LABEL_FIELD = Pattern.compile("metadata\\.(labels|annotations)\\[(?:'([^']*)'|\"([^\"]*)\")]");
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /** Reads the decoded entries of a Secret or ConfigMap; the shared {@link ConfigResolver.Source}. */
    interface ConfigSource {
        ConfigResolver.Source NONE = ConfigResolver.Source.NONE;

        static ConfigResolver.Source of(ResourceStore store) {
            return ConfigResolver.Source.of(store::find);
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
            var rewrite = new ConfigResolver.PathRewrite(map);
            var newEnv = new LinkedHashMap<String, String>(command.env());
            newEnv.putAll(env);
            return new StepCommand(command.command().stream().map(rewrite::apply).toList(),
                    command.args().stream().map(rewrite::apply).toList(), rewrite.applyToEnv(newEnv));
        }

        /** A PVC's shared folder, or the attempt's own folder with the secret or config map files (0700, files 0600). */
        private static Path materialize(Mount m, Path attemptDir) {
            if (m.shared().isPresent()) {
                var dir = m.shared().get();
                try {
                    Files.createDirectories(dir);
                } catch (IOException e) {
                    throw new TransientException("cannot prepare the folder " + dir + " mounted at " + m.mountPath() + ": " + e.getMessage(), e);
                }
                return dir.toAbsolutePath();
            }
            return new ConfigResolver.Mount(m.mountPath(), m.files(), 0600)
                    .writeTo(attemptDir.resolve("mounts").resolve(RunLayout.safe(m.mountPath())));
        }
    }

    private final JsonNode executors;
    private final RunLayout layout;
    private final ConfigResolver configs;

    KubernetesSettings(JsonNode platformSpec, RunLayout layout, ConfigResolver.Source configs) {
        this.executors = platformSpec.path("platforms").path("kubernetes").path("deploymentSpec").path("executors");
        this.layout = layout;
        this.configs = new ConfigResolver(configs);
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
            fromConfig(where, CoreKinds.SECRET, s, "secretNameParameter", "secretName", inputs).ifPresent(found ->
                    s.path("keyToEnv").forEach(k -> put(env, where, CoreKinds.SECRET, s, found, k.path("secretKey").asText(), k.path("envVar").asText())));
        }
        for (var c : config.path("configMapAsEnv")) {
            fromConfig(where, CoreKinds.CONFIG_MAP, c, "configMapNameParameter", "configMapName", inputs).ifPresent(found ->
                    c.path("keyToEnv").forEach(k -> put(env, where, CoreKinds.CONFIG_MAP, c, found, k.path("configMapKey").asText(), k.path("envVar").asText())));
        }
        for (var s : config.path("secretAsVolume")) {
            var found = fromConfig(where, CoreKinds.SECRET, s, "secretNameParameter", "secretName", inputs);
            mounts.add(new Mount(mountPath(s, where), Optional.empty(), found.map(ConfigData::entries).orElse(Map.of())));
        }
        for (var c : config.path("configMapAsVolume")) {
            var found = fromConfig(where, CoreKinds.CONFIG_MAP, c, "configMapNameParameter", "configMapName", inputs);
            mounts.add(new Mount(mountPath(c, where), Optional.empty(), found.map(ConfigData::entries).orElse(Map.of())));
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

    /** A Secret's or ConfigMap's name and decoded entries. */
    private record ConfigData(String name, Map<String, byte[]> entries) {
    }

    private Optional<ConfigData> fromConfig(String where, String kind, JsonNode entry, String parameterField, String legacyField,
                                                     Inputs inputs) {
        var name = entry.has(parameterField) ? inputs.resolve(entry.get(parameterField)).map(KubernetesSettings::text).orElse("")
                : entry.path(legacyField).asText("");
        boolean optional = entry.path("optional").asBoolean(false);
        if (name.isEmpty() && !optional) {
            var label = kind.equals(CoreKinds.SECRET) ? "secret" : "config map";
            throw new PermanentFailureException(where + "a " + label + " it uses has no name: " + entry.path(parameterField) + " resolved to nothing");
        }
        return configs.find(where, kind, layout.namespace(), name, optional, "").map(entries -> new ConfigData(name, entries));
    }

    private static void put(Map<String, String> env, String where, String kind, JsonNode entry, ConfigData found, String key, String envVar) {
        ConfigResolver.entry(where, kind, found.name(), found.entries(), key, entry.path("optional").asBoolean(false), "environment variable " + envVar)
                .ifPresent(value -> env.put(envVar, new String(value, StandardCharsets.UTF_8)));
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
