package io.capstan.notebooks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.backend.ResourceRequest;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import io.capstan.core.Problems;
import io.capstan.core.Quantity;
import io.capstan.core.ResourceParser;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A Kubeflow {@code Notebook}'s spec as the notebook controller reads it: {@code spec.template.spec} is a Pod spec
 * whose first container is the notebook server (image, command and args, env, workingDir, resources, volume mounts),
 * with the Pod's volumes. Read from the resource's spec tree, so unknown fields stay stored untouched.
 *
 * @param containerName the first container's name (Kubeflow names it after the notebook)
 * @param command       the container's command and args; empty means the server Capstan starts (Jupyter on the host,
 *                      or the image's own entrypoint)
 * @param volumes       the Pod's volumes that hold data: PersistentVolumeClaims and emptyDirs, by volume name
 * @param mounts        the first container's volume mounts
 * @param ignored       fields accepted but not honoured locally (sidecar containers, other volume types), for status
 */
record NotebookSpec(String containerName, String image, List<String> command, List<String> args, Map<String, String> env,
                    Optional<String> workingDir, ResourceRequest resources, Map<String, Volume> volumes, List<Mount> mounts,
                    List<String> ignored) {
    static final int MAX_ITEMS = 256;
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_.-]*");

    NotebookSpec {
        command = List.copyOf(command);
        args = List.copyOf(args);
        env = Map.copyOf(env);
        volumes = Map.copyOf(volumes);
        mounts = List.copyOf(mounts);
        ignored = List.copyOf(ignored);
    }

    /** A volume: a PersistentVolumeClaim's local folder, or an emptyDir that lives as long as the notebook. */
    sealed interface Volume permits Claim, EmptyDir {
    }

    record Claim(String claimName, boolean readOnly) implements Volume {
    }

    record EmptyDir() implements Volume {
    }

    record Mount(String volume, String mountPath, boolean readOnly) {
    }

    /** The volume mounted at {@code /home/jovyan} (Kubeflow's workspace), else the first claim mounted at all. */
    Optional<Claim> workspaceClaim() {
        Optional<Claim> first = Optional.empty();
        for (var m : mounts) {
            if (volumes.get(m.volume()) instanceof Claim c) {
                if (m.mountPath().equals("/home/jovyan") || m.mountPath().equals("/home/jovyan/")) return Optional.of(c);
                if (first.isEmpty()) first = Optional.of(c);
            }
        }
        return first;
    }

    /** Validates the spec tree, reporting every problem; for the kind registry. */
    static void validate(ObjectNode spec, Problems problems) {
        read(spec, problems);
    }

    /** Reads a spec that passed validation. */
    static NotebookSpec of(ObjectNode spec) {
        var problems = new Problems();
        var parsed = read(spec, problems);
        problems.throwIfAny();
        return parsed;
    }

    private static NotebookSpec read(ObjectNode spec, Problems problems) {
        var template = spec.get("template");
        if (template == null || !template.isObject()) {
            problems.add("spec.template", "required: a Pod template whose spec.containers[0] is the notebook server");
            return null;
        }
        var pod = template.get("spec");
        if (pod == null || !pod.isObject()) {
            problems.add("spec.template.spec", "required: a Pod spec with containers");
            return null;
        }
        var ignored = new ArrayList<String>();
        var containers = pod.get("containers");
        var path = "spec.template.spec.containers";
        if (containers == null || !containers.isArray() || containers.isEmpty()) {
            problems.add(path, "required: at least one container, the notebook server");
            return null;
        }
        if (containers.size() > 1) ignored.add(path + "[1..]: locally only the first container, the notebook server, runs");
        var c = containers.get(0);
        var p = path + "[0]";
        if (!c.isObject()) {
            problems.add(p, "expected an object, got " + ResourceParser.describe(c));
            return null;
        }
        var name = text(c, "name", p + ".name", problems, true).orElse("");
        if (!name.isEmpty()) Names.checkLabel(name).ifPresent(err -> problems.add(p + ".name", err));
        var image = text(c, "image", p + ".image", problems, true).orElse("");
        var command = strings(c.get("command"), p + ".command", problems);
        var args = strings(c.get("args"), p + ".args", problems);
        var workingDir = text(c, "workingDir", p + ".workingDir", problems, false);
        if (workingDir.isPresent() && !workingDir.get().startsWith("/")) problems.add(p + ".workingDir", "expected an absolute folder path of the image");
        var env = env(c.get("env"), p + ".env", problems);
        var resources = resources(c.get("resources"), p + ".resources", problems);
        var declared = new java.util.HashSet<String>();
        var volumes = volumes(pod.get("volumes"), declared, ignored, problems);
        var mounts = mounts(c.get("volumeMounts"), p + ".volumeMounts", declared, volumes.keySet(), problems);
        if (!problems.isEmpty()) return null;
        return new NotebookSpec(name, image, command, args, env, workingDir, resources, volumes, mounts, ignored);
    }

    private static Optional<String> text(JsonNode obj, String field, String path, Problems problems, boolean required) {
        var node = obj.get(field);
        if (node == null || node.isNull()) {
            if (required) problems.add(path, "required: a string");
            return Optional.empty();
        }
        if (!node.isTextual() || node.asText().isBlank()) {
            problems.add(path, "expected a non-empty string, got " + ResourceParser.describe(node));
            return Optional.empty();
        }
        if (node.asText().indexOf('\0') >= 0) {
            problems.add(path, "must not contain NUL characters");
            return Optional.empty();
        }
        return Optional.of(node.asText());
    }

    private static List<String> strings(JsonNode node, String path, Problems problems) {
        var out = new ArrayList<String>();
        if (node == null || node.isNull()) return out;
        if (!node.isArray()) {
            problems.add(path, "expected a list of strings, got " + ResourceParser.describe(node));
            return out;
        }
        if (node.size() > 1024) {
            problems.add(path, "has " + node.size() + " entries; the limit is 1024");
            return out;
        }
        for (int i = 0; i < node.size(); i++) {
            var item = node.get(i);
            if (!item.isTextual() && !item.isNumber() && !item.isBoolean()) problems.add(path + "[" + i + "]", "expected a string, got " + ResourceParser.describe(item));
            else if (item.asText().indexOf('\0') >= 0) problems.add(path + "[" + i + "]", "must not contain NUL characters");
            else out.add(item.asText());
        }
        return out;
    }

    private static Map<String, String> env(JsonNode node, String path, Problems problems) {
        var env = new LinkedHashMap<String, String>();
        if (node == null || node.isNull()) return env;
        if (!node.isArray()) {
            problems.add(path, "expected a list of {name, value}, got " + ResourceParser.describe(node));
            return env;
        }
        if (node.size() > MAX_ITEMS) {
            problems.add(path, "has " + node.size() + " entries; the limit is " + MAX_ITEMS);
            return env;
        }
        for (int i = 0; i < node.size(); i++) {
            var item = node.get(i);
            var at = path + "[" + i + "]";
            if (!item.isObject()) {
                problems.add(at, "expected {name, value}, got " + ResourceParser.describe(item));
                continue;
            }
            var name = item.path("name");
            if (!name.isTextual() || !ENV_NAME.matcher(name.asText()).matches()) {
                problems.add(at + ".name", "required: a variable name of letters, digits, '_', '-' and '.', not starting with a digit");
                continue;
            }
            if (item.has("valueFrom")) {
                problems.add(at + ".valueFrom", "is not supported for a Notebook here; give the value");
                continue;
            }
            var value = item.get("value");
            if (value == null || value.isNull()) env.put(name.asText(), "");
            else if (!value.isValueNode()) problems.add(at + ".value", "expected a string, got " + ResourceParser.describe(value));
            else if (value.asText().indexOf('\0') >= 0) problems.add(at + ".value", "must not contain NUL characters");
            else env.put(name.asText(), value.asText());
        }
        return env;
    }

    /** Requests, else limits, as the notebook controller's Pod gets them; what the namespace's quota is charged. */
    private static ResourceRequest resources(JsonNode node, String path, Problems problems) {
        if (node == null || node.isNull()) return ResourceRequest.NONE;
        if (!node.isObject()) {
            problems.add(path, "expected an object with requests and limits, got " + ResourceParser.describe(node));
            return ResourceRequest.NONE;
        }
        for (var part : List.of("requests", "limits")) {
            var n = node.get(part);
            if (n != null && !n.isNull() && !n.isObject()) problems.add(path + "." + part, "expected a map of cpu, memory and nvidia.com/gpu");
        }
        var requests = node.path("requests");
        var limits = node.path("limits");
        double cpus = quantity(requests.has("cpu") ? requests.get("cpu") : limits.get("cpu"),
                path + (requests.has("cpu") ? ".requests" : ".limits") + ".cpu", problems).doubleValue();
        long memory = quantity(requests.has("memory") ? requests.get("memory") : limits.get("memory"),
                path + (requests.has("memory") ? ".requests" : ".limits") + ".memory", problems)
                .setScale(0, java.math.RoundingMode.CEILING).longValue();
        var gpuNode = limits.has("nvidia.com/gpu") ? limits.get("nvidia.com/gpu") : requests.get("nvidia.com/gpu");
        var gpus = quantity(gpuNode, path + (limits.has("nvidia.com/gpu") ? ".limits" : ".requests") + ".nvidia.com/gpu", problems);
        if (gpus.signum() != 0 && (gpus.stripTrailingZeros().scale() > 0 || gpus.compareTo(java.math.BigDecimal.valueOf(64)) > 0)) {
            problems.add(path + ".limits.nvidia.com/gpu", "expected a whole number of GPUs from 0 to 64, got " + gpus.toPlainString());
            return ResourceRequest.NONE;
        }
        if (!problems.isEmpty()) return ResourceRequest.NONE;
        return new ResourceRequest(cpus, memory, gpus.intValue());
    }

    private static java.math.BigDecimal quantity(JsonNode node, String path, Problems problems) {
        if (node == null || node.isNull()) return java.math.BigDecimal.ZERO;
        if (!node.isNumber() && !node.isTextual()) {
            problems.add(path, "expected a quantity such as 500m, 2 or 1Gi, got " + ResourceParser.describe(node));
            return java.math.BigDecimal.ZERO;
        }
        try {
            var q = Quantity.parse(path, node.asText());
            if (q.signum() < 0 || q.compareTo(java.math.BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
                problems.add(path, "must be from 0 to " + Long.MAX_VALUE + ", got " + Names.printable(node.asText()));
                return java.math.BigDecimal.ZERO;
            }
            return q;
        } catch (InvalidSpecException e) {
            e.errors().forEach(err -> problems.add(path, err.message()));
            return java.math.BigDecimal.ZERO;
        }
    }

    private static Map<String, Volume> volumes(JsonNode node, java.util.Set<String> declared, List<String> ignored, Problems problems) {
        var out = new LinkedHashMap<String, Volume>();
        var path = "spec.template.spec.volumes";
        if (node == null || node.isNull()) return out;
        if (!node.isArray()) {
            problems.add(path, "expected a list of volumes, got " + ResourceParser.describe(node));
            return out;
        }
        if (node.size() > MAX_ITEMS) {
            problems.add(path, "has " + node.size() + " entries; the limit is " + MAX_ITEMS);
            return out;
        }
        for (int i = 0; i < node.size(); i++) {
            var v = node.get(i);
            var at = path + "[" + i + "]";
            if (!v.isObject()) {
                problems.add(at, "expected a volume object, got " + ResourceParser.describe(v));
                continue;
            }
            var name = v.path("name");
            if (!name.isTextual() || Names.checkLabel(name.asText()).isPresent()) {
                problems.add(at + ".name", "required: a DNS label naming the volume");
                continue;
            }
            if (!declared.add(name.asText())) {
                problems.add(at + ".name", "volume '" + name.asText() + "' is declared twice");
                continue;
            }
            if (v.has("persistentVolumeClaim")) {
                var claim = v.get("persistentVolumeClaim");
                var claimName = claim.path("claimName");
                if (!claim.isObject() || !claimName.isTextual() || Names.checkSubdomain(claimName.asText()).isPresent()) {
                    problems.add(at + ".persistentVolumeClaim.claimName", "required: the claim's name, a DNS subdomain such as "
                            + "'my-notebook-workspace'");
                    continue;
                }
                out.put(name.asText(), new Claim(claimName.asText(), claim.path("readOnly").asBoolean(false)));
            } else if (v.has("emptyDir")) {
                out.put(name.asText(), new EmptyDir());
            } else {
                // A config map, secret or device volume: mounted only where Capstan honours it, which is nowhere yet.
                ignored.add(at + ": only persistentVolumeClaim and emptyDir volumes are mounted locally");
            }
        }
        return out;
    }

    private static List<Mount> mounts(JsonNode node, String path, java.util.Set<String> declared, java.util.Set<String> honoured,
                                      Problems problems) {
        var out = new ArrayList<Mount>();
        if (node == null || node.isNull()) return out;
        if (!node.isArray()) {
            problems.add(path, "expected a list of volume mounts, got " + ResourceParser.describe(node));
            return out;
        }
        if (node.size() > MAX_ITEMS) {
            problems.add(path, "has " + node.size() + " entries; the limit is " + MAX_ITEMS);
            return out;
        }
        for (int i = 0; i < node.size(); i++) {
            var m = node.get(i);
            var at = path + "[" + i + "]";
            if (!m.isObject()) {
                problems.add(at, "expected {name, mountPath}, got " + ResourceParser.describe(m));
                continue;
            }
            var name = m.path("name");
            var mountPath = m.path("mountPath");
            if (!name.isTextual()) {
                problems.add(at + ".name", "required: the name of a volume in spec.template.spec.volumes");
                continue;
            }
            if (!mountPath.isTextual() || !mountPath.asText().startsWith("/") || mountPath.asText().indexOf('\0') >= 0
                    || List.of(mountPath.asText().split("/")).contains("..")) {
                problems.add(at + ".mountPath", "required: an absolute path without '..', such as /home/jovyan");
                continue;
            }
            if (!declared.contains(name.asText())) {
                problems.add(at + ".name", "names volume '" + Names.printable(name.asText()) + "', which spec.template.spec.volumes does not declare");
                continue;
            }
            // A mount of a volume of a kind not honoured here (secret, configMap) is accepted and reported with its volume.
            if (!honoured.contains(name.asText())) continue;
            out.add(new Mount(name.asText(), mountPath.asText(), m.path("readOnly").asBoolean(false)));
        }
        return out;
    }
}
