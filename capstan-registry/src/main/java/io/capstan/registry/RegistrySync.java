package io.capstan.registry;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.capstan.core.Resource;
import io.capstan.store.LabelSelector;
import io.capstan.store.ListQuery;
import io.capstan.store.ResourceStore;
import io.capstan.store.WatchEvent;
import io.capstan.store.WatchQuery;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the registry's InferenceService and ServeModel entities in step with the InferenceService resources that
 * serve registry models, whether deployed through {@code :deploy} or applied by hand with a {@code model-registry://}
 * storageUri: the version a service serves is the one its newest revision resolved ({@code status.modelSource}, or the
 * registry's labels), its ServeModel's lastKnownState follows the service's phase (Ready: RUNNING, Failed: FAILED),
 * and a deleted service is UNDEPLOYED with its ServeModels COMPLETE. Watches the resource store from a thread of its own,
 * looking at every service again each {@link #RESYNC} as well.
 */
final class RegistrySync implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RegistrySync.class);

    private final RegistryStore registry;
    private final ResourceStore resources;
    private volatile boolean closed;
    private Thread thread;

    RegistrySync(RegistryStore registry, ResourceStore resources) {
        this.registry = registry;
        this.resources = resources;
    }

    synchronized RegistrySync start() {
        if (thread != null) return this;
        thread = Thread.ofVirtual().name("registry-sync").start(this::run);
        return this;
    }

    /** How often every InferenceService is looked at again, whatever the change feed said. */
    static final Duration RESYNC = Duration.ofSeconds(5);

    private void run() {
        long after = 0;
        long nextResync = System.nanoTime();
        while (!closed) {
            try {
                if (System.nanoTime() - nextResync >= 0) {
                    after = resources.currentVersion();
                    Optional<String> token = Optional.empty();
                    do {
                        var page = resources.list(new ListQuery(Deployer.KIND, Optional.empty(), LabelSelector.EVERYTHING, ListQuery.MAX_LIMIT, token));
                        page.items().forEach(r -> safely(() -> sync(r, false)));
                        token = page.continueToken();
                    } while (token.isPresent() && !closed);
                    nextResync = System.nanoTime() + RESYNC.toNanos();
                }
                for (var change : resources.changes(WatchQuery.ofKind(Deployer.KIND), after, 100, Duration.ofSeconds(1))) {
                    after = Math.max(after, change.resourceVersion());
                    safely(() -> sync(change.resource(), change.type() == WatchEvent.Type.DELETED));
                }
            } catch (RuntimeException e) {
                if (closed) return;
                LOG.warn("registry sync: cannot read InferenceServices: {}", e.toString());
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException stop) {
                    return;
                }
            }
        }
    }

    private static void safely(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            LOG.warn("registry sync failed: {}", e.toString());
        }
    }

    /** Brings the registry's entities for {@code isvc} in step; public to the package for tests. */
    void sync(Resource isvc, boolean deleted) {
        var ns = isvc.metadata().namespace();
        var name = isvc.metadata().name();
        var uri = isvc.spec().path("predictor").path("model").path("storageUri").asText("");
        var labels = isvc.metadata().labels();
        boolean registryModel = uri.startsWith(ModelUris.SCHEME) || labels.containsKey(Deployer.MODEL_LABEL);
        if (!registryModel) return;
        var env = registry.find(ns, List.of(Kind.SERVING_ENVIRONMENT), ns, null, null, null);
        var existing = env.flatMap(e -> registry.find(ns, List.of(Kind.INFERENCE_SERVICE), name, null, e.id(), null));
        if (deleted) {
            existing.ifPresent(entity -> {
                var body = entity.body().deepCopy().put("desiredState", "UNDEPLOYED");
                registry.update(entity, body);
                for (var sm : registry.children(ns, List.of(Kind.SERVE_MODEL), entity.id())) {
                    if (!"COMPLETE".equals(sm.text("lastKnownState"))) registry.update(sm, sm.body().deepCopy().put("lastKnownState", "COMPLETE"));
                }
            });
            return;
        }
        var source = isvc.status().field("modelSource").orElse(null);
        String modelId = source != null && source.hasNonNull("registeredModelId") ? source.get("registeredModelId").asText() : labels.get(Deployer.MODEL_LABEL);
        String versionId = source != null && source.hasNonNull("modelVersionId") ? source.get("modelVersionId").asText() : labels.get(Deployer.VERSION_LABEL);
        if (modelId == null || versionId == null) return; // not resolved yet: the status write that resolves it comes as a change
        var model = registry.get(ns, Long.parseLong(modelId), List.of(Kind.REGISTERED_MODEL));
        var version = registry.get(ns, Long.parseLong(versionId), List.of(Kind.MODEL_VERSION));
        if (model.isEmpty() || version.isEmpty()) return;
        var environment = env.orElseGet(() -> registry.create(ns, Kind.SERVING_ENVIRONMENT, 0,
                JsonNodeFactory.instance.objectNode().put("name", ns).put("description", "Capstan namespace " + ns)));
        Entity entity;
        if (existing.isPresent()) {
            var body = existing.get().body().deepCopy();
            body.put("registeredModelId", modelId).put("modelVersionId", versionId).put("desiredState", "DEPLOYED");
            entity = body.equals(existing.get().body()) ? existing.get() : registry.update(existing.get(), body);
        } else {
            var body = JsonNodeFactory.instance.objectNode().put("name", name).put("registeredModelId", modelId)
                    .put("servingEnvironmentId", Long.toString(environment.id())).put("modelVersionId", versionId).put("desiredState", "DEPLOYED");
            var format = isvc.spec().path("predictor").path("model").path("modelFormat").path("name").asText("");
            if (!format.isEmpty()) body.put("runtime", format);
            body.putObject("customProperties");
            entity = registry.create(ns, Kind.INFERENCE_SERVICE, environment.id(), body);
        }
        var phase = isvc.status().phase();
        var state = switch (phase) {
            case "Ready" -> "RUNNING";
            case "Failed" -> "FAILED";
            default -> "NEW";
        };
        boolean found = false;
        for (var sm : registry.children(ns, List.of(Kind.SERVE_MODEL), entity.id())) {
            var want = versionId.equals(sm.text("modelVersionId")) ? state : "COMPLETE";
            if (versionId.equals(sm.text("modelVersionId"))) found = true;
            if (!want.equals(sm.text("lastKnownState"))) registry.update(sm, sm.body().deepCopy().put("lastKnownState", want));
        }
        if (!found) {
            var body = JsonNodeFactory.instance.objectNode().put("name", name + "-v" + versionId).put("modelVersionId", versionId)
                   .put("lastKnownState", state);
            body.putObject("customProperties");
            registry.create(ns, Kind.SERVE_MODEL, entity.id(), body);
        }
    }

    @Override
    public void close() {
        closed = true;
        BackgroundThreads.stop(thread);
    }
}
