package io.capstan.monitoring.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.Names;
import io.capstan.core.Problems;
import io.capstan.core.SpecFields;
import io.capstan.monitoring.drift.DriftTest;
import io.capstan.monitoring.drift.FeatureType;
import java.net.URI;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;

/**
 * A {@code ModelMonitor} (monitoring.capstan.io/v1alpha1): drift of an InferenceService's inputs and outputs
 * against a reference.
 *
 * <pre>
 * spec:
 *   inferenceService: iris
 *   reference:
 *     uri: file:///data/iris.csv      # CSV with a header row, or Parquet: file://, s3://, capstan://artifacts/KEY,
 *                                     # mlmd://artifacts/ID or registry-dataset://NAME; or fromRequests: 500 (the first 500 rows)
 *     features: [sepal_length, {name: colour, type: categorical, test: chisquare, threshold: 0.01}]
 *   window: {rows: 200}               # or {duration: 1h}; minRows (default 30) before any test runs
 *   tests: {default: auto, multivariate: mmd}
 *   thresholds: {driftShare: 0.5, ks: 0.05, wasserstein: 0.1}
 *   predictions: true                 # also the drift of the model's outputs (default)
 *   interval: 10s                     # how often the window is tested (default)
 *   actions:                          # on sustained drift: retrain, register, roll out as a canary
 *   - retrain:
 *       pipeline: {file: /path/iris-pipeline.yaml}   # or {version: KFP_PIPELINE_VERSION_ID}
 *       parameters: {seed: 7}
 *       datasetParameter: source      # the parameter given the drifted window's CSV (default source)
 *       labelColumn: species          # the CSV's label column, holding the served model's answer (output labelOutput)
 *       labelOutput: label            # default: the first integer output, else the first
 *       model: {task: export-onnx, output: onnx_model, format: onnx}
 *       afterWindows: 3               # consecutive drifted windows, full and disjoint (default 3)
 *       canaryTrafficPercent: 10      # default 10
 *       registeredModel: iris         # default: the InferenceService's name
 * </pre>
 */
