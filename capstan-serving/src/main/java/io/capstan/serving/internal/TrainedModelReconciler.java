package io.capstan.serving.internal;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.TextNode;
import io.capstan.core.Problems;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceStatus;
import io.capstan.serving.runtime.ModelLoadException;
import io.capstan.serving.runtime.ModelSource;
import io.capstan.serving.runtime.Runtimes;
import io.capstan.serving.spec.InferenceServiceSpec;
import io.capstan.serving.spec.ServingKinds;
import io.capstan.serving.spec.TrainedModelSpec;
import io.capstan.store.Reconciler;
import io.capstan.store.ResourceStore;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * KServe's multi-model serving: each {@code TrainedModel} loads its model into the InferenceService it names and is
 * served under its own name ({@code /v2/models/{trainedmodel}/infer}, {@code /v1/models/{trainedmodel}:predict}),
 * with the InferenceService's predictor settings (replicas, timeout, concurrency). As in KServe, the
 * InferenceService must be Ready, its predictor must have no storageUri of its own (a multi-model predictor), and
 * the TrainedModel's framework must be the predictor's model format. The status has KServe's conditions:
 * InferenceServiceReady, IsMMSPredictor, FrameworkSupported, MemoryResourceAvailable and Ready. Memory is checked for
 * form, not enforced: models share this process's memory.
 */
public final class TrainedModelReconciler implements Reconciler {
    private static final Duration RECHECK = Duration.ofSeconds(5);

    private final ResourceStore store;
    private final ModelServer server;
    private final ModelStorage storage;
    private final Runtimes runtimes;
    private final MeterRegistry meters;
    private final Clock clock;
    private final Supplier<String> baseUrl;
    private final Map<ResourceKey, Loaded> loaded = new ConcurrentHashMap<>();

    private record Loaded(TrainedModelSpec spec, Revision revision) {
    }

    public TrainedModelReconciler(ResourceStore store, ModelServer server, ModelStorage storage, Runtimes runtimes,
                                  MeterRegistry meters, Clock clock, Supplier<String> baseUrl) {
        this.store = store;
        this.server = server;
        this.storage = storage;
        this.runtimes = runtimes;
        this.meters = meters;
        this.clock = clock;
        this.baseUrl = baseUrl;
    }

    @Override
    public String kind() {
        return ServingKinds.TRAINED_MODEL;
    }

