package io.capstan.tuning;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.capstan.backend.ContainerOptions;
import io.capstan.backend.ResourceRequest;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import io.capstan.core.Problems;
import io.capstan.core.SpecFields;
import io.capstan.core.Quantity;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * What a trial runs locally: the primary container of a batch/v1 Job trial spec, its command and args, its env and
 * its resource requests, and its image with how to run it (see {@link io.capstan.backend.ContainerOptions}).
 *
 * @param workingDir the container's {@code workingDir}, if it names one
 * @param pullPolicy the container's {@code imagePullPolicy}
 * @param execution  the Job template's {@code capstan.io/execution} annotation
 * @param warnings   fields that cannot be honoured locally, to report rather than drop silently
 */
record TrialCommand(List<String> command, Map<String, String> env, Optional<String> image, ResourceRequest requests,
                    Optional<String> workingDir, List<String> warnings, Optional<ContainerOptions.PullPolicy> pullPolicy,
                    ContainerOptions.Execution execution) {
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_.\\-]*");

    TrialCommand {
        command = List.copyOf(command);
        env = Map.copyOf(env);
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(requests, "requests");
        Objects.requireNonNull(workingDir, "workingDir");
        warnings = List.copyOf(warnings);
    }

    static boolean isBatchJob(JsonNode trialSpec) {
        return "batch/v1".equals(trialSpec.path("apiVersion").asText()) && "Job".equals(trialSpec.path("kind").asText());
    }

    /** The kind of the trial's resource, as {@code apiVersion/kind}, for messages. */
    static String kindOf(JsonNode trialSpec) {
        return trialSpec.path("apiVersion").asText("?") + " " + trialSpec.path("kind").asText("?");
    }

    /** Checks a batch/v1 Job trial spec: it has containers, the primary one exists and has a command. */
    static void checkJob(ObjectNode trialSpec, String primary, String path, Problems problems) {
        var containers = trialSpec.path("spec").path("template").path("spec").path("containers");
        var cPath = path + ".spec.template.spec.containers";
        if (!containers.isArray() || containers.isEmpty()) {
            problems.add(cPath, "required: at least one container with a command");
            return;
        }
        int index = primaryIndex(containers, primary);
        if (index < 0) {
            problems.add("spec.trialTemplate.primaryContainerName", primary.isEmpty()
                    ? "required when the Job has " + containers.size() + " containers: name the one that trains"
                    : "'" + Names.printable(primary) + "' is not the name of a container in the trial Job");
            return;
        }
        var container = containers.get(index);
        var command = container.get("command");
        var args = container.get("args");
        if ((command == null || !command.isArray() || command.isEmpty()) && (args == null || !args.isArray() || args.isEmpty())) {
            problems.add(cPath + "[" + index + "].command", "required: Capstan runs the container's command locally and cannot use the image's entrypoint");
        }
        try {
            ContainerOptions.PullPolicy.parse(container.path("imagePullPolicy").asText(""), cPath + "[" + index + "].imagePullPolicy");
        } catch (InvalidSpecException e) {
            e.errors().forEach(err -> problems.add(err.path(), err.message()));
        }
        try {
            ContainerOptions.Execution.parse(trialSpec.path("metadata").path("annotations").path(ContainerOptions.EXECUTION_ANNOTATION).asText(""),
                    path + ".metadata.annotations[" + ContainerOptions.EXECUTION_ANNOTATION + "]");
        } catch (InvalidSpecException e) {
            e.errors().forEach(err -> problems.add(err.path(), err.message()));
        }
        strings(command, cPath + "[" + index + "].command", problems);
        strings(args, cPath + "[" + index + "].args", problems);
    }

    private static void strings(JsonNode node, String path, Problems problems) {
        if (node == null || node.isNull()) return;
        if (!node.isArray()) {
            problems.add(path, "expected a list of strings, got " + SpecFields.describe(node));
            return;
        }
        for (int i = 0; i < node.size(); i++) {
            if (!node.get(i).isValueNode() || node.get(i).isNull()) problems.add(path + "[" + i + "]", "expected a string, got " + SpecFields.describe(node.get(i)));
        }
    }

    /** The primary container of an already substituted batch/v1 Job that {@link #of} accepts. */
    static JsonNode primaryContainer(ObjectNode runSpec, String primary) {
        var containers = runSpec.path("spec").path("template").path("spec").path("containers");
        return containers.get(primaryIndex(containers, primary));
    }

    private static int primaryIndex(JsonNode containers, String primary) {
        if (primary.isEmpty()) return containers.size() == 1 ? 0 : -1;
        for (int i = 0; i < containers.size(); i++) {
            if (primary.equals(containers.get(i).path("name").asText())) return i;
        }
        return -1;
    }

    /**
     * The command of the primary container of an already substituted batch/v1 Job.
     *
     * @throws InvalidSpecException if the spec is not a runnable Job
     */
    static TrialCommand of(ObjectNode runSpec, String primary) {
        if (!isBatchJob(runSpec)) {
            throw InvalidSpecException.of("spec.trialTemplate.trialSpec", "trials of kind " + kindOf(runSpec)
                    + " do not run as a command; a trial is a " + TrialJobs.SUPPORTED);
        }
        var problems = new Problems();
        checkJob(runSpec, primary, "spec.trialTemplate.trialSpec", problems);
        problems.throwIfAny();
        var podSpec = runSpec.path("spec").path("template").path("spec");
        var container = podSpec.path("containers").get(primaryIndex(podSpec.path("containers"), primary));
        var command = new ArrayList<String>();
        container.path("command").forEach(n -> command.add(n.asText()));
        container.path("args").forEach(n -> command.add(n.asText()));
        var warnings = new ArrayList<String>();
        var env = new LinkedHashMap<String, String>();
        for (var e : container.path("env")) {
            var name = e.path("name").asText("");
            if (!ENV_NAME.matcher(name).matches()) {
                warnings.add("env '" + Names.printable(name) + "' is not a valid variable name and was left out");
            } else if (e.has("valueFrom")) {
                var from = e.path("valueFrom");
                // Secret and config-map references are resolved when the trial starts (ConfigResolver).
                if (!from.has("secretKeyRef") && !from.has("configMapKeyRef")) {
                    warnings.add("env " + name + " uses valueFrom " + String.join(", ", from.properties().stream().map(java.util.Map.Entry::getKey).toList())
                            + ", which has no local value; it was left out");
                }
            } else {
                env.put(name, e.path("value").asText(""));
            }
        }
        if (podSpec.path("containers").size() > 1) warnings.add("only the primary container runs locally; sidecars are left out");
        for (var field : List.of("nodeSelector", "affinity", "tolerations")) {
            if (podSpec.has(field)) warnings.add("pod field " + field + " has no meaning locally and is ignored");
        }
        for (var v : podSpec.path("volumes")) {
            if (!v.has("secret") && !v.has("configMap")) {
                warnings.add("volume '" + Names.printable(v.path("name").asText()) + "' is not a secret or config map, which are the only volumes a local trial mounts; it is ignored");
            }
        }
        var image = container.path("image").isTextual() ? Optional.of(container.path("image").asText()) : Optional.<String>empty();
        var wd = container.path("workingDir");
        Optional<String> workingDir = wd.isTextual() && !wd.asText().isBlank() && wd.asText().indexOf('\0') < 0
                ? Optional.of(wd.asText()) : Optional.empty();
        var pullPolicy = ContainerOptions.PullPolicy.parse(container.path("imagePullPolicy").asText(""), "imagePullPolicy");
        var execution = ContainerOptions.Execution.parse(runSpec.path("metadata").path("annotations").path(ContainerOptions.EXECUTION_ANNOTATION).asText(""),
                ContainerOptions.EXECUTION_ANNOTATION);
        return new TrialCommand(command, env, image, requests(container.path("resources"), warnings), workingDir, warnings, pullPolicy, execution);
    }

    private static ResourceRequest requests(JsonNode resources, List<String> warnings) {
        var source = resources.path("requests").isObject() ? resources.path("requests") : resources.path("limits");
        double cpus = 0;
        long memory = 0;
        int gpus = 0;
        try {
            if (source.has("cpu")) cpus = Quantity.cpus("resources.cpu", source.path("cpu").asText());
            if (source.has("memory")) memory = Quantity.bytes("resources.memory", source.path("memory").asText());
            var gpu = source.path("nvidia.com/gpu");
            if (!gpu.isMissingNode()) gpus = Integer.parseInt(gpu.asText());
        } catch (InvalidSpecException | NumberFormatException e) {
            warnings.add("resource requests could not be read (" + e.getMessage() + ") and were left out");
            return ResourceRequest.NONE;
        }
        return new ResourceRequest(cpus, memory, gpus);
    }

    /**
     * Replaces every {@code ${trialParameters.x}} in the text values of {@code template} with {@code values.apply(x)};
     * works on the tree rather than on text, so that a value can never break out of its string.
     */
    static ObjectNode substitute(ObjectNode template, Function<String, String> values) {
        var copy = template.deepCopy();
        substituteIn(copy, values);
        return copy;
    }

    private static void substituteIn(JsonNode node, Function<String, String> values) {
        if (node instanceof ObjectNode obj) {
            for (var e : List.copyOf(obj.properties())) {
                if (e.getValue().isTextual()) obj.set(e.getKey(), TextNode.valueOf(replace(e.getValue().asText(), values)));
                else substituteIn(e.getValue(), values);
            }
        } else if (node instanceof ArrayNode arr) {
            for (int i = 0; i < arr.size(); i++) {
                if (arr.get(i).isTextual()) arr.set(i, TextNode.valueOf(replace(arr.get(i).asText(), values)));
                else substituteIn(arr.get(i), values);
            }
        }
    }

    private static String replace(String text, Function<String, String> values) {
        var m = TrialTemplateReader.PLACEHOLDER.matcher(text);
        if (!m.find()) return text;
        m.reset();
        var sb = new StringBuilder();
        while (m.find()) m.appendReplacement(sb, java.util.regex.Matcher.quoteReplacement(values.apply(m.group(1))));
        m.appendTail(sb);
        return sb.toString();
    }
}
