package io.capstan.server.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.backend.ContainerOptions;
import io.capstan.backend.ResourceRequest;
import io.capstan.core.Json;
import io.capstan.core.Problems;
import io.capstan.core.Quantity;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.ResourceParser;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Spec of Capstan's example {@code Job} kind: one command run on the backend, retried up to {@code backoffLimit}
 * times. Read from the resource's spec tree, so that unknown fields stay in the stored resource untouched.
 *
 * <p>A Kubernetes {@code batch/v1} Job is read into the same record from its one container
 * ({@code spec.template.spec.containers[0]}: command and args, env, workingDir, image, imagePullPolicy, resources),
 * {@code activeDeadlineSeconds} and {@code backoffLimit} (6 when absent, as in Kubernetes).
 *
 * @param image            run through the container runner (see {@link io.capstan.backend.ContainerOptions})
 * @param imageWorkingDir  a batch/v1 container's workingDir with an image: a folder of the image
 */
public record JobSpec(List<String> command, Map<String, String> env, Optional<String> workingDir, ResourceRequest resources,
                      Optional<Duration> timeout, int backoffLimit, int priority, Optional<String> image,
                      Optional<ContainerOptions.PullPolicy> pullPolicy, Optional<String> imageWorkingDir) {
    static final int MAX_ARGS = 1024;
    static final int MAX_BACKOFF_LIMIT = 100;
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    public JobSpec {
        command = List.copyOf(command);
        env = Map.copyOf(env);
    }

    /** Validates the spec tree, reporting every problem; for the kind registry. */
    static void validate(ObjectNode spec, Problems problems) {
        read(spec, problems);
    }

    /** Reads a spec that passed validation. */
    public static JobSpec of(ObjectNode spec) {
        var problems = new Problems();
        var parsed = read(spec, problems);
        problems.throwIfAny();
        return parsed;
    }

    /** Whether {@code spec} has the shape of a Kubernetes batch/v1 Job (a Pod template) rather than Capstan's. */
    static boolean isBatchJob(ObjectNode spec) {
        return spec.has("template");
    }

    private static JobSpec read(ObjectNode spec, Problems problems) {
        return isBatchJob(spec) ? readBatch(spec, problems) : readCapstan(spec, problems);
    }

    private static JobSpec readBatch(ObjectNode spec, Problems problems) {
        var containers = spec.path("template").path("spec").path("containers");
        var path = "spec.template.spec.containers";
        if (!containers.isArray() || containers.isEmpty()) {
            problems.add(path, "required: one container with an image and a command");
            return null;
        }
        if (containers.size() > 1) {
            problems.add(path, "has " + containers.size() + " containers; locally a Job runs one, so move sidecars into their own Job or an InferenceService");
            return null;
        }
        if (!containers.get(0).isObject()) {
            problems.add(path + "[0]", "expected an object, got " + ResourceParser.describe(containers.get(0)));
            return null;
        }
        var c = (ObjectNode) containers.get(0);
        var p = path + "[0]";
        var translated = Json.json().createObjectNode();
        var cmd = c.get("command");
        var args = c.get("args");
        if ((cmd == null || cmd.isNull()) && args != null && args.isArray() && !args.isEmpty()) {
            // Without a command Kubernetes runs the image's entrypoint with these args; the entrypoint is not known here.
            problems.add(p + ".command", "required: locally the image's entrypoint is not known; give the command the image runs");
        }
        if (cmd != null) translated.set("command", cmd);
        if (args != null) translated.set("args", args);
        if (c.has("env")) {
            var env = c.get("env");
            for (int i = 0; env.isArray() && i < env.size(); i++) {
                if (env.get(i).has("valueFrom")) problems.add(p + ".env[" + i + "].valueFrom", "is not supported for a Job here; give the value");
            }
            translated.set("env", env);
        }
        var image = c.path("image");
        if (!c.has("image") || !image.isTextual() || image.asText().isBlank()) problems.add(p + ".image", "required: the image to run");
        Optional<ContainerOptions.PullPolicy> pullPolicy = Optional.empty();
        try {
            pullPolicy = ContainerOptions.PullPolicy.parse(c.path("imagePullPolicy").asText(""), p + ".imagePullPolicy");
        } catch (InvalidSpecException e) {
            e.errors().forEach(err -> problems.add(err.path(), err.message()));
        }
        Optional<String> imageWorkingDir = Optional.empty();
        var wd = c.get("workingDir");
        if (wd != null && !wd.isNull()) {
            if (!wd.isTextual() || !wd.asText().startsWith("/") || wd.asText().indexOf('\0') >= 0) problems.add(p + ".workingDir", "expected an absolute folder path of the image");
            else imageWorkingDir = Optional.of(wd.asText());
        }
        var res = c.path("resources");
        var source = res.path("requests").isObject() ? res.path("requests") : res.path("limits");
        if (source.isObject()) {
            var r = translated.putObject("resources");
            if (source.has("cpu")) r.set("cpu", source.get("cpu"));
            if (source.has("memory")) r.set("memory", source.get("memory"));
            if (source.has("nvidia.com/gpu")) r.set("gpu", source.get("nvidia.com/gpu").isTextual()
                    ? com.fasterxml.jackson.databind.node.IntNode.valueOf(parseIntOr(source.get("nvidia.com/gpu").asText(), -1)) : source.get("nvidia.com/gpu"));
        }
        if (spec.has("activeDeadlineSeconds")) translated.set("timeoutSeconds", spec.get("activeDeadlineSeconds"));
        translated.set("backoffLimit", spec.has("backoffLimit") ? spec.get("backoffLimit") : com.fasterxml.jackson.databind.node.IntNode.valueOf(6));
        var inner = new Problems();
        var read = readCapstan(translated, inner);
        // Paths of the translated fields point back at the container's.
        inner.errors().forEach(err -> problems.add(err.path()
                .replace("spec.timeoutSeconds", "spec.activeDeadlineSeconds")
                .replace("spec.resources.gpu", p + ".resources.nvidia.com/gpu")
                .replace("spec.resources", p + ".resources")
                .replaceFirst("^spec\\.(command|args|env)", p + ".$1"), err.message()));
        if (read == null || !problems.isEmpty()) return null;
        return new JobSpec(read.command(), read.env(), Optional.empty(), read.resources(), read.timeout(), read.backoffLimit(), 0,
                Optional.of(image.asText()), pullPolicy, imageWorkingDir);
    }

    private static int parseIntOr(String s, int fallback) {
        try {
            return Integer.parseInt(s.strip());
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    private static JobSpec readCapstan(ObjectNode spec, Problems problems) {
        var command = new ArrayList<String>();
        var cmd = spec.get("command");
        if (cmd == null || cmd.isNull()) {
            problems.add("spec.command", "required: the program and its arguments, as a list of strings");
        } else if (!cmd.isArray()) {
            problems.add("spec.command", "expected a list of strings, got " + ResourceParser.describe(cmd));
        } else if (cmd.isEmpty()) {
            problems.add("spec.command", "must name at least the program to run");
        } else {
            strings(cmd, "spec.command", command, problems);
        }
        var args = spec.get("args");
        if (args != null && !args.isNull()) {
            if (!args.isArray()) problems.add("spec.args", "expected a list of strings, got " + ResourceParser.describe(args));
            else strings(args, "spec.args", command, problems);
        }
        if (command.size() > MAX_ARGS) problems.add("spec.command", "has " + command.size() + " entries; the limit is " + MAX_ARGS);

        var env = new LinkedHashMap<String, String>();
        var envNode = spec.get("env");
        if (envNode != null && !envNode.isNull()) {
            if (envNode.isObject()) {
                envNode.properties().forEach(e -> envVar(e.getKey(), e.getValue(), "spec.env." + e.getKey(), env, problems));
            } else if (envNode.isArray()) {
                for (int i = 0; i < envNode.size(); i++) {
                    var item = envNode.get(i);
                    var name = item.path("name");
                    if (!name.isTextual()) problems.add("spec.env[" + i + "].name", "required: a variable name");
                    else if (item.has("valueFrom")) valueFrom(item.get("valueFrom"), "spec.env[" + i + "].valueFrom", problems);
                    else envVar(name.asText(), item.path("value"), "spec.env[" + i + "].value", env, problems);
                }
            } else {
                problems.add("spec.env", "expected a map of NAME: value or a list of {name, value}, got " + ResourceParser.describe(envNode));
            }
        }

        Optional<String> workingDir = Optional.empty();
        var wd = spec.get("workingDir");
        if (wd != null && !wd.isNull()) {
            if (!wd.isTextual() || wd.asText().isBlank()) problems.add("spec.workingDir", "expected a folder path as a string");
            else if (wd.asText().indexOf('\0') >= 0) problems.add("spec.workingDir", "must not contain NUL characters");
            else workingDir = Optional.of(wd.asText());
        }

        double cpus = 0;
        long memory = 0;
        int gpus = 0;
        var res = spec.get("resources");
        if (res != null && !res.isNull()) {
            if (!res.isObject()) {
                problems.add("spec.resources", "expected an object with cpu, memory and gpu");
            } else {
                cpus = quantity(res.get("cpu"), "spec.resources.cpu", problems, true).doubleValue();
                memory = quantity(res.get("memory"), "spec.resources.memory", problems, false).longValue();
                gpus = integer(res.get("gpu"), "spec.resources.gpu", 0, 0, 64, problems);
            }
        }
        int timeoutSeconds = integer(spec.get("timeoutSeconds"), "spec.timeoutSeconds", 0, 1, 31 * 24 * 3600, problems);
        int backoffLimit = integer(spec.get("backoffLimit"), "spec.backoffLimit", 0, 0, MAX_BACKOFF_LIMIT, problems);
        int priority = integer(spec.get("priority"), "spec.priority", 0, -1000, 1000, problems);
        Optional<String> image = Optional.empty();
        var imageNode = spec.get("image");
        if (imageNode != null && !imageNode.isNull()) {
            if (!imageNode.isTextual() || imageNode.asText().isBlank()) problems.add("spec.image", "expected an image reference as a string");
            else image = Optional.of(imageNode.asText());
        }
        Optional<ContainerOptions.PullPolicy> pullPolicy = Optional.empty();
        try {
            pullPolicy = ContainerOptions.PullPolicy.parse(spec.path("imagePullPolicy").asText(""), "spec.imagePullPolicy");
        } catch (InvalidSpecException e) {
            e.errors().forEach(err -> problems.add(err.path(), err.message()));
        }
        if (!problems.isEmpty()) return null;
        return new JobSpec(command, env, workingDir, new ResourceRequest(cpus, memory, gpus),
                timeoutSeconds == 0 ? Optional.empty() : Optional.of(Duration.ofSeconds(timeoutSeconds)), backoffLimit, priority,
                image, pullPolicy, Optional.empty());
    }

    private static void strings(JsonNode array, String path, List<String> out, Problems problems) {
        for (int i = 0; i < array.size(); i++) {
            var item = array.get(i);
            if (item.isTextual() || item.isNumber() || item.isBoolean()) {
                if (item.asText().indexOf('\0') >= 0) problems.add(path + "[" + i + "]", "must not contain NUL characters");
                else out.add(item.asText());
            } else {
                problems.add(path + "[" + i + "]", "expected a string, got " + ResourceParser.describe(item));
            }
        }
    }

    /** A secretKeyRef or configMapKeyRef, resolved at each start by the reconciler ({@link io.capstan.core.ConfigResolver}). */
    private static void valueFrom(JsonNode node, String path, Problems problems) {
        var secret = node.path("secretKeyRef");
        var ref = secret.isObject() ? secret : node.path("configMapKeyRef");
        var at = path + (secret.isObject() ? ".secretKeyRef" : ".configMapKeyRef");
        if (!ref.isObject()) {
            problems.add(path, "expected secretKeyRef or configMapKeyRef; other sources have no local value");
            return;
        }
        for (var field : List.of("name", "key")) {
            if (!ref.path(field).isTextual() || ref.path(field).asText().isEmpty()) problems.add(at + "." + field, "required: a string");
        }
    }

    private static void envVar(String name, JsonNode value, String path, Map<String, String> env, Problems problems) {
        if (!ENV_NAME.matcher(name).matches()) {
            problems.add(path, "'" + io.capstan.core.Names.printable(name) + "' is not a valid environment variable name; use letters, digits and '_', not starting with a digit");
        } else if (value == null || value.isMissingNode() || value.isNull() || !value.isValueNode()) {
            problems.add(path, "expected a string value, got " + ResourceParser.describe(value));
        } else if (value.asText().indexOf('\0') >= 0) {
            problems.add(path, "must not contain NUL characters");
        } else {
            env.put(name, value.asText());
        }
    }

    private static java.math.BigDecimal quantity(JsonNode node, String path, Problems problems, boolean fractional) {
        if (node == null || node.isNull()) return java.math.BigDecimal.ZERO;
        if (!node.isNumber() && !node.isTextual()) {
            problems.add(path, "expected a quantity such as 500m, 2 or 1Gi, got " + ResourceParser.describe(node));
            return java.math.BigDecimal.ZERO;
        }
        try {
            var q = Quantity.parse(path, node.asText());
            if (!fractional) q = q.setScale(0, java.math.RoundingMode.CEILING);
            if (q.compareTo(java.math.BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
                problems.add(path, "quantity is too large");
                return java.math.BigDecimal.ZERO;
            }
            return q;
        } catch (InvalidSpecException e) {
            e.errors().forEach(err -> problems.add(path, err.message()));
            return java.math.BigDecimal.ZERO;
        }
    }

    private static int integer(JsonNode node, String path, int fallback, int min, int max, Problems problems) {
        if (node == null || node.isNull()) return fallback;
        if (!node.isIntegralNumber() || !node.canConvertToInt()) {
            problems.add(path, "expected an integer from " + min + " to " + max + ", got " + ResourceParser.describe(node));
            return fallback;
        }
        int v = node.asInt();
        if (v < min || v > max) {
            problems.add(path, "must be from " + min + " to " + max + ", got " + v);
            return fallback;
        }
        return v;
    }
}
