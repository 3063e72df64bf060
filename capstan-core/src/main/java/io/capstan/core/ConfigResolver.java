package io.capstan.core;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Resolves what a Kubernetes container takes from Secrets and ConfigMaps, for every engine that runs one as a local
 * process: {@code env[].valueFrom.secretKeyRef} and {@code configMapKeyRef} (with {@code optional}), {@code envFrom}
 * ({@code secretRef}, {@code configMapRef}, {@code prefix}), and {@code volumeMounts} of {@code secret} and
 * {@code configMap} volumes ({@code items}, {@code defaultMode}, {@code optional}). A reference that does not resolve
 * and is not optional throws a {@link ConfigReferenceException} that names the secret or config map and the key,
 * never a value; nothing resolves to a silent empty value.
 *
 * <p>A mount is a folder of the workload's own, written by {@link Mount#writeTo} with the files readable by their
 * owner only; {@link PathRewrite} maps the container's mount paths to those folders. Reads the store on each call;
 * immutable and thread-safe.
 */
public final class ConfigResolver {
    /** Environment variable that tells a workload where its mount paths are, as a JSON object. */
    public static final String PATH_MAP_ENV = "CAPSTAN_PATH_MAP";
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_.-]*");

    /** Reads the decoded entries of a Secret or ConfigMap. */
    @FunctionalInterface
    public interface Source {
        Source NONE = (kind, namespace, name) -> Optional.empty();

        Optional<Map<String, byte[]>> find(String kind, String namespace, String name);

        /** Entries of the resources {@code finder} returns, decoded by {@link CoreKinds#entries}. */
        static Source of(Function<ResourceKey, Optional<Resource>> finder) {
            return (kind, namespace, name) -> finder.apply(new ResourceKey(kind, namespace, name)).map(CoreKinds::entries);
        }
    }

    /**
     * A secret or config map that the container needs and that does not resolve. Permanent for this attempt: the
     * controller reports it in a status condition.
     */
    public static final class ConfigReferenceException extends PermanentFailureException {
        public ConfigReferenceException(String message) {
            super(message);
        }
    }

    /**
     * A folder the container sees at {@code mountPath}, holding {@code files} (relative paths) with the owner bits of
     * {@code mode}.
     */
    public record Mount(String mountPath, Map<String, byte[]> files, int mode) {
        public Mount {
            Objects.requireNonNull(mountPath, "mountPath");
            files = Map.copyOf(files);
        }

        /**
         * Writes the files into {@code dir} (created 0700), each readable by its owner only (0600, or 0700 when the
         * mode makes it executable); returns {@code dir}.
         *
         * @throws TransientException if the folder cannot be written
         */
        public Path writeTo(Path dir) {
            try {
                createPrivateDir(dir);
                for (var f : files.entrySet()) {
                    var file = dir.resolve(f.getKey()).normalize();
                    if (!file.startsWith(dir)) throw new ConfigReferenceException("the file path '" + Names.printable(f.getKey()) + "' leaves the volume at " + mountPath);
                    if (!file.getParent().equals(dir)) createPrivateDir(file.getParent());
                    Files.deleteIfExists(file);
                    try {
                        Files.createFile(file, PosixFilePermissions.asFileAttribute(ownerOnly(mode)));
                    } catch (UnsupportedOperationException e) {
                        Files.createFile(file);
                    }
                    Files.write(file, f.getValue());
                }
            } catch (IOException e) {
                throw new TransientException("cannot write the volume mounted at " + mountPath + " into " + dir + ": " + e.getMessage(), e);
            }
            return dir.toAbsolutePath();
        }

        private static Set<PosixFilePermission> ownerOnly(int mode) {
            var perms = EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
            if ((mode & 0100) != 0) perms.add(PosixFilePermission.OWNER_EXECUTE);
            return perms;
        }
    }

    /** What a container gets: environment variables, and folders to mount. */
    public record Resolved(Map<String, String> env, List<Mount> mounts) {
        public static final Resolved NONE = new Resolved(Map.of(), List.of());

        public Resolved {
            env = Map.copyOf(env);
            mounts = List.copyOf(mounts);
        }

        /**
         * Writes every mount into a sub-folder of {@code dir} (0700) and returns the rewrite from each mount path
         * to its folder.
         */
        public PathRewrite writeMounts(Path dir) {
            for (int i = 0; i < mounts.size(); i++) mounts.get(i).writeTo(mountDir(dir, i));
            return mountsAt(dir);
        }

        /** The rewrite {@link #writeMounts} returns for {@code dir}, without writing anything. */
        public PathRewrite mountsAt(Path dir) {
            var map = new LinkedHashMap<String, String>();
            for (int i = 0; i < mounts.size(); i++) map.put(mounts.get(i).mountPath(), mountDir(dir, i).toAbsolutePath().toString());
            return new PathRewrite(map);
        }

        private Path mountDir(Path dir, int i) {
            return dir.resolve(i + "-" + safe(mounts.get(i).mountPath()));
        }
    }

    /**
     * Rewrites mount paths that stand as a path of their own (not inside a longer path) to their local folders,
     * in a command, its arguments or an environment value.
     */
    public static final class PathRewrite {
        private final Optional<Pattern> pattern;
        private final Map<String, String> map;

        public PathRewrite(Map<String, String> map) {
            this.map = Map.copyOf(map);
            var longestFirst = map.keySet().stream().sorted(Comparator.comparingInt(String::length).reversed()).map(Pattern::quote).toList();
            this.pattern = map.isEmpty() ? Optional.empty()
                    : Optional.of(Pattern.compile("(?<![\\w.\\-/])(" + String.join("|", longestFirst) + ")(?=$|/|[^\\w.\\-])"));
        }

        public boolean isEmpty() {
            return map.isEmpty();
        }

        /** The mount paths and their folders. */
        public Map<String, String> map() {
            return map;
        }

        public String apply(String value) {
            if (pattern.isEmpty()) return value;
            Matcher m = pattern.get().matcher(value);
            var sb = new StringBuilder();
            while (m.find()) m.appendReplacement(sb, Matcher.quoteReplacement(map.get(m.group(1))));
            m.appendTail(sb);
            return sb.toString();
        }

        /** {@code env} with each value rewritten and, when anything is mounted, {@value #PATH_MAP_ENV} set. */
        public Map<String, String> applyToEnv(Map<String, String> env) {
            var out = new LinkedHashMap<String, String>();
            env.forEach((k, v) -> out.put(k, apply(v)));
            if (!map.isEmpty()) out.put(PATH_MAP_ENV, Json.json().valueToTree(new java.util.TreeMap<>(map)).toString());
            return out;
        }
    }

    private final Source source;

    public ConfigResolver(Source source) {
        this.source = Objects.requireNonNull(source, "source");
    }

    /**
     * Deletes a folder that {@link Resolved#writeMounts} wrote, with everything in it; nothing if it does not exist.
     *
     * @throws TransientException if it cannot be deleted
     */
    public static void deleteMounts(Path dir) {
        if (!Files.exists(dir)) return;
        try (var all = Files.walk(dir)) {
            for (var p : all.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new TransientException("cannot remove the secret and config-map files in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Whether a container spec uses anything this resolver reads, so callers can skip the store otherwise. */
    public static boolean uses(JsonNode container, JsonNode volumes) {
        for (var e : container.path("env")) if (e.has("valueFrom")) return true;
        return container.path("envFrom").size() > 0 || (container.path("volumeMounts").size() > 0 && volumes.size() > 0);
    }

    /**
     * What {@code container} (its {@code env}, {@code envFrom} and {@code volumeMounts}) gets in {@code namespace},
     * with the pod's {@code volumes}; {@code where} prefixes messages, such as {@code "Job default/train: "}.
     * As in Kubernetes, {@code env} wins over {@code envFrom}. {@code fieldRef} and {@code resourceFieldRef} are
     * not resolved here: they are left out and named in {@code warnings}, as are volumes of other types.
     *
     * @throws ConfigReferenceException naming a secret, config map or key that does not exist and is not optional
     */
    public Resolved resolve(String where, String namespace, JsonNode container, JsonNode volumes, List<String> warnings) {
        var env = new LinkedHashMap<String, String>();
        for (var from : container.path("envFrom")) {
            var prefix = from.path("prefix").asText("");
            var secret = from.path("secretRef");
            var ref = secret.isObject() ? secret : from.path("configMapRef");
            if (!ref.isObject()) continue;
            var kind = secret.isObject() ? CoreKinds.SECRET : CoreKinds.CONFIG_MAP;
            var entries = find(where, kind, namespace, ref.path("name").asText(""), ref.path("optional").asBoolean(false), "envFrom");
            entries.ifPresent(map -> map.forEach((k, v) -> {
                if (ENV_NAME.matcher(prefix + k).matches()) env.put(prefix + k, new String(v, StandardCharsets.UTF_8));
                else warnings.add("envFrom " + label(kind) + " '" + ref.path("name").asText() + "': key '" + Names.printable(k)
                        + "' is not a valid environment variable name and was left out");
            }));
        }
        for (var e : container.path("env")) {
            var name = e.path("name").asText("");
            var valueFrom = e.path("valueFrom");
            if (!valueFrom.isObject()) {
                if (!name.isEmpty()) env.put(name, e.path("value").asText(""));
                continue;
            }
            var secret = valueFrom.path("secretKeyRef");
            var ref = secret.isObject() ? secret : valueFrom.path("configMapKeyRef");
            if (!ref.isObject()) {
                warnings.add("env " + name + ": valueFrom " + String.join(", ", valueFrom.properties().stream().map(Map.Entry::getKey).toList())
                        + " has no local value; " + name + " is left unset");
                continue;
            }
            var kind = secret.isObject() ? CoreKinds.SECRET : CoreKinds.CONFIG_MAP;
            boolean optional = ref.path("optional").asBoolean(false);
            var refName = ref.path("name").asText("");
            var key = ref.path("key").asText("");
            var entries = find(where, kind, namespace, refName, optional, "env " + name);
            if (entries.isEmpty()) continue;
            var value = entries.get().get(key);
            if (value == null) {
                if (optional) continue;
                throw new ConfigReferenceException(where + "env " + name + ": " + label(kind) + " '" + refName + "' in namespace '" + namespace
                        + "' has no key '" + Names.printable(key) + "'; its keys are " + new java.util.TreeSet<>(entries.get().keySet())
                        + "; add the key or mark the reference optional");
            }
            env.put(name, new String(value, StandardCharsets.UTF_8));
        }
        var mounts = new ArrayList<Mount>();
        var byName = new LinkedHashMap<String, JsonNode>();
        for (var v : volumes) byName.put(v.path("name").asText(""), v);
        for (var vm : container.path("volumeMounts")) {
            var volume = byName.get(vm.path("name").asText(""));
            if (volume == null) continue;
            var secret = volume.path("secret");
            var config = volume.path("configMap");
            if (!secret.isObject() && !config.isObject()) continue;
            var kind = secret.isObject() ? CoreKinds.SECRET : CoreKinds.CONFIG_MAP;
            var ref = secret.isObject() ? secret : config;
            var refName = ref.path(secret.isObject() ? "secretName" : "name").asText("");
            boolean optional = ref.path("optional").asBoolean(false);
            var mountPath = mountPath(where, vm);
            var entries = find(where, kind, namespace, refName, optional, "volume '" + vm.path("name").asText() + "' at " + mountPath)
                    .orElse(Map.of());
            int defaultMode = ref.path("defaultMode").asInt(0600);
            var files = new LinkedHashMap<String, byte[]>();
            int mode = defaultMode;
            if (ref.path("items").isArray() && !ref.path("items").isEmpty()) {
                for (var item : ref.path("items")) {
                    var key = item.path("key").asText("");
                    var value = entries.get(key);
                    if (value == null) {
                        if (optional) continue;
                        throw new ConfigReferenceException(where + "volume '" + vm.path("name").asText() + "': " + label(kind) + " '" + refName
                                + "' in namespace '" + namespace + "' has no key '" + Names.printable(key) + "'; its keys are "
                                + new java.util.TreeSet<>(entries.keySet()));
                    }
                    files.put(item.path("path").asText(key), value);
                    if (item.has("mode")) mode |= item.path("mode").asInt();
                }
            } else {
                files.putAll(entries);
            }
            var sub = vm.path("subPath").asText("");
            if (!sub.isEmpty()) {
                var one = files.get(sub);
                files.clear();
                if (one != null) files.put(Path.of(mountPath).getFileName().toString(), one);
                mounts.add(new Mount(parentOf(mountPath), files, mode));
            } else {
                mounts.add(new Mount(mountPath, files, mode));
            }
        }
        return new Resolved(env, mounts);
    }

    /**
     * One key of the {@code entries} of the Secret or ConfigMap {@code name}, for engines whose own format names
     * references (such as kfp-kubernetes); empty when it is missing and {@code optional}.
     *
     * @throws ConfigReferenceException if it is missing and not optional
     */
    public static Optional<byte[]> entry(String where, String kind, String name, Map<String, byte[]> entries, String key, boolean optional,
                                         String forWhat) {
        var value = entries.get(key);
        if (value == null && !optional) {
            throw new ConfigReferenceException(where + label(kind) + " '" + name + "' has no key '" + Names.printable(key) + "' for " + forWhat
                    + "; its keys are " + new java.util.TreeSet<>(entries.keySet()) + "; add the key or mark the reference optional");
        }
        return Optional.ofNullable(value);
    }

    /**
     * The entries of a Secret or ConfigMap; empty only when it is optional and missing.
     *
     * @throws ConfigReferenceException if it is missing and not optional
     */
    public Optional<Map<String, byte[]>> find(String where, String kind, String namespace, String name, boolean optional, String forWhat) {
        if (name.isEmpty()) {
            if (optional) return Optional.empty();
            throw new ConfigReferenceException(where + forWhat + " names no " + label(kind) + "; set its name");
        }
        var found = source.find(kind, namespace, name);
        if (found.isEmpty() && !optional) {
            throw new ConfigReferenceException(where + label(kind) + " '" + name + "' not found in namespace '" + namespace + "'"
                    + (forWhat.isEmpty() ? "" : " (needed by " + forWhat + ")") + "; create it (apiVersion: v1, kind: " + kind + ") or mark it optional");
        }
        return found;
    }

    private static String mountPath(String where, JsonNode vm) {
        var path = vm.path("mountPath").asText("");
        if (!path.startsWith("/")) throw new ConfigReferenceException(where + "volume mount '" + vm.path("name").asText() + "': mountPath must be an absolute path, got '" + Names.printable(path) + "'");
        while (path.length() > 1 && path.endsWith("/")) path = path.substring(0, path.length() - 1);
        return path;
    }

    private static String parentOf(String mountPath) {
        int slash = mountPath.lastIndexOf('/');
        return slash <= 0 ? "/" : mountPath.substring(0, slash);
    }

    static String label(String kind) {
        return kind.equals(CoreKinds.SECRET) ? "secret" : "config map";
    }

    /** A mount path as one folder name. */
    static String safe(String path) {
        var s = path.replaceAll("[^A-Za-z0-9._-]", "_");
        return s.length() > 100 ? s.substring(0, 100) : s;
    }

    private static void createPrivateDir(Path dir) throws IOException {
        Files.createDirectories(dir);
        try {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        } catch (UnsupportedOperationException e) {
            // Not a POSIX file system: the folder keeps its default permissions.
        }
    }
}
