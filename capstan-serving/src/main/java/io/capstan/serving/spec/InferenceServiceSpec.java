package io.capstan.serving.spec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.Problems;
import io.capstan.core.SpecFields;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A KServe {@code InferenceService} (serving.kserve.io/v1beta1) spec as Capstan serves it.
 *
 * @param transformer {@code spec.transformer}, whose first container Capstan runs in front of the predictor; null when absent
 * @param hasExplainer whether {@code spec.explainer} is set; Capstan does not run explainers, so such a revision fails
 *        with the reason rather than serve the predictor alone
 * @param warnings fields that are accepted but not honoured in-process (resources, node selectors, ...)
 */
public record InferenceServiceSpec(PredictorSpec predictor, PredictorSpec transformer, boolean hasExplainer, List<String> warnings) {

    /** The framework shorthands KServe accepts in place of {@code predictor.model}. */
    public static final List<String> SHORTHANDS = List.of(
            "sklearn", "xgboost", "lightgbm", "onnx", "pmml", "tensorflow", "pytorch", "triton", "huggingface", "paddle");
    /** The longest string a serving spec field may hold. */
    static final int MAX_STRING = 4096;
    private static final Set<String> PROTOCOLS = Set.of("v1", "v2", "grpc-v2");
    private static final Set<String> SCALE_METRICS = Set.of("concurrency", "rps", "cpu", "memory");
    private static final Set<String> LOGGER_MODES = Set.of("all", "request", "response");
    /** Predictor fields that Capstan reads or knowingly ignores without a warning. */
    private static final Set<String> KNOWN_PREDICTOR_FIELDS = Set.of("model", "minReplicas", "maxReplicas", "scaleTarget",
            "scaleMetric", "containerConcurrency", "timeout", "canaryTrafficPercent", "logger", "batcher", "containers",
            "serviceAccountName", "annotations", "labels", "deploymentStrategy");

    public InferenceServiceSpec {
        warnings = List.copyOf(warnings);
    }

    /** Whether {@code spec.transformer} is set. */
    public boolean hasTransformer() {
        return transformer != null;
    }

    /**
     * The predictor.
     *
     * @param model what to serve; null when the predictor is a custom container
     * @param customContainer the first container's image when the predictor lists {@code containers}
     * @param container the first container when the predictor lists {@code containers}, else null
     */
    public record PredictorSpec(ModelSpec model, String customContainer, ContainerSpec container, Optional<Integer> minReplicas, Optional<Integer> maxReplicas,
                                Optional<Integer> scaleTarget, Optional<String> scaleMetric, Optional<Integer> containerConcurrency,
                                Optional<Integer> timeoutSeconds, Optional<Integer> canaryTrafficPercent, Optional<LoggerSpec> logger,
                                Optional<BatcherSpec> batcher) {
    }

    /**
     * @param format the model format, e.g. "onnx" (from {@code modelFormat.name} or the shorthand's name)
     * @param shorthand the legacy framework field used, or null for {@code predictor.model}
     * @param path the spec path of the model, e.g. {@code spec.predictor.model}
     */
    public record ModelSpec(String format, String formatVersion, String runtime, String protocolVersion, String storageUri,
                            String shorthand, String path) {
    }

    /** @param mode all, request or response */
    public record LoggerSpec(String url, String mode) {
    }

    public record BatcherSpec(int maxBatchSize, Duration maxLatency) {
    }

    /**
     * Why this spec cannot be served as written, one sentence per component Capstan does not run, each naming its
     * field; empty when it can.
     */
    public List<String> unsupportedComponents() {
        var reasons = new ArrayList<String>();
        if (hasExplainer) {
            reasons.add("spec.explainer: Capstan does not run explainers: KServe's explainers (Alibi, ART) need Python "
                    + "libraries that Debian does not package and Capstan does not install with pip, and serving the predictor "
                    + "alone would leave :explain unanswered; remove spec.explainer to serve the predictor");
        }
        return reasons;
    }

