package io.capstan.serving.internal;

import io.capstan.serving.api.InferenceException;
import io.capstan.serving.api.InferenceRequest;
import io.capstan.serving.api.InferenceResponse;
import io.capstan.serving.api.ModelFailedException;
import io.capstan.serving.api.ModelNotReadyException;
import io.capstan.serving.api.Tensor;
import io.capstan.serving.api.TensorMetadata;
import io.capstan.serving.runtime.LoadedModel;
import io.capstan.serving.runtime.ModelLoadException;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One immutable revision of an InferenceService: its model loaded into replicas (instances), admission
 * by deadline ({@link Admission}), an optional batcher and its meters. Replicas scale between
 * minReplicas and maxReplicas on {@link #autoscale}; with minReplicas 0 an idle revision unloads
 * and the next request waits for it to load again (activation), rather than failing.
 */
public final class Revision implements AutoCloseable {

    /** Loads one more instance of the revision's model. */
    @FunctionalInterface
    public interface Loader {
        LoadedModel load() throws ModelLoadException;
    }

    private final String namespace;
    private final String modelName;
    private final int number;
    private final Loader loader;
    private final RevisionSettings settings;
    private final Clock clock;
    private final RevisionMetrics metrics;
    private final Admission admission;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger peakInFlight = new AtomicInteger();
    private final AtomicLong requestsSinceTick = new AtomicLong();
    private final AtomicInteger roundRobin = new AtomicInteger();
    private final Object scaling = new Object();
    private final Batcher batcher;
    private volatile List<ModelReplica> instances = List.of();
    private volatile boolean scalingUp;
    private volatile Instant lastRequest;
    private volatile Instant lastTick;
    private volatile boolean closed;
    private volatile String platform = "";
    private volatile List<TensorMetadata> inputs = List.of();
    private volatile List<TensorMetadata> outputs = List.of();
    private volatile boolean batchable;
    private volatile long lastColdStartNanos = -1;
    private final List<AutoCloseable> companions = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final ReplicaQuota quota;
    /** Each live replica's holder in the quota ledger; a replica's share is given back when it is retired. */
    private final Map<ModelReplica, String> holders = new java.util.concurrent.ConcurrentHashMap<>();
    private final AtomicLong holderSequence = new AtomicLong();
    /** Why the last scale-up stopped short for quota, until a scale-up gets all it wanted. */
    private volatile Optional<String> quotaWait = Optional.empty();

    public Revision(String namespace, String modelName, int number, Loader loader, RevisionSettings settings,
                    MeterRegistry meters, Clock clock) {
        this(namespace, modelName, number, loader, settings, meters, clock,
                new ReplicaQuota(new io.capstan.core.quota.QuotaLedger(), namespace, io.capstan.core.quota.QuotaUsage.ZERO));
    }

    /** As the other constructor, with each replica charged to {@code quota}. */
    Revision(String namespace, String modelName, int number, Loader loader, RevisionSettings settings,
             MeterRegistry meters, Clock clock, ReplicaQuota quota) {
        this.quota = quota;
        this.namespace = namespace;
        this.modelName = modelName;
        this.number = number;
        this.loader = loader;
        this.settings = settings;
        this.clock = clock;
        this.metrics = new RevisionMetrics(meters, namespace, modelName, number, () -> instances.size());
        this.admission = new Admission(modelName, settings.capacity(), settings.queueLimit(), settings.timeout());
        this.lastRequest = clock.instant();
        this.lastTick = lastRequest;
        this.batcher = settings.batching()
                ? new Batcher(settings.maxBatchSize(), settings.maxBatchLatency(), settings.timeout(), this::runOnReplica,
                        metrics::batch)
                : null;
    }

    /** Loads the first replicas (at least one, so that a model that cannot load fails now, not on first use). */
    public void start() throws ModelLoadException {
        var first = new ArrayList<ModelReplica>();
        String holder = null;
        try {
            int count = Math.max(1, settings.minReplicas());
            for (int i = 0; i < count; i++) {
                holder = nextHolder();
                var refused = quota.take(holder);
                if (refused.isPresent()) {
                    holder = null;
                    // Serves with what fits; the autoscaler asks for the rest at each tick.
                    if (first.isEmpty()) throw new ReplicaQuota.Exceeded(refused.get());
                    quotaWait = refused;
                    break;
                }
                var model = loader.load();
                if (first.isEmpty()) describe(model);
                var replica = newReplica(model);
                holders.put(replica, holder);
                holder = null;
                first.add(replica);
            }
        } catch (ModelLoadException | RuntimeException e) {
            if (holder != null) quota.release(holder);
            first.forEach(this::retire);
            if (e instanceof ReplicaQuota.Exceeded x) throw x;
            throw e instanceof ModelLoadException m ? m : new ModelLoadException("loading failed: " + e, e);
        }
        instances = List.copyOf(first);
    }

    /** Why this revision has fewer replicas than it wants because its namespace's quota is full, if it has. */
    public Optional<String> quotaWait() {
        return quotaWait;
    }

    private String nextHolder() {
        return "replica:" + namespace + "/" + modelName + "/" + number + "/" + holderSequence.incrementAndGet();
    }

    private void retire(ModelReplica replica) {
        replica.retire();
        var holder = holders.remove(replica);
        if (holder != null) quota.release(holder);
    }

    private void describe(LoadedModel model) {
        platform = model.platform();
        inputs = model.inputs();
        outputs = model.outputs();
        batchable = model.batchable();
    }

    /** Closes {@code companion} (a transformer's predictor and its gateway) when this revision closes, after its replicas. */
    public void closeWith(AutoCloseable companion) {
        companions.add(companion);
    }

    public int number() {
        return number;
    }

    public String version() {
        return String.valueOf(number);
    }

    public String platform() {
        return platform;
    }

    public List<TensorMetadata> inputs() {
        return inputs;
    }

    public List<TensorMetadata> outputs() {
        return outputs;
    }

    public int replicas() {
        return instances.size();
    }

    public boolean ready() {
        return !closed;
    }

    /** Nanoseconds the last activation from zero took, or -1 if there was none. */
    public long lastColdStartNanos() {
        return lastColdStartNanos;
    }

    public InferenceResponse infer(InferenceRequest request) {
        long start = System.nanoTime();
        String outcome = "success";
        // The request's span, where the HTTP layer traces it; a no-op otherwise.
        var span = io.opentelemetry.api.trace.Span.current();
        if (span.isRecording()) span.setAttribute(InferenceSpanAttributes.REVISION, (long) number);
        try {
            long admitted = admit();
            try {
                return answer(request, span, start);
            } finally {
                inFlight.decrementAndGet();
                admission.release(admitted);
            }
        } catch (InferenceException e) {
            outcome = e.error().name().toLowerCase(java.util.Locale.ROOT);
            throw e;
        } catch (RuntimeException e) {
            outcome = "model_failed";
            throw new ModelFailedException("model '" + modelName + "' revision " + number + " failed: " + e, e);
        } finally {
            metrics.request(outcome, System.nanoTime() - start);
        }
    }

    private long admit() {
        if (closed) throw new ModelNotReadyException("revision " + number + " of model '" + modelName + "' is retired");
        lastRequest = clock.instant();
        requestsSinceTick.incrementAndGet();
        long admitted = admission.acquire();
        int now = inFlight.incrementAndGet();
        peakInFlight.accumulateAndGet(now, Math::max);
        return admitted;
    }

    private InferenceResponse answer(InferenceRequest request, io.opentelemetry.api.trace.Span span, long arrivedNanos) {
        var model = anyModelForChecks();
        var checked = InputChecks.inputs(request, model);
        var outputNames = InputChecks.outputs(request, model);
        List<Tensor> results;
        if (batcher != null && batchable) {
            results = batcher.submit(checked, outputNames, span, arrivedNanos);
        } else {
            if (span.isRecording()) InferenceSpanAttributes.ranIn(span, checked.getFirst().shape()[0], 1, arrivedNanos, System.nanoTime());
            results = runOnReplica(checked, outputNames, request.parameters());
        }
        if (!outputNames.isEmpty()) {
            results = results.stream().filter(t -> outputNames.contains(t.name())).toList();
        }
        return new InferenceResponse(modelName, version(), request.id(), Map.of(), results);
    }

    /** A model to check requests against; activates the revision when scaled to zero. */
    private LoadedModel anyModelForChecks() {
        var current = instances;
        if (current.isEmpty()) current = activate();
        return current.getFirst().model();
    }

    private List<Tensor> runOnReplica(List<Tensor> inputs, Set<String> outputNames) {
        return runOnReplica(inputs, outputNames, Map.of());
    }

    private List<Tensor> runOnReplica(List<Tensor> inputs, Set<String> outputNames, Map<String, Object> parameters) {
        for (int attempt = 0; attempt < 100; attempt++) {
            var current = instances;
            if (current.isEmpty()) current = activate();
            var instance = current.get(Math.floorMod(roundRobin.getAndIncrement(), current.size()));
            if (!instance.tryAcquire()) continue; // retired and closed by a scale-down just now: pick again
            try {
                return instance.call(model -> model.predict(inputs, outputNames, parameters));
            } finally {
                instance.release();
            }
        }
        throw new ModelNotReadyException("model '" + modelName + "' revision " + number + " has no live replica");
    }

    private ModelReplica newReplica(LoadedModel model) {
        return new ModelReplica(model, modelName + "-r" + number, settings.timeout());
    }

    private List<ModelReplica> activate() {
        synchronized (scaling) {
            if (closed) throw new ModelNotReadyException("revision " + number + " of model '" + modelName + "' is retired");
            if (!instances.isEmpty()) return instances;
            long start = System.nanoTime();
            var holder = nextHolder();
            var refused = quota.take(holder);
            if (refused.isPresent()) {
                quotaWait = refused;
                throw new ModelNotReadyException("model '" + modelName + "' could not be activated: waiting for quota: " + refused.get());
            }
            try {
                var model = loader.load();
                describe(model);
                var replica = newReplica(model);
                holders.put(replica, holder);
                instances = List.of(replica);
                quotaWait = Optional.empty();
            } catch (ModelLoadException | RuntimeException e) {
                quota.release(holder);
                throw new ModelNotReadyException("model '" + modelName + "' could not be activated: " + e.getMessage());
            }
            lastColdStartNanos = System.nanoTime() - start;
            metrics.coldStart(lastColdStartNanos);
            return instances;
        }
    }

    /**
     * Adjusts the replica count to the load seen since the last call: concurrency (peak requests in
     * flight) or rps, divided by the per-replica target, between minReplicas and maxReplicas; an
     * idle revision with minReplicas 0 scales to zero.
     */
    public void autoscale() {
        if (closed) return;
        var now = clock.instant();
        double seconds = Math.max(0.001, java.time.Duration.between(lastTick, now).toMillis() / 1000.0);
        lastTick = now;
        long requests = requestsSinceTick.getAndSet(0);
        int peak = peakInFlight.getAndSet(inFlight.get());
        double load = "rps".equals(settings.scaleMetric()) ? requests / seconds : peak;
        int desired = (int) Math.ceil(load / Math.max(1, settings.scaleTarget()));
        desired = Math.max(settings.minReplicas(), Math.min(settings.maxReplicas(), desired));
        boolean idle = inFlight.get() == 0 && requests == 0
                && !lastRequest.plus(settings.idleBeforeScaleToZero()).isAfter(now);
        if (desired == 0 && !idle) desired = Math.min(1, instances.size());
        int current = instances.size();
        if (desired > current && !scalingUp) {
            scaleUpTo(desired);
        } else if (desired < current) {
            scaleDownTo(desired);
        }
    }

    private void scaleUpTo(int desired) {
        scalingUp = true;
        Thread.ofVirtual().name("capstan-scale-" + modelName).start(() -> {
            try {
                while (!closed && instances.size() < desired) {
                    var holder = nextHolder();
                    var refused = quota.take(holder);
                    if (refused.isPresent()) {
                        quotaWait = refused;
                        return;
                    }
                    io.capstan.serving.runtime.LoadedModel model;
                    try {
                        model = loader.load();
                    } catch (ModelLoadException | RuntimeException e) {
                        quota.release(holder);
                        throw e;
                    }
                    synchronized (scaling) {
                        if (closed) {
                            quota.release(holder);
                            model.close();
                            return;
                        }
                        if (instances.isEmpty()) describe(model);
                        var next = new ArrayList<>(instances);
                        var replica = newReplica(model);
                        holders.put(replica, holder);
                        next.add(replica);
                        instances = List.copyOf(next);
                    }
                }
                quotaWait = Optional.empty();
            } catch (ModelLoadException | RuntimeException e) {
                System.getLogger(Revision.class.getName()).log(System.Logger.Level.WARNING,
                        "scaling up model " + namespace + "/" + modelName + " failed: " + e.getMessage());
            } finally {
                scalingUp = false;
            }
        });
    }

    private void scaleDownTo(int desired) {
        List<ModelReplica> removed;
        synchronized (scaling) {
            var current = instances;
            if (desired >= current.size()) return;
            removed = current.subList(desired, current.size());
            instances = List.copyOf(current.subList(0, desired));
        }
        removed.forEach(this::retire);
    }

    @Override
    public void close() {
        List<ModelReplica> removed;
        synchronized (scaling) {
            closed = true;
            removed = instances;
            instances = List.of();
        }
        if (batcher != null) batcher.close();
        removed.forEach(this::retire);
        metrics.remove();
        for (var companion : companions) {
            companions.remove(companion);
            try {
                companion.close();
            } catch (Exception e) {
                System.getLogger(Revision.class.getName()).log(System.Logger.Level.WARNING, "closing " + companion + " of " + this
                        + " failed: " + e.getMessage());
            }
        }
    }

    @Override
    public String toString() {
        return namespace + "/" + modelName + " revision " + number;
    }
}