    @Override
    public synchronized Result reconcile(ResourceKey key) {
        var found = store.find(key);
        if (found.isEmpty()) {
            unload(key);
            return Result.done();
        }
        var tm = found.get();
        var problems = new Problems();
        var spec = TrainedModelSpec.parse(tm.spec(), problems);
        var now = clock.instant();
        var status = tm.status().withObservedGeneration(tm.metadata().generation());
        if (spec == null) {
            unload(key);
            return write(tm, status.withPhase("Failed").withCondition("Ready", false, "InvalidSpec",
                    problems.errors().stream().map(Object::toString).reduce((a, b) -> a + "; " + b).orElse(""), now), Result.done());
        }
        var isvcKey = new ResourceKey(ServingKinds.INFERENCE_SERVICE, key.namespace(), spec.inferenceService());
        var isvc = store.find(isvcKey);
        if (isvc.isEmpty() || !"Ready".equals(isvc.get().status().phase())) {
            unload(key);
            var why = isvc.isEmpty() ? "InferenceService '" + spec.inferenceService() + "' does not exist"
                    : "InferenceService '" + spec.inferenceService() + "' is not ready (" + isvc.get().status().phase() + ")";
            status = status.withPhase("Pending")
                    .withCondition("InferenceServiceReady", false, isvc.isEmpty() ? "InferenceServiceNotFound" : "InferenceServiceNotReady", why, now)
                    .withCondition("Ready", false, "InferenceServiceNotReady", why, now);
            return write(tm, status, Result.requeueAfter(RECHECK));
        }
        status = status.withCondition("InferenceServiceReady", true, "InferenceServiceReady", "", now);
        var isvcSpec = InferenceServiceSpec.parse(isvc.get().spec(), new Problems());
        var predictor = isvcSpec == null ? null : isvcSpec.predictor();
        if (predictor == null || predictor.model() == null || predictor.model().storageUri() != null) {
            unload(key);
            var why = "InferenceService '" + spec.inferenceService() + "' is not a multi-model predictor: its predictor must name a "
                    + "model format and no storageUri (it loads TrainedModels instead of a model of its own)";
            return write(tm, status.withPhase("Failed").withCondition("IsMMSPredictor", false, "NotMMSPredictor", why, now)
                    .withCondition("Ready", false, "NotMMSPredictor", why, now), Result.requeueAfter(RECHECK));
        }
        status = status.withCondition("IsMMSPredictor", true, "IsMMSPredictor", "", now);
        var format = predictor.model().format();
        var runtime = runtimes.forFormat(spec.framework(), null);
        if (!format.equals(spec.framework()) || runtime.isEmpty()) {
            unload(key);
            var why = !format.equals(spec.framework())
                    ? "framework " + spec.framework() + " is not the model format of InferenceService '" + spec.inferenceService() + "' (" + format + ")"
                    : "Capstan has no runtime for framework " + spec.framework();
            return write(tm, status.withPhase("Failed").withCondition("FrameworkSupported", false, "FrameworkNotSupported", why, now)
                    .withCondition("Ready", false, "FrameworkNotSupported", why, now), Result.done());
        }
        status = status.withCondition("FrameworkSupported", true, "FrameworkSupported", "", now)
                .withCondition("MemoryResourceAvailable", true, "MemoryNotEnforced",
                        spec.memory() + " requested; models share this server's memory, which is not divided in-process", now);
        var other = server.find(key.namespace(), key.name());
        var current = loaded.get(key);
        if (other.isPresent() && current == null) {
            var why = "the name '" + key.name() + "' is already served in namespace '" + key.namespace() + "' (an InferenceService or "
                    + "another TrainedModel); rename the TrainedModel";
            return write(tm, status.withPhase("Failed").withCondition("Ready", false, "NameInUse", why, now), Result.done());
        }
        if (current == null || !current.spec().equals(spec)) {
            int number = current == null ? 1 : current.revision().number() + 1;
            try {
                var path = storage.fetch(spec.storageUri());
                var source = new ModelSource(key.name(), path, spec.framework(), Map.of());
                var chosen = runtime.get();
                var settings = settings(predictor);
                var revision = new Revision(key.namespace(), key.name(), number, () -> chosen.load(source), settings, meters, clock);
                try {
                    revision.start();
                } catch (ModelLoadException | RuntimeException e) {
                    revision.close();
                    throw e;
                }
                var model = server.register(key.namespace(), key.name());
                model.route(Route.allTo(revision, PayloadLogger.NONE));
                loaded.put(key, new Loaded(spec, revision));
                if (current != null) current.revision().close();
            } catch (ModelLoadException | RuntimeException e) {
                var why = e.getMessage();
                if (current == null) {
                    server.register(key.namespace(), key.name()).notReadyReason(why);
                }
                return write(tm, status.withPhase(current == null ? "Failed" : "Degraded")
                        .withCondition("Ready", current != null, current == null ? "ModelLoadFailed" : "PreviousModelServing", why, now),
                        Result.done());
            }
        }
        var url = InferenceServiceReconciler.trimmed(baseUrl.get()) + "/serving/" + key.namespace() + "/v1/models/" + key.name();
        status = status.withPhase("Ready")
                .withField("url", TextNode.valueOf(url))
                .withField("address", JsonNodeFactory.instance.objectNode().put("url", url))
                .withCondition("Ready", true, "ModelLoaded", "", now);
        // the InferenceService may go away or stop being ready: look again now and then
        return write(tm, status, Result.requeueAfter(Duration.ofSeconds(30)));
    }

    private static RevisionSettings settings(InferenceServiceSpec.PredictorSpec p) {
        var defaults = RevisionSettings.defaults();
        int min = Math.max(1, p.minReplicas().orElse(1));
        int max = p.maxReplicas().filter(m -> m > 0).orElse(min);
        int perReplica = p.containerConcurrency().filter(c -> c > 0).orElse(defaults.concurrencyPerReplica());
        var timeout = p.timeoutSeconds().filter(t -> t > 0).map(Duration::ofSeconds).orElse(defaults.timeout());
        return new RevisionSettings(min, Math.max(min, max), defaults.scaleMetric(), defaults.scaleTarget(), perReplica,
                defaults.queueLimit(), timeout, defaults.idleBeforeScaleToZero(), 0, defaults.maxBatchLatency());
    }

    private void unload(ResourceKey key) {
        var current = loaded.remove(key);
        if (current != null) server.remove(key.namespace(), key.name());
    }

    private Result write(Resource tm, ResourceStatus status, Result result) {
        if (!Objects.equals(status, tm.status())) store.updateStatus(tm.key(), "", status);
        return result;
    }
}
