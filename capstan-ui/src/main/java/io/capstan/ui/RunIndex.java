package io.capstan.ui;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.store.LabelSelector;
import io.capstan.store.ListQuery;
import io.capstan.store.ResourceStore;
import io.capstan.store.WatchEvent;
import io.capstan.store.WatchQuery;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

/**
 * A summary of every PipelineRun in memory, kept current from the store's change feed, so that the run list can
 * filter and sort by parameters and metrics over thousands of runs without reading them. Metrics are the numbers in
 * the metadata of the run's {@code system.Metrics} output artifacts.
 */
final class RunIndex implements AutoCloseable {
    static final String KIND = "PipelineRun";
    static final String LABEL_EXPERIMENT_ID = "pipelines.capstan.io/experiment-id";
    static final String LABEL_RETRY_OF = "pipelines.capstan.io/retry-of";
    static final String ANNOTATION_DISPLAY_NAME = "pipelines.capstan.io/display-name";
    private static final System.Logger LOG = System.getLogger(RunIndex.class.getName());

    record Run(String namespace, String name, String uid, String displayName, String phase, String experiment,
               Instant created, String finished, Map<String, String> parameters, Map<String, Double> metrics, boolean isAttempt) {
        ResourceKey key() {
            return new ResourceKey(KIND, namespace, name);
        }
    }

    private final ResourceStore store;
    private final Map<ResourceKey, Run> runs = new ConcurrentHashMap<>();
    private final CountDownLatch loaded = new CountDownLatch(1);
    private final java.util.concurrent.atomic.AtomicBoolean started = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile boolean closed;
    private volatile Thread follower;

    private final java.util.function.Consumer<io.capstan.core.Resource> onCreated;

    RunIndex(ResourceStore store) {
        this(store, run -> { });
    }

    /** @param onCreated told of each run created after the first load, on the index's thread: it must return quickly */
    RunIndex(ResourceStore store, java.util.function.Consumer<io.capstan.core.Resource> onCreated) {
        this.store = store;
        this.onCreated = onCreated;
    }

    /** Loads every run, then follows the change feed on a virtual thread until {@link #close}; at most once. */
    RunIndex start() {
        if (started.compareAndSet(false, true) && !closed) follower = Thread.ofVirtual().name("ui-run-index").start(this::follow);
        return this;
    }

    private void follow() {
        long version = 0;
        while (!closed) {
            try {
                if (loaded.getCount() > 0) {
                    version = store.currentVersion();
                    loadAll();
                    loaded.countDown();
                }
                var events = store.changes(WatchQuery.ofKind(KIND), version, 500, Duration.ofSeconds(1));
                for (var e : events) {
                    version = e.resourceVersion();
                    if (e.type() == WatchEvent.Type.DELETED) runs.remove(e.resource().key());
                    else runs.put(e.resource().key(), summary(e.resource()));
                    if (e.type() == WatchEvent.Type.ADDED) onCreated.accept(e.resource());
                }
            } catch (RuntimeException e) {
                if (closed) return;
                // While the server starts, the store's tables may not exist yet: quiet until the first load succeeded.
                LOG.log(loaded.getCount() > 0 ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING,
                        "the UI's run index could not read the store; trying again", e);
                java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofSeconds(1).toNanos());
            }
        }
    }

    private void loadAll() {
        Optional<String> token = Optional.empty();
        do {
            var page = store.list(new ListQuery(KIND, Optional.empty(), LabelSelector.EVERYTHING, ListQuery.MAX_LIMIT, token));
            page.items().forEach(r -> runs.put(r.key(), summary(r)));
            token = page.continueToken();
        } while (token.isPresent());
    }

    /** Every run, once the first load finished (waiting for it up to {@code wait}). */
    Collection<Run> all(Duration wait) {
        start();
        try {
            if (!loaded.await(wait.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                throw new io.capstan.core.TransientException("the run list is still loading; reload the page in a moment");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while loading the run list", e);
        }
        return runs.values();
    }

    /** Reads a run into the index now, for a page that must show a run created a moment ago. */
    Optional<Run> refresh(ResourceKey key) {
        var found = store.find(key).map(RunIndex::summary);
        found.ifPresentOrElse(r -> runs.put(key, r), () -> runs.remove(key));
        return found;
    }

    /** The runs named {@code name}, in any namespace. */
    List<Run> named(String name) {
        all(Duration.ofSeconds(10));
        var out = new ArrayList<Run>();
        for (var r : runs.values()) if (r.name().equals(name)) out.add(r);
        return out;
    }

    /** Every metric name and parameter name in {@code runs}, sorted. */
    static List<String> metricNames(Collection<Run> runs) {
        var names = new TreeSet<String>();
        runs.forEach(r -> names.addAll(r.metrics().keySet()));
        return List.copyOf(names);
    }

    static Run summary(Resource r) {
        var spec = r.spec();
        var params = new LinkedHashMap<String, String>();
        spec.path("parameters").fields().forEachRemaining(e -> params.put(e.getKey(), text(e.getValue())));
        var metrics = new LinkedHashMap<String, Double>();
        r.status().field("tasks").ifPresent(tasks -> tasks.fields().forEachRemaining(t -> collectMetrics(t.getValue(), metrics)));
        var labels = r.metadata().labels();
        var experiment = spec.path("experiment").asText("");
        if (experiment.isEmpty()) experiment = labels.getOrDefault(LABEL_EXPERIMENT_ID, "");
        var display = r.metadata().annotations().getOrDefault(ANNOTATION_DISPLAY_NAME, "");
        var created = r.metadata().created().orElse(Instant.EPOCH);
        var finished = r.status().field("completionTime").map(JsonNode::asText).orElse("");
        var phase = r.status().phase().isEmpty() ? "Pending" : r.status().phase();
        return new Run(r.metadata().namespace(), r.metadata().name(), r.metadata().uid(), display, phase, experiment, created,
                finished, params, metrics, labels.containsKey(LABEL_RETRY_OF));
    }

    private static void collectMetrics(JsonNode task, Map<String, Double> metrics) {
        for (var list : task.path("outputs").path("artifacts")) {
            for (var artifact : list) {
                var type = artifact.path("type").isObject() ? artifact.path("type").path("schemaTitle").asText("") : artifact.path("type").asText("");
                if (!type.equals("system.Metrics")) continue;
                artifact.path("metadata").fields().forEachRemaining(m -> {
                    if (m.getValue().isNumber()) metrics.put(m.getKey(), m.getValue().asDouble());
                });
            }
        }
    }

    static String text(JsonNode v) {
        return v.isTextual() ? v.asText() : v.toString();
    }

    @Override
    public void close() {
        closed = true;
        var t = follower;
        if (t != null) t.interrupt();
    }
}
