package io.capstan.monitoring.internal;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Problems;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceStatus;
import io.capstan.monitoring.drift.DriftTest;
import io.capstan.monitoring.drift.FeatureType;
import io.capstan.monitoring.drift.MaximumMeanDiscrepancy;
import io.capstan.monitoring.drift.Statistic;
import io.capstan.serving.Serving;
import io.capstan.serving.api.DataType;
import io.capstan.serving.api.InferenceRequest;
import io.capstan.serving.api.PayloadTap;
import io.capstan.serving.api.Tensor;
import io.capstan.serving.spec.ServingKinds;
import io.capstan.store.Reconciler;
import io.capstan.store.ResourceStore;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Reconciles {@code ModelMonitor}s: taps the InferenceService's answered requests in memory (see
 * {@link Serving#payloadTap}), and every {@code spec.interval} tests the window's features and outputs against the
 * reference, off the request path, writing the outcome into status and into {@code capstan_drift_*} gauges.
 *
 * <p>Besides the store, this holds what is costly to rebuild and lost harmlessly at restart: the parsed reference
 * dataset, the reference's predictions, a reference taken from the first requests served, and the gauges.
 */
public final class ModelMonitorReconciler implements Reconciler {
    public static final String KIND = "ModelMonitor";
    static final int DURATION_WINDOW_CAPACITY = 100_000;
    static final int MMD_ROWS = 300;
    static final int MMD_PERMUTATIONS = 100;

    private final ResourceStore store;
    private final Serving serving;
    private final MeterRegistry meters;
    private final Clock clock;
    private final DriftRetraining retraining;
    private final ReferenceSource references;
    /** Per monitor; a reconcile touches only its own key's entry, and the runtime runs one reconcile per key at a time. */
    private final Map<ResourceKey, Watch> watches = new ConcurrentHashMap<>();

    /** What one monitor keeps between reconciles. */
    private static final class Watch {
        volatile String isvc;
        PayloadTap tap;
        long tapStart;
        String referenceId = "";
        volatile double[][] reference;
        /** Reference predictions by output column, for the revision named in {@link #predictionsRevision}. */
        Map<String, double[]> predictions = Map.of();
        Map<String, Boolean> predictionIntegral = Map.of();
        String predictionsRevision = "";
        final List<Meter> meters = new ArrayList<>();
        final AtomicReference<Double> detected = new AtomicReference<>(0.0);
        final AtomicReference<Double> share = new AtomicReference<>(0.0);
        /** When the reference's data was written (a file's modification time, or when the first requests were taken), epoch ms. */
        final AtomicReference<Double> referenceWritten = new AtomicReference<>(Double.NaN);
        final Map<List<String>, AtomicReference<Double>> statistics = new ConcurrentHashMap<>();
    }

    public ModelMonitorReconciler(ResourceStore store, Serving serving, MeterRegistry meters, Clock clock) {
        this(store, serving, meters, clock, null, io.capstan.monitoring.RetrainingHooks.NONE);
    }

    /** A reconciler that acts on {@code spec.actions}: exports drifted windows to {@code artifacts} and retrains. */
    public ModelMonitorReconciler(ResourceStore store, Serving serving, MeterRegistry meters, Clock clock,
                                  io.capstan.artifacts.ArtifactStore artifacts, io.capstan.monitoring.RetrainingHooks hooks) {
        this(store, serving, meters, clock, artifacts, hooks, null, io.capstan.monitoring.ReferenceResolver.NONE);
    }

    /**
     * A reconciler that also reads references from the artifact stores {@code locator} reaches ({@code s3://},
     * {@code capstan://}) and from what {@code resolver} resolves ({@code mlmd://}, {@code registry-dataset://}).
     */
    public ModelMonitorReconciler(ResourceStore store, Serving serving, MeterRegistry meters, Clock clock,
                                  io.capstan.artifacts.ArtifactStore artifacts, io.capstan.monitoring.RetrainingHooks hooks,
                                  io.capstan.artifacts.ArtifactLocator locator, io.capstan.monitoring.ReferenceResolver resolver) {
        this.references = new ReferenceSource(locator, resolver);
        this.retraining = artifacts == null ? null : new DriftRetraining(store, artifacts, hooks);
        this.store = store;
        this.serving = serving;
        this.meters = meters;
        this.clock = clock;
    }

    @Override
    public String kind() {
        return KIND;
    }

    /**
     * The reference of a ModelMonitor of {@code isvc} whose reference has {@code columns} features, for a canary's
     * inputDrift check; empty when no monitor of it has loaded one. The arrays are shared: read them only.
     */
    public Optional<double[][]> referenceOf(String namespace, String isvc, int columns) {
        return watches.entrySet().stream()
                .filter(e -> e.getKey().namespace().equals(namespace) && isvc.equals(e.getValue().isvc))
                .map(e -> e.getValue().reference).filter(r -> r != null && r.length == columns)
                .findFirst();
    }

    @Override
    public Result reconcile(ResourceKey key) {
        var found = store.find(key);
        if (found.isEmpty()) {
            forget(key);
            return Result.done();
        }
        var monitor = found.get();
        var now = clock.instant();
        var status = monitor.status().withObservedGeneration(monitor.metadata().generation());
        var problems = new Problems();
        var spec = ModelMonitorSpec.parse(monitor.spec(), problems);
        if (spec == null) {
            forget(key);
            return write(monitor, status.withPhase("Failed").withCondition("Ready", false, "InvalidSpec", describe(problems), now), Result.done());
        }
        var watch = watches.computeIfAbsent(key, k -> new Watch());
        if (watch.isvc != null && !watch.isvc.equals(spec.inferenceService())) {
            forget(key);
            watch = watches.computeIfAbsent(key, k -> new Watch());
        }
        var isvcKey = new ResourceKey(ServingKinds.INFERENCE_SERVICE, key.namespace(), spec.inferenceService());
        if (store.find(isvcKey).isEmpty()) {
            return write(monitor, status.withPhase("Pending").withCondition("Ready", false, "InferenceServiceNotFound",
                    "InferenceService '" + spec.inferenceService() + "' does not exist in namespace '" + key.namespace() + "'", now),
                    Result.requeueAfter(spec.interval()));
        }
        int capacity = spec.window().rows() > 0 ? spec.window().rows() : DURATION_WINDOW_CAPACITY;
        if (spec.reference().fromRequests() > 0) capacity = Math.max(capacity, spec.reference().fromRequests());
        // Asked every time: another monitor of the same InferenceService may have had the tap replaced by a larger one.
        var tap = serving.payloadTap(key.namespace(), spec.inferenceService(), capacity);
        if (tap != watch.tap) {
            if (watch.tap == null) registerDetected(key, spec, watch);
            watch.isvc = spec.inferenceService();
            watch.tap = tap;
            watch.tapStart = tap.recorded();
        }
        // Each status write wakes this reconciler again, and a window's status changes with every request served:
        // test the window at most once per interval, whatever woke us (a changed spec is tested at once).
        var tested = monitor.status().field("windowTestedAt").filter(n -> n.isTextual()).map(n -> java.time.Instant.parse(n.asText()));
        if (tested.isPresent() && monitor.status().observedGeneration() == monitor.metadata().generation()) {
            var next = tested.get().plus(spec.interval());
            if (now.isBefore(next)) return Result.requeueAfter(Duration.between(now, next));
        }
        status = status.withField("windowTestedAt", JsonNodeFactory.instance.textNode(now.toString()));
        var names = spec.reference().features().stream().map(ModelMonitorSpec.Feature::name).toList();
        var warnings = new ArrayList<String>();
        if (spec.retrain().isPresent() && retraining == null) warnings.add("spec.actions: this server has no artifact store to export windows to; drift is reported only");
        // the reference
        try {
            if (!loadReference(key, spec, watch, names)) {
                long have = watch.tap.recorded() - watch.tapStart;
                return write(monitor, status.withPhase("Collecting")
                        .withField("reference", JsonNodeFactory.instance.objectNode().put("source", "requests")
                                .put("rows", spec.reference().fromRequests()).put("collected", Math.min(have, spec.reference().fromRequests())))
                        .withCondition("Ready", false, "CollectingReference", "the reference is the first " + spec.reference().fromRequests()
                                + " rows served; waiting for them", now), Result.requeueAfter(spec.interval()));
            }
        } catch (InvalidSpecException e) {
            watch.reference = null;
            watch.referenceId = "";
            return write(monitor, status.withPhase("Failed").withCondition("Ready", false, "ReferenceInvalid", e.getMessage(), now),
                    Result.requeueAfter(spec.interval()));
        }
        // the window
        var exchanges = watch.tap.since(watch.tapStart);
        if (spec.window().duration().isPresent()) {
            long from = now.toEpochMilli() - spec.window().duration().get().toMillis();
            exchanges = exchanges.stream().filter(e -> e.epochMillis() >= from).toList();
        }
        int maxRows = spec.window().rows() > 0 ? spec.window().rows() : Integer.MAX_VALUE;
        var window = PayloadRows.of(exchanges, names.size(), maxRows);
        if (window.skipped > 0) {
            warnings.add(window.skipped + " requests in the window were left out: their first input is not numeric with "
                    + names.size() + " columns (spec.reference.features)");
        }
        status = status.withField("samples", JsonNodeFactory.instance.numberNode(window.inputs.size()))
                .withField("reference", JsonNodeFactory.instance.objectNode()
                        .put("source", spec.reference().uri().map(URI::toString).orElse("requests"))
                        .put("rows", watch.reference[0].length))
                .withField("warnings", strings(warnings));
        if (window.inputs.size() < spec.window().minRows()) {
            return write(monitor, status.withPhase("Collecting").withCondition("Ready", false, "CollectingWindow",
                    window.inputs.size() + " rows in the window; tests run from " + spec.window().minRows() + " (spec.window.minRows)", now),
                    Result.requeueAfter(spec.interval()));
        }
        var revision = window.mainRevision();
        var features = JsonNodeFactory.instance.arrayNode();
        int drifted = 0;
        var seen = new java.util.HashSet<List<String>>();
        for (int f = 0; f < names.size(); f++) {
            var feature = spec.reference().features().get(f);
            var current = window.column(f);
            var s = run(spec, feature, watch.reference[f], current);
            if (s.drifted()) drifted++;
            features.add(json(feature.name(), s));
            gauge(key, watch, seen, revision, feature.name(), s);
        }
        double share = drifted / (double) names.size();
        boolean datasetDrift = share >= spec.driftShare();
        status = status.withField("features", features)
                .withField("driftedFeatures", JsonNodeFactory.instance.numberNode(drifted))
                .withField("driftShare", JsonNodeFactory.instance.numberNode(share))
                .withField("drifted", JsonNodeFactory.instance.booleanNode(datasetDrift))
                .withField("revision", JsonNodeFactory.instance.textNode(revision))
                .withField("lastRequest", JsonNodeFactory.instance.numberNode(window.lastSequence));
        if (spec.predictions()) status = predictions(key, spec, watch, window, revision, status, seen, warnings);
        if (spec.multivariate()) status = status.withField("multivariate", mmd(watch.reference, window));
        retire(watch, seen);
        watch.detected.set(datasetDrift ? 1.0 : 0.0);
        window(key, watch, datasetDrift ? "drifted" : "clean").increment();
        watch.share.set(share);
        if (spec.retrain().isPresent() && retraining != null) {
            try {
                status = status.withField("retraining", retraining.step(key, spec.inferenceService(), spec.retrain().get(), names, window,
                        spec.window().rows(), datasetDrift, monitor.status().field("retraining").orElse(null), now));
            } catch (RuntimeException e) {
                warnings.add("spec.actions[0].retrain: " + e.getMessage());
            }
        }
        status = status.withField("warnings", strings(warnings)).withPhase(datasetDrift ? "Drifted" : "NoDrift")
                .withCondition("Ready", true, "WindowTested", window.inputs.size() + " rows tested", now)
                .withCondition("Drifted", datasetDrift, datasetDrift ? "DriftDetected" : "NoDrift",
                        drifted + " of " + names.size() + " features drifted (threshold share " + spec.driftShare() + ")", now);
        return write(monitor, status, Result.requeueAfter(spec.interval()));
    }

    /** Whether the reference is ready: read from its file, or taken once the first rows were served. */
    private boolean loadReference(ResourceKey key, ModelMonitorSpec spec, Watch watch, List<String> names) {
        if (spec.reference().uri().isPresent()) {
            var id = spec.reference().uri().get() + " " + names;
            if (!id.equals(watch.referenceId)) {
                var dataset = references.open(key.namespace(), spec.reference().uri().get());
                watch.reference = ReferenceData.read(dataset, names);
                watch.referenceId = id;
                watch.referenceWritten.set(dataset.writtenMillis());
                watch.predictionsRevision = "";
            }
            return true;
        }
        var id = "requests " + spec.reference().fromRequests() + " " + names;
        if (id.equals(watch.referenceId)) return true;
        var first = watch.tap.since(watch.tapStart);
        // the first N rows: the shortest run of the oldest requests that holds them (the last may hold a few more)
        int rows = 0;
        int end = 0;
        for (; end < first.size() && rows < spec.reference().fromRequests(); end++) {
            var request = first.get(end).request();
            if (request.inputs().isEmpty() || (request.id() != null && request.id().startsWith(PayloadRows.OWN_REQUEST))) continue;
            rows += Math.max(0, PayloadRows.batch(request.inputs().getFirst(), names.size()));
        }
        if (rows < spec.reference().fromRequests()) return false;
        var head = PayloadRows.of(first.subList(0, end), names.size(), Integer.MAX_VALUE);
        var columns = new double[names.size()][];
        for (int f = 0; f < names.size(); f++) columns[f] = head.column(f);
        watch.reference = columns;
        watch.predictions = new java.util.LinkedHashMap<>();
        for (var e : head.outputs.entrySet()) watch.predictions.put(e.getKey(), e.getValue().stream().mapToDouble(Double::doubleValue).toArray());
        watch.predictionIntegral = Map.copyOf(head.integral);
        watch.predictionsRevision = "*";
        watch.referenceId = id;
        watch.referenceWritten.set((double) clock.millis());
        // the window starts after the reference, so that the two never overlap
        watch.tapStart = head.lastSequence + 1;
        return true;
    }

    private static Statistic run(ModelMonitorSpec spec, ModelMonitorSpec.Feature feature, double[] reference, double[] current) {
        var test = feature.test().or(spec::defaultTest).orElseGet(() -> DriftTest.defaultFor(reference, current, feature.type()));
        return test.run(reference, current, feature.type(), spec.threshold(feature, test));
    }

    /** The drift of the model's outputs: the window's against the model's answers to the reference rows. */
    private ResourceStatus predictions(ResourceKey key, ModelMonitorSpec spec, Watch watch, PayloadRows window, String revision,
                                       ResourceStatus status, java.util.Set<List<String>> seen, List<String> warnings) {
        if (!watch.predictionsRevision.equals("*") && !watch.predictionsRevision.equals(revision)) {
            try {
                referencePredictions(key, spec, watch, revision);
            } catch (RuntimeException e) {
                warnings.add("prediction drift is not tested: the model did not answer the reference rows: " + e.getMessage());
                return status;
            }
        }
        var out = JsonNodeFactory.instance.arrayNode();
        boolean any = false;
        for (var e : window.outputs.entrySet()) {
            var reference = watch.predictions.get(e.getKey());
            if (reference == null || reference.length < 2) continue;
            var current = e.getValue().stream().mapToDouble(Double::doubleValue).toArray();
            var type = Boolean.TRUE.equals(window.integral.get(e.getKey())) ? FeatureType.CATEGORICAL : FeatureType.NUMERIC;
            var feature = new ModelMonitorSpec.Feature(e.getKey(), type, Optional.empty(), java.util.OptionalDouble.empty());
            var s = run(spec, feature, reference, current);
            any |= s.drifted();
            out.add(json(e.getKey(), s));
            gauge(key, watch, seen, revision, "prediction:" + e.getKey(), s);
        }
        return status.withField("predictions", out).withField("predictionDrifted", JsonNodeFactory.instance.booleanNode(any));
    }

    /** Asks the model for its answers to the reference rows, under a request id the window leaves out. */
    private void referencePredictions(ResourceKey key, ModelMonitorSpec spec, Watch watch, String revision) {
        var endpoint = serving.endpoint();
        var metadata = endpoint.modelMetadata(key.namespace(), spec.inferenceService(), revision);
        if (metadata.inputs().isEmpty()) throw new IllegalStateException("the model declares no inputs");
        var input = metadata.inputs().getFirst();
        int rows = watch.reference[0].length;
        int width = watch.reference.length;
        var shape = new long[] {rows, width};
        Tensor tensor;
        if (input.datatype() == DataType.FP64) {
            var data = new double[rows * width];
            for (int r = 0; r < rows; r++) for (int c = 0; c < width; c++) data[r * width + c] = watch.reference[c][r];
            tensor = Tensor.ofDoubles(input.name(), shape, data);
        } else {
            var data = new float[rows * width];
            for (int r = 0; r < rows; r++) for (int c = 0; c < width; c++) data[r * width + c] = (float) watch.reference[c][r];
            tensor = Tensor.ofFloats(input.name(), shape, data);
        }
        var request = new InferenceRequest(PayloadRows.OWN_REQUEST + key.name(), Map.of(), List.of(tensor), List.of());
        var response = endpoint.infer(key.namespace(), spec.inferenceService(), revision, request);
        var rowsOut = new PayloadRows();
        for (var t : response.outputs()) rowsOut.addOutput(t, rows, 0);
        var predictions = new java.util.LinkedHashMap<String, double[]>();
        for (var e : rowsOut.outputs.entrySet()) predictions.put(e.getKey(), e.getValue().stream().mapToDouble(Double::doubleValue).toArray());
        watch.predictions = predictions;
        watch.predictionIntegral = Map.copyOf(rowsOut.integral);
        watch.predictionsRevision = revision;
    }

    private static ObjectNode mmd(double[][] reference, PayloadRows window) {
        var random = new SplittableRandom(42);
        int width = reference.length;
        int refRows = reference[0].length;
        var x = new double[Math.min(MMD_ROWS, refRows)][];
        for (int i = 0; i < x.length; i++) {
            int r = refRows <= MMD_ROWS ? i : random.nextInt(refRows);
            x[i] = new double[width];
            for (int c = 0; c < width; c++) x[i][c] = reference[c][r];
        }
        int from = Math.max(0, window.inputs.size() - MMD_ROWS);
        var y = window.inputs.subList(from, window.inputs.size()).toArray(double[][]::new);
        var r = MaximumMeanDiscrepancy.test(x, y, MMD_PERMUTATIONS, random);
        return JsonNodeFactory.instance.objectNode().put("test", "mmd").put("statistic", r.statistic()).put("pValue", r.pValue())
                .put("threshold", 0.05).put("drifted", r.pValue() < 0.05).put("permutations", r.permutations());
    }

    private static ObjectNode json(String name, Statistic s) {
        var node = JsonNodeFactory.instance.objectNode().put("name", name).put("test", s.test().wireName()).put("statistic", finite(s.statistic()));
        if (s.pValue().isPresent()) node.put("pValue", s.pValue().getAsDouble());
        return node.put("threshold", s.threshold()).put("drifted", s.drifted());
    }

    private static double finite(double v) {
        return Double.isFinite(v) ? v : Double.MAX_VALUE;
    }

    /** The counter of tested windows with {@code outcome}, the drift-rate SLI's events. */
    private io.micrometer.core.instrument.Counter window(ResourceKey key, Watch watch, String outcome) {
        var counter = io.micrometer.core.instrument.Counter.builder("capstan.drift.windows")
                .description("Windows a monitor tested, by whether they drifted (dataset level)")
                .tags("namespace", key.namespace(), "isvc", watch.isvc, "monitor", key.name(), "outcome", outcome).register(meters);
        if (!watch.meters.contains(counter)) watch.meters.add(counter);
        return counter;
    }

    private void registerDetected(ResourceKey key, ModelMonitorSpec spec, Watch watch) {
        var tags = Tags.of("namespace", key.namespace(), "isvc", spec.inferenceService(), "monitor", key.name());
        watch.meters.add(Gauge.builder("capstan.drift.detected", watch.detected, AtomicReference::get)
                .description("1 while the monitor's latest window drifted (dataset level), else 0").tags(tags).register(meters));
        watch.meters.add(Gauge.builder("capstan.drift.share", watch.share, AtomicReference::get)
                .description("Share of the monitor's features that drifted in its latest window").tags(tags).register(meters));
        watch.meters.add(Gauge.builder("capstan.reference.age.seconds", watch.referenceWritten, w -> (clock.millis() - w.get()) / 1000.0)
                .description("Data freshness: seconds since the monitor's reference data was written (file modification time, or when taken from requests)")
                .tags(Tags.of("namespace", key.namespace(), "monitor", key.name())).register(meters));
    }

    private void gauge(ResourceKey key, Watch watch, java.util.Set<List<String>> seen, String revision, String feature, Statistic s) {
        var id = List.of(revision, feature, s.test().wireName());
        seen.add(id);
        var holder = watch.statistics.computeIfAbsent(id, k -> {
            var value = new AtomicReference<>(0.0);
            watch.meters.add(Gauge.builder("capstan.drift.statistic", value, AtomicReference::get)
                    .description("The latest drift statistic or distance of a feature (or prediction:output) of a monitored InferenceService")
                    .tags("namespace", key.namespace(), "isvc", watch.isvc, "revision", revision, "feature", feature, "test", s.test().wireName())
                    .register(meters));
            return value;
        });
        holder.set(finite(s.statistic()));
    }

    /** Removes the gauges of features or revisions the latest window no longer has. */
    private void retire(Watch watch, java.util.Set<List<String>> seen) {
        for (var id : List.copyOf(watch.statistics.keySet())) {
            if (seen.contains(id)) continue;
            watch.statistics.remove(id);
            watch.meters.removeIf(m -> {
                var t = m.getId();
                boolean match = t.getName().equals("capstan.drift.statistic") && id.get(0).equals(t.getTag("revision"))
                        && id.get(1).equals(t.getTag("feature")) && id.get(2).equals(t.getTag("test"));
                if (match) meters.remove(m);
                return match;
            });
        }
    }

    private void forget(ResourceKey key) {
        var watch = watches.remove(key);
        if (watch == null) return;
        watch.meters.forEach(meters::remove);
        boolean shared = watches.entrySet().stream()
                .anyMatch(e -> e.getKey().namespace().equals(key.namespace()) && Objects.equals(e.getValue().isvc, watch.isvc));
        if (!shared && watch.isvc != null) serving.removePayloadTap(key.namespace(), watch.isvc);
    }

    private static ArrayNode strings(List<String> values) {
        var out = JsonNodeFactory.instance.arrayNode();
        values.forEach(out::add);
        return out;
    }

    private static String describe(Problems problems) {
        return problems.errors().stream().map(Object::toString).reduce((a, b) -> a + "; " + b).orElse("");
    }

    private Result write(Resource monitor, ResourceStatus status, Result result) {
        if (!Objects.equals(status, monitor.status())) store.updateStatus(monitor.key(), "", status);
        return result;
    }

    /** For tests: how long until the next look. */
    static Duration interval(ModelMonitorSpec spec) {
        return spec.interval();
    }
}
