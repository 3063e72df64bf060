package io.capstan.serving.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/** The meters of one revision, tagged with namespace, model and revision; removed when it retires. */
final class RevisionMetrics {
    private final MeterRegistry registry;
    private final Tags tags;
    private final Timer latency;
    private final DistributionSummary batchSizes;
    private final Timer coldStarts;
    private final Map<String, Counter> requests = new ConcurrentHashMap<>();
    private final Counter successes;
    private final List<Meter> meters = new ArrayList<>();

    RevisionMetrics(MeterRegistry registry, String namespace, String model, int revision, Supplier<Number> replicas) {
        this.registry = registry;
        this.tags = Tags.of("namespace", namespace, "model", model, "revision", String.valueOf(revision));
        this.latency = register(Timer.builder("capstan.serving.request.duration").description("inference latency")
                .tags(tags).publishPercentileHistogram().maximumExpectedValue(Duration.ofSeconds(30)).register(registry));
        this.batchSizes = register(DistributionSummary.builder("capstan.serving.batch.size").description("rows per model call")
                .tags(tags).register(registry));
        this.coldStarts = register(Timer.builder("capstan.serving.cold.start").description("time to activate a revision scaled to zero")
                .tags(tags).register(registry));
        this.successes = counter("success");
        register(Gauge.builder("capstan.serving.replicas", replicas).description("loaded model instances").tags(tags).register(registry));
    }

    private <M extends Meter> M register(M meter) {
        synchronized (meters) {
            meters.add(meter);
        }
        return meter;
    }

    private Counter counter(String outcome) {
        return requests.computeIfAbsent(outcome, o -> register(Counter.builder("capstan.serving.requests")
                .description("inference requests").tags(tags).tag("outcome", o).register(registry)));
    }

    void request(String outcome, long nanos) {
        ("success".equals(outcome) ? successes : counter(outcome)).increment();
        latency.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    void batch(int rows) {
        batchSizes.record(rows);
    }

    void coldStart(long nanos) {
        coldStarts.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    void remove() {
        synchronized (meters) {
            meters.forEach(registry::remove);
        }
    }
}