public record ModelMonitorSpec(String inferenceService, Reference reference, Window window, Optional<DriftTest> defaultTest,
                               boolean multivariate, Map<DriftTest, Double> thresholds, double driftShare, boolean predictions,
                               Duration interval, Optional<Retrain> retrain) {
    public static final int MAX_FEATURES = 1000;
    public static final int MAX_ROWS = 1_000_000;
    public static final Duration MAX_DURATION = Duration.ofDays(31);
    public static final Duration MIN_INTERVAL = Duration.ofMillis(200);
    static final int MAX_URI = 4096;
    static final String MLMD_SCHEME = "mlmd";
    static final String REGISTRY_SCHEME = "registry-dataset";
    static final int DEFAULT_MIN_ROWS = 30;
    static final double DEFAULT_DRIFT_SHARE = 0.5;
    static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);
    private static final Set<String> FIELDS = Set.of("inferenceService", "reference", "window", "tests", "thresholds", "predictions",
            "interval", "actions");

    public ModelMonitorSpec {
        thresholds = Map.copyOf(thresholds);
    }

    /** A feature: its name (a CSV column, in the input tensor's column order), type, and optional own test and threshold. */
    public record Feature(String name, FeatureType type, Optional<DriftTest> test, OptionalDouble threshold) {
    }

    /** Where the reference comes from: a dataset URI, or the first {@code fromRequests} rows served (0 when a URI is given). */
    public record Reference(Optional<URI> uri, int fromRequests, List<Feature> features) {
        public Reference {
            features = List.copyOf(features);
        }
    }

    /** The last {@code rows} rows served, or those of the last {@code duration} (then rows is 0); tested from {@code minRows}. */
    public record Window(int rows, Optional<Duration> duration, int minRows) {
    }

    /** What to do on sustained drift: run {@code pipelineFile} or {@code pipelineVersion}, register its model, roll it out as a canary. */
    public record Retrain(Optional<java.nio.file.Path> pipelineFile, Optional<String> pipelineVersion, Map<String, JsonNode> parameters,
                          String datasetParameter, String labelColumn, Optional<String> labelOutput, String modelTask, String modelOutput,
                          String modelFormat, int afterWindows, int canaryTrafficPercent, Optional<String> registeredModel) {
        public Retrain {
            parameters = Map.copyOf(parameters);
        }
    }

    /** The threshold of {@code test} for {@code feature}: the feature's own, else spec.thresholds', else the test's default. */
    public double threshold(Feature feature, DriftTest test) {
        return feature.threshold().orElse(thresholds.getOrDefault(test, test.defaultThreshold()));
    }

    /** Reads and checks a spec, reporting every bad field; returns null when there are problems. */
    public static ModelMonitorSpec parse(ObjectNode spec, Problems problems) {
        int before = problems.errors().size();
        spec.fieldNames().forEachRemaining(f -> {
            if (!FIELDS.contains(f)) problems.add("spec." + Names.printable(f), "unknown field; known: " + new java.util.TreeSet<>(FIELDS));
        });
        var isvc = SpecFields.name(spec.get("inferenceService"), "spec.inferenceService", problems);
        var reference = SpecFields.requiredObject(spec.get("reference"), "spec.reference", problems).map(r -> reference(r, problems));
        var window = window(spec.get("window"), problems);
        Optional<DriftTest> defaultTest = Optional.empty();
        boolean multivariate = false;
        var tests = SpecFields.object(spec.get("tests"), "spec.tests", problems);
        if (tests.isPresent()) {
            only(tests.get(), "spec.tests", Set.of("default", "multivariate"), problems);
            var name = SpecFields.string(tests.get().get("default"), "spec.tests.default", 64, problems);
            if (name.isPresent() && !name.get().equals("auto")) defaultTest = test(name.get(), "spec.tests.default", problems);
            var mv = SpecFields.string(tests.get().get("multivariate"), "spec.tests.multivariate", 64, problems);
            if (mv.isPresent()) {
                if (mv.get().equals("mmd")) multivariate = true;
                else if (!mv.get().equals("none")) problems.add("spec.tests.multivariate", "'" + Names.printable(mv.get()) + "' is not a test; use mmd or none");
            }
        }
        var thresholds = new LinkedHashMap<DriftTest, Double>();
        double driftShare = DEFAULT_DRIFT_SHARE;
        var t = SpecFields.object(spec.get("thresholds"), "spec.thresholds", problems);
        if (t.isPresent()) {
            var fields = t.get().fields();
            while (fields.hasNext()) {
                var e = fields.next();
                var at = "spec.thresholds." + Names.printable(e.getKey());
                var value = SpecFields.number(e.getValue(), at, problems);
                if (value.isEmpty()) continue;
                if (e.getKey().equals("driftShare")) {
                    if (value.getAsDouble() <= 0 || value.getAsDouble() > 1) problems.add(at, "must be above 0 and at most 1, got " + value.getAsDouble());
                    else driftShare = value.getAsDouble();
                    continue;
                }
                var test = test(e.getKey(), at, problems);
                if (test.isPresent() && threshold(value.getAsDouble(), at, problems)) thresholds.put(test.get(), value.getAsDouble());
            }
        }
        boolean predictions = SpecFields.bool(spec.get("predictions"), "spec.predictions", true, problems);
        var interval = DEFAULT_INTERVAL;
        var intervalNode = spec.get("interval");
        if (SpecFields.present(intervalNode)) {
            var text = SpecFields.string(intervalNode, "spec.interval", 32, problems);
            var parsed = text.flatMap(s -> SpecFields.duration(s, ChronoUnit.SECONDS, "spec.interval", problems));
            if (parsed.isPresent()) {
                if (parsed.get().compareTo(MIN_INTERVAL) < 0 || parsed.get().compareTo(Duration.ofDays(1)) > 0) {
                    problems.add("spec.interval", "must be from 200ms to 24h, got " + text.get());
                } else {
                    interval = parsed.get();
                }
            }
        }
        Optional<Retrain> retrain = Optional.empty();
        var actionsNode = spec.get("actions");
        if (SpecFields.present(actionsNode)) {
            if (!actionsNode.isArray()) problems.add("spec.actions", "expected a list, got " + SpecFields.describe(actionsNode));
            else if (actionsNode.size() > 1) problems.add("spec.actions", "has " + actionsNode.size() + " entries; one retrain action is supported");
            else if (actionsNode.size() == 1) retrain = retrain(actionsNode.get(0), problems);
        }
        if (problems.errors().size() > before || isvc.isEmpty() || reference.isEmpty() || reference.get() == null || window == null) return null;
        return new ModelMonitorSpec(isvc.get(), reference.get(), window, defaultTest, multivariate, thresholds, driftShare, predictions,
                interval, retrain);
    }

    private static Optional<Retrain> retrain(JsonNode action, Problems problems) {
        if (!action.isObject()) {
            problems.add("spec.actions[0]", "expected an object with retrain, got " + SpecFields.describe(action));
            return Optional.empty();
        }
        only(action, "spec.actions[0]", Set.of("retrain"), problems);
        var node = SpecFields.requiredObject(action.get("retrain"), "spec.actions[0].retrain", problems);
        if (node.isEmpty()) return Optional.empty();
        var at = "spec.actions[0].retrain";
        var r = node.get();
        int before = problems.errors().size();
        only(r, at, Set.of("pipeline", "parameters", "datasetParameter", "labelColumn", "labelOutput", "model", "afterWindows",
                "canaryTrafficPercent", "registeredModel"), problems);
        Optional<java.nio.file.Path> file = Optional.empty();
        Optional<String> version = Optional.empty();
        var pipeline = SpecFields.requiredObject(r.get("pipeline"), at + ".pipeline", problems);
        if (pipeline.isPresent()) {
            only(pipeline.get(), at + ".pipeline", Set.of("file", "version"), problems);
            var f = SpecFields.string(pipeline.get().get("file"), at + ".pipeline.file", MAX_URI, problems);
            if (SpecFields.present(pipeline.get().get("version"))) version = SpecFields.name(pipeline.get().get("version"), at + ".pipeline.version", problems);
            if (f.isPresent()) {
                var path = f.get().startsWith("file:") ? java.nio.file.Path.of(URI.create(f.get())) : java.nio.file.Path.of(f.get());
                if (!path.isAbsolute()) problems.add(at + ".pipeline.file", "must be an absolute path or file:// URI, got " + Names.printable(f.get()));
                else if (!java.nio.file.Files.isRegularFile(path)) problems.add(at + ".pipeline.file", "'" + Names.printable(f.get()) + "' is not a readable file");
                else file = Optional.of(path);
            }
            if (f.isPresent() == version.isPresent() && problems.errors().size() == before) {
                problems.add(at + ".pipeline", "name exactly one of file (a compiled KFP pipeline) or version (an uploaded pipeline version's id)");
            }
        }
        var parameters = new LinkedHashMap<String, JsonNode>();
        SpecFields.object(r.get("parameters"), at + ".parameters", problems).ifPresent(p -> p.fields().forEachRemaining(e -> parameters.put(e.getKey(), e.getValue())));
        var datasetParameter = SpecFields.string(r.get("datasetParameter"), at + ".datasetParameter", 128, problems).orElse("source");
        var labelColumn = SpecFields.string(r.get("labelColumn"), at + ".labelColumn", 128, problems).orElse("label");
        var labelOutput = SpecFields.string(r.get("labelOutput"), at + ".labelOutput", 128, problems);
        String task = "export-onnx";
        String output = "onnx_model";
        String format = "onnx";
        var model = SpecFields.object(r.get("model"), at + ".model", problems);
        if (model.isPresent()) {
            only(model.get(), at + ".model", Set.of("task", "output", "format"), problems);
            task = SpecFields.string(model.get().get("task"), at + ".model.task", 128, problems).orElse(task);
            output = SpecFields.string(model.get().get("output"), at + ".model.output", 128, problems).orElse(output);
            format = SpecFields.string(model.get().get("format"), at + ".model.format", 64, problems).orElse(format);
        }
        int after = SpecFields.integer(r.get("afterWindows"), at + ".afterWindows", 1, 1000, problems).orElse(3);
        int canary = SpecFields.integer(r.get("canaryTrafficPercent"), at + ".canaryTrafficPercent", 1, 99, problems).orElse(10);
        Optional<String> registered = SpecFields.present(r.get("registeredModel"))
                ? SpecFields.name(r.get("registeredModel"), at + ".registeredModel", problems) : Optional.empty();
        if (problems.errors().size() > before) return Optional.empty();
        return Optional.of(new Retrain(file, version, parameters, datasetParameter, labelColumn, labelOutput, task, output, format, after, canary, registered));
    }

    private static Reference reference(JsonNode node, Problems problems) {
        int before = problems.errors().size();
        only(node, "spec.reference", Set.of("uri", "fromRequests", "features"), problems);
        Optional<URI> uri = Optional.empty();
        var text = SpecFields.string(node.get("uri"), "spec.reference.uri", MAX_URI, problems);
        if (text.isPresent()) uri = uri(text.get(), problems);
        var from = SpecFields.integer(node.get("fromRequests"), "spec.reference.fromRequests", 2, MAX_ROWS, problems);
        if (SpecFields.present(node.get("uri")) == SpecFields.present(node.get("fromRequests"))) {
            problems.add("spec.reference", "give exactly one of uri (a dataset) or fromRequests (the first N rows served)");
        }
        var features = new ArrayList<Feature>();
        var list = node.get("features");
        if (!SpecFields.present(list)) {
            problems.add("spec.reference.features", "required: the feature names in the input tensor's column order");
        } else if (!list.isArray()) {
            problems.add("spec.reference.features", "expected a list, got " + SpecFields.describe(list));
        } else if (list.isEmpty()) {
            problems.add("spec.reference.features", "must name at least one feature");
        } else if (list.size() > MAX_FEATURES) {
            problems.add("spec.reference.features", "has " + list.size() + " entries; the limit is " + MAX_FEATURES);
        } else {
            var seen = new HashSet<String>();
            for (int i = 0; i < list.size(); i++) {
                var at = "spec.reference.features[" + i + "]";
                var f = feature(list.get(i), at, problems);
                if (f == null) continue;
                if (!seen.add(f.name())) problems.add(at, "'" + Names.printable(f.name()) + "' is listed twice");
                else features.add(f);
            }
        }
        if (problems.errors().size() > before) return null;
        return new Reference(uri, from.orElse(0), features);
    }

    private static Optional<URI> uri(String text, Problems problems) {
        URI uri;
        try {
            uri = new URI(text);
        } catch (java.net.URISyntaxException e) {
            problems.add("spec.reference.uri", "'" + Names.printable(text) + "' is not a URI: " + e.getReason());
            return Optional.empty();
        }
        var scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
        switch (scheme) {
            case "file", "s3", "capstan" -> {
                try {
                    io.capstan.artifacts.ArtifactUri.parse(text);
                } catch (io.capstan.core.InvalidSpecException e) {
                    problems.add("spec.reference.uri", e.errors().getFirst().message());
                    return Optional.empty();
                }
            }
            case MLMD_SCHEME -> {
                var path = uri.getRawPath() == null ? "" : uri.getRawPath();
                if (!"artifacts".equals(uri.getRawAuthority()) || !path.matches("/[1-9][0-9]{0,17}") || uri.getRawQuery() != null) {
                    problems.add("spec.reference.uri", "'" + Names.printable(text) + "' is not mlmd://artifacts/ID, an ML Metadata artifact's numeric id");
                    return Optional.empty();
                }
            }
            case REGISTRY_SCHEME -> {
                var name = uri.getRawAuthority();
                if (name == null || !(uri.getRawPath() == null || uri.getRawPath().isEmpty()) || uri.getRawQuery() != null
                        || !name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,252}")) {
                    problems.add("spec.reference.uri", "'" + Names.printable(text) + "' is not registry-dataset://NAME_OR_ID, a DataSet artifact "
                            + "of this namespace's model registry");
                    return Optional.empty();
                }
            }
            default -> {
                problems.add("spec.reference.uri", "'" + Names.printable(text) + "' is not a dataset URI this server reads; use file:///path, "
                        + "s3://bucket/key, capstan://artifacts/key, mlmd://artifacts/ID (a pipeline artifact) or registry-dataset://NAME_OR_ID "
                        + "(a model registry DataSet), of a CSV or Parquet file");
                return Optional.empty();
            }
        }
        return Optional.of(uri);
    }

    private static Feature feature(JsonNode node, String at, Problems problems) {
        if (node != null && node.isTextual()) {
            var name = SpecFields.name(node, at, problems);
            return name.map(n -> new Feature(n, FeatureType.NUMERIC, Optional.empty(), OptionalDouble.empty())).orElse(null);
        }
        if (node == null || !node.isObject()) {
            problems.add(at, "expected a name or {name, type, test, threshold}, got " + SpecFields.describe(node));
            return null;
        }
        int before = problems.errors().size();
        only(node, at, Set.of("name", "type", "test", "threshold"), problems);
        var name = SpecFields.name(node.get("name"), at + ".name", problems);
        var type = FeatureType.NUMERIC;
        var typeText = SpecFields.string(node.get("type"), at + ".type", 64, problems);
        if (typeText.isPresent()) {
            var parsed = FeatureType.ofWireName(typeText.get());
            if (parsed.isEmpty()) problems.add(at + ".type", "'" + Names.printable(typeText.get()) + "' is not a type; use numeric or categorical");
            else type = parsed.get();
        }
        var test = SpecFields.string(node.get("test"), at + ".test", 64, problems).flatMap(s -> test(s, at + ".test", problems));
        var threshold = SpecFields.number(node.get("threshold"), at + ".threshold", problems);
        if (threshold.isPresent() && !threshold(threshold.getAsDouble(), at + ".threshold", problems)) threshold = OptionalDouble.empty();
        if (problems.errors().size() > before || name.isEmpty()) return null;
        return new Feature(name.get(), type, test, threshold);
    }

    private static Window window(JsonNode node, Problems problems) {
        if (!SpecFields.present(node)) return new Window(1000, Optional.empty(), DEFAULT_MIN_ROWS);
        var w = SpecFields.object(node, "spec.window", problems);
        if (w.isEmpty()) return null;
        int before = problems.errors().size();
        only(w.get(), "spec.window", Set.of("rows", "duration", "minRows"), problems);
        var rows = SpecFields.integer(w.get().get("rows"), "spec.window.rows", 2, MAX_ROWS, problems);
        Optional<Duration> duration = Optional.empty();
        if (SpecFields.present(w.get().get("duration"))) {
            var text = SpecFields.string(w.get().get("duration"), "spec.window.duration", 32, problems);
            duration = text.flatMap(s -> SpecFields.duration(s, ChronoUnit.SECONDS, "spec.window.duration", problems));
            if (duration.isPresent() && (duration.get().isZero() || duration.get().compareTo(MAX_DURATION) > 0)) {
                problems.add("spec.window.duration", "must be above 0 and at most 31 days, got " + text.get());
            }
        }
        if (SpecFields.present(w.get().get("rows")) == SpecFields.present(w.get().get("duration"))) {
            problems.add("spec.window", "give exactly one of rows (the last N rows served) or duration (e.g. 1h)");
        }
        var minRows = SpecFields.integer(w.get().get("minRows"), "spec.window.minRows", 2, MAX_ROWS, problems);
        if (rows.isPresent() && minRows.isPresent() && minRows.getAsInt() > rows.getAsInt()) {
            problems.add("spec.window.minRows", "is " + minRows.getAsInt() + ", more than the window's " + rows.getAsInt() + " rows");
        }
        if (problems.errors().size() > before) return null;
        int min = minRows.orElse(Math.min(DEFAULT_MIN_ROWS, rows.orElse(DEFAULT_MIN_ROWS)));
        return new Window(rows.orElse(0), duration, min);
    }

    private static Optional<DriftTest> test(String name, String at, Problems problems) {
        var test = DriftTest.ofWireName(name);
        if (test.isEmpty()) {
            problems.add(at, "'" + Names.printable(name) + "' is not a drift test; use one of "
                    + java.util.Arrays.stream(DriftTest.values()).map(DriftTest::wireName).toList());
        }
        return test;
    }

    private static boolean threshold(double value, String at, Problems problems) {
        if (value <= 0 || value > 100) {
            problems.add(at, "must be above 0 and at most 100, got " + value);
            return false;
        }
        return true;
    }

    private static void only(JsonNode node, String at, Set<String> known, Problems problems) {
        node.fieldNames().forEachRemaining(f -> {
            if (!known.contains(f)) problems.add(at + "." + Names.printable(f), "unknown field; known: " + new java.util.TreeSet<>(known));
        });
    }
}