    /** Reads and checks a spec; returns null when there are problems. */
    public static InferenceServiceSpec parse(ObjectNode spec, Problems problems) {
        var warnings = new ArrayList<String>();
        var predictorNode = spec.get("predictor");
        if (predictorNode == null || !predictorNode.isObject()) {
            problems.add("spec.predictor", predictorNode == null ? "is required" : "expected an object");
            return null;
        }
        int before = problems.errors().size();
        var predictor = predictor(predictorNode, "spec.predictor", problems, warnings);
        PredictorSpec transformer = null;
        var transformerNode = SpecFields.object(spec.get("transformer"), "spec.transformer", problems);
        if (transformerNode.isPresent()) {
            if (!transformerNode.get().has("containers")) {
                problems.add("spec.transformer.containers", "is required: the transformer's container, e.g. "
                        + "[{name: kserve-container, command: [python3, -m, transformer]}]");
            } else {
                transformer = predictor(transformerNode.get(), "spec.transformer", problems, warnings);
            }
        }
        boolean explainer = component(spec, "explainer", problems, warnings);
        spec.fieldNames().forEachRemaining(f -> {
            if (!Set.of("predictor", "transformer", "explainer").contains(f)) warnings.add("spec." + f + " is accepted but ignored");
        });
        if (problems.errors().size() > before) return null;
        return new InferenceServiceSpec(predictor, transformer, explainer, warnings);
    }

    private static boolean component(ObjectNode spec, String field, Problems problems, List<String> warnings) {
        return SpecFields.object(spec.get(field), "spec." + field, problems).isPresent();
    }

    private static Optional<Integer> integer(JsonNode node, String path, int min, int max, Problems problems) {
        var value = SpecFields.integerOrString(node, path, min, max, problems);
        return value.isPresent() ? Optional.of(value.getAsInt()) : Optional.empty();
    }

    private static PredictorSpec predictor(JsonNode node, String at, Problems problems, List<String> warnings) {
        var models = new ArrayList<String>();
        if (node.has("model")) models.add("model");
        for (var s : SHORTHANDS) if (node.has(s)) models.add(s);
        boolean containers = node.has("containers");
        ModelSpec model = null;
        String customImage = null;
        ContainerSpec container = null;
        if (models.size() > 1) {
            problems.add(at, "names several models " + models + "; give exactly one of model or a framework such as onnx");
        } else if (models.size() == 1) {
            model = model(node, at, models.getFirst(), problems);
        } else if (containers) {
            var list = node.get("containers");
            if (!list.isArray() || list.isEmpty() || !list.get(0).isObject()) {
                problems.add(at + ".containers", "expected a list of containers");
            } else {
                customImage = SpecFields.string(list.get(0).get("image"), at + ".containers[0].image", MAX_STRING, problems).orElse("(no image)");
                container = ContainerSpec.parse(list.get(0), at + ".containers[0]", problems, warnings);
                if (list.size() > 1) warnings.add(at + ".containers[1..]: only the first container runs");
            }
        } else {
            problems.add(at, "names no model; add model: {modelFormat: {name: onnx}, storageUri: ...} or a framework such as onnx");
        }
        var volumes = node.path("volumes");
        if (containers && volumes.isArray()) {
            // a custom container's secret and configMap volumes become files, hostPath volumes mounts when it runs in a container
            for (int i = 0; i < volumes.size(); i++) {
                var v = volumes.get(i);
                if (!v.has("secret") && !v.has("configMap") && !v.has("hostPath")) {
                    warnings.add(at + ".volumes[" + i + "]: only secret, configMap and hostPath volumes are mounted locally; this one is ignored");
                }
            }
        }
        node.fieldNames().forEachRemaining(f -> {
            if (containers && f.equals("volumes") && volumes.isArray()) return;
            if (!KNOWN_PREDICTOR_FIELDS.contains(f) && !SHORTHANDS.contains(f)) {
                warnings.add(at + "." + f + " is accepted but not honoured in-process");
            }
        });
        var min = integer(node.get("minReplicas"), at + ".minReplicas", 0, 1000, problems);
        var max = integer(node.get("maxReplicas"), at + ".maxReplicas", 0, 1000, problems);
        if (min.isPresent() && max.isPresent() && max.get() > 0 && max.get() < min.get()) {
            problems.add(at + ".maxReplicas", "must be at least minReplicas (" + min.get() + "), got " + max.get());
        }
        var target = integer(node.get("scaleTarget"), at + ".scaleTarget", 1, 1_000_000, problems);
        var metric = SpecFields.string(node.get("scaleMetric"), at + ".scaleMetric", MAX_STRING, problems);
        metric.filter(m -> !SCALE_METRICS.contains(m)).ifPresent(m ->
                problems.add(at + ".scaleMetric", "'" + io.capstan.core.Names.printable(m) + "' is not one of " + SCALE_METRICS));
        metric.filter(m -> m.equals("cpu") || m.equals("memory")).ifPresent(m ->
                warnings.add(at + ".scaleMetric " + m + " is measured as concurrency in-process"));
        var concurrency = integer(node.get("containerConcurrency"), at + ".containerConcurrency", 0, 100_000, problems);
        var timeout = integer(node.get("timeout"), at + ".timeout", 0, 86_400, problems);
        var canary = integer(node.get("canaryTrafficPercent"), at + ".canaryTrafficPercent", 0, 100, problems);
        var logger = SpecFields.object(node.get("logger"), at + ".logger", problems).map(l -> logger(l, at + ".logger", problems));
        var batcher = SpecFields.object(node.get("batcher"), at + ".batcher", problems).map(b -> batcher(b, at + ".batcher", problems));
        return new PredictorSpec(model, customImage, container, min, max, target, metric, concurrency, timeout, canary, logger, batcher);
    }

