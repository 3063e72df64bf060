package io.capstan.serving.internal;

import io.capstan.serving.api.InferenceEndpoint;
import io.capstan.serving.api.InferenceRequest;
import io.capstan.serving.api.InferenceResponse;
import io.capstan.serving.api.ModelMetadata;
import io.capstan.serving.api.ModelNotFoundException;
import io.capstan.serving.api.ServerMetadata;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The in-process {@link InferenceEndpoint}: every served model by namespace and name, and the
 * autoscaler that adjusts their revisions' replicas once per {@code autoscaleInterval}.
 */
public final class ModelServer implements InferenceEndpoint, AutoCloseable {
    public static final String SERVER_NAME = "capstan";
    public static final String SERVER_VERSION = "0.1.0";

    private final Map<String, ServedModel> models = new ConcurrentHashMap<>();
    /** The same models by namespace, then name: the request path looks them up without building a key. */
    private final Map<String, Map<String, ServedModel>> byNamespace = new ConcurrentHashMap<>();
    private final ScheduledExecutorService autoscaler;
    /** Payload taps by namespace/name, kept apart from the models so that a tap outlives a model removed and served again. */
    private final Map<String, io.capstan.serving.api.PayloadTap> taps = new ConcurrentHashMap<>();

    public ModelServer(Duration autoscaleInterval) {
        this.autoscaler = Executors.newSingleThreadScheduledExecutor(r -> {
            var thread = new Thread(r, "capstan-serving-autoscaler");
            thread.setDaemon(true);
            return thread;
        });
        long millis = Math.max(10, autoscaleInterval.toMillis());
        autoscaler.scheduleWithFixedDelay(this::autoscale, millis, millis, TimeUnit.MILLISECONDS);
    }

    private static String key(String namespace, String name) {
        return namespace + "/" + name;
    }

    /** The served model, created (not ready, no route) if it does not exist yet. */
    public ServedModel register(String namespace, String name) {
        return models.computeIfAbsent(key(namespace, name), k -> {
            var model = new ServedModel(namespace, name);
            model.tap(taps.get(k));
            byNamespace.computeIfAbsent(namespace, n -> new ConcurrentHashMap<>()).put(name, model);
            return model;
        });
    }

    /**
     * The payload tap of a model, made with {@code capacity} (or replaced by a larger one) if needed; it records
     * from now on, also across the model being removed and served again, until {@link #untap}.
     */
    public io.capstan.serving.api.PayloadTap tap(String namespace, String name, int capacity, java.time.Clock clock) {
        var key = key(namespace, name);
        var tap = taps.compute(key, (k, old) -> old != null && old.capacity() >= capacity ? old
                : new io.capstan.serving.api.PayloadTap(capacity, clock));
        var model = models.get(key);
        if (model != null) model.tap(tap);
        return tap;
    }

    /** Stops recording a model's payloads. */
    public void untap(String namespace, String name) {
        var key = key(namespace, name);
        taps.remove(key);
        var model = models.get(key);
        if (model != null) model.tap(null);
    }

    public Optional<ServedModel> find(String namespace, String name) {
        return Optional.ofNullable(models.get(key(namespace, name)));
    }

    /** Stops serving a model and retires its revisions. */
    public void remove(String namespace, String name) {
        var removed = models.remove(key(namespace, name));
        if (removed == null) return;
        var names = byNamespace.get(namespace);
        if (names != null) names.remove(name, removed);
        var route = removed.route();
        removed.route(Route.NONE);
        route.targets().forEach(t -> t.revision().close());
        if (route.shadow() != null) route.shadow().close();
    }

    public List<ServedModel> all() {
        return new ArrayList<>(models.values());
    }

    private ServedModel get(String namespace, String name) {
        var names = namespace == null ? null : byNamespace.get(namespace);
        var model = names == null ? null : names.get(name == null ? "" : name);
        if (model == null) {
            throw new ModelNotFoundException("no model '" + OipSafe.printable(String.valueOf(name)) + "' in namespace '"
                    + OipSafe.printable(String.valueOf(namespace)) + "'");
        }
        return model;
    }

    @Override
    public boolean serverLive() {
        return true;
    }

    @Override
    public boolean serverReady() {
        return !autoscaler.isShutdown();
    }

    @Override
    public ServerMetadata serverMetadata() {
        return new ServerMetadata(SERVER_NAME, SERVER_VERSION, List.of("capstan_v1"));
    }

    @Override
    public boolean modelReady(String namespace, String name, String version) {
        var model = get(namespace, name);
        if (version == null || version.isEmpty()) return model.ready();
        return model.revision(version).ready();
    }

    @Override
    public List<String> modelNames(String namespace) {
        var names = byNamespace.get(namespace);
        return names == null ? List.of() : names.keySet().stream().sorted().toList();
    }

    @Override
    public int maxRequestBytes(String namespace, String name, int fallback) {
        int own = get(namespace, name).maxRequestBytes();
        return own > 0 ? own : fallback;
    }

    @Override
    public boolean allowsAnonymous(String namespace, String name) {
        var names = namespace == null ? null : byNamespace.get(namespace);
        var model = names == null || name == null ? null : names.get(name);
        return model != null && model.allowsAnonymous();
    }

    @Override
    public ModelMetadata modelMetadata(String namespace, String name, String version) {
        var model = get(namespace, name);
        var revision = model.revision(version);
        var versions = model.revisions().stream().map(Revision::version).toList();
        return new ModelMetadata(name, versions, revision.platform(), revision.inputs(), revision.outputs(), Map.of());
    }

    @Override
    public InferenceResponse infer(String namespace, String name, String version, InferenceRequest request) {
        return get(namespace, name).infer(version, request);
    }

    private void autoscale() {
        for (var model : models.values()) {
            var route = model.route();
            var seen = new java.util.HashSet<Revision>(); // a canary's baseline cohort is the stable revision again
            for (var target : route.targets()) {
                if (!seen.add(target.revision())) continue;
                try {
                    target.revision().autoscale();
                } catch (RuntimeException e) {
                    System.getLogger(ModelServer.class.getName()).log(System.Logger.Level.WARNING,
                            "autoscaling " + target.revision() + " failed", e);
                }
            }
            if (route.shadow() != null) route.shadow().autoscale();
        }
    }

    @Override
    public void close() {
        autoscaler.shutdownNow();
        for (var model : all()) remove(model.namespace(), model.name());
    }
}