    private static ModelSpec model(JsonNode predictor, String base, String field, Problems problems) {
        var at = base + "." + field;
        var node = predictor.get(field);
        if (!node.isObject()) {
            problems.add(at, "expected an object");
            return null;
        }
        String format;
        String formatVersion = null;
        if (field.equals("model")) {
            var formatNode = node.get("modelFormat");
            if (formatNode == null || !formatNode.isObject()) {
                problems.add(at + ".modelFormat", formatNode == null ? "is required, e.g. {name: onnx}" : "expected an object");
                return null;
            }
            var name = SpecFields.string(formatNode.get("name"), at + ".modelFormat.name", MAX_STRING, problems);
            if (name.isEmpty() || name.get().isBlank()) {
                if (name.isEmpty() && !formatNode.has("name")) problems.add(at + ".modelFormat.name", "is required, e.g. onnx");
                else if (name.isPresent()) problems.add(at + ".modelFormat.name", "must not be empty");
                return null;
            }
            format = name.get().toLowerCase(java.util.Locale.ROOT);
            formatVersion = SpecFields.string(formatNode.get("version"), at + ".modelFormat.version", MAX_STRING, problems).orElse(null);
        } else {
            format = field;
        }
        var runtime = SpecFields.string(node.get("runtime"), at + ".runtime", MAX_STRING, problems).orElse(null);
        var protocol = SpecFields.string(node.get("protocolVersion"), at + ".protocolVersion", MAX_STRING, problems).orElse(null);
        if (protocol != null && !PROTOCOLS.contains(protocol)) {
            problems.add(at + ".protocolVersion", "'" + io.capstan.core.Names.printable(protocol) + "' is not one of " + PROTOCOLS);
        }
        var storageUri = SpecFields.string(node.get("storageUri"), at + ".storageUri", MAX_STRING, problems).orElse(null);
        if (storageUri != null && storageUri.isBlank()) problems.add(at + ".storageUri", "must not be empty");
        return new ModelSpec(format, formatVersion, runtime, protocol, storageUri, field.equals("model") ? null : field, at);
    }

    private static LoggerSpec logger(JsonNode node, String at, Problems problems) {
        var url = SpecFields.string(node.get("url"), at + ".url", MAX_STRING, problems).orElse(null);
        if (url != null && !url.matches("(?i)(https?|file)://.+")) {
            problems.add(at + ".url", "must be an http(s):// or file:// URL");
        }
        var mode = SpecFields.string(node.get("mode"), at + ".mode", MAX_STRING, problems).orElse("all");
        if (!LOGGER_MODES.contains(mode)) problems.add(at + ".mode", "'" + io.capstan.core.Names.printable(mode) + "' is not one of " + LOGGER_MODES);
        return new LoggerSpec(url, mode);
    }

    private static BatcherSpec batcher(JsonNode node, String at, Problems problems) {
        int size = SpecFields.integerOrString(node.get("maxBatchSize"), at + ".maxBatchSize", 1, 65_536, problems).orElse(32);
        Duration latency = Duration.ofMillis(500);
        var latencyNode = node.get("maxLatency");
        if (latencyNode != null && !latencyNode.isNull()) {
            if (latencyNode.isIntegralNumber()) {
                int ms = SpecFields.integerOrString(node.get("maxLatency"), at + ".maxLatency", 1, 600_000, problems).orElse(500);
                latency = Duration.ofMillis(ms);
            } else if (latencyNode.isTextual()) {
                latency = SpecFields.duration(latencyNode.asText(), ChronoUnit.MILLIS, at + ".maxLatency", problems).orElse(latency);
            } else {
                problems.add(at + ".maxLatency", "expected milliseconds, e.g. 500");
            }
        }
        return new BatcherSpec(size, latency);
    }
}
