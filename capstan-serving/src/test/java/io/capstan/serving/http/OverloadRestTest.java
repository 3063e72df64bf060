package io.capstan.serving.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.serving.api.DataType;
import io.capstan.serving.api.Tensor;
import io.capstan.serving.api.TensorMetadata;
import io.capstan.serving.internal.ModelServer;
import io.capstan.serving.internal.PayloadLogger;
import io.capstan.serving.internal.Revision;
import io.capstan.serving.internal.RevisionSettings;
import io.capstan.serving.internal.Route;
import io.capstan.serving.runtime.LoadedModel;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Overload over the real HTTP service: a slow model with a bounded queue gets ten times what it can hold at once,
 * concurrently, from a real HTTP client. The excess is refused with 429 (or 503) quickly, instead of waiting for the
 * queue timeout; the admitted requests succeed; and wave after wave of such load leaves the heap where it was.
 */
class OverloadRestTest {
    static final int DELAY_MILLIS = 40;
    static final int CONCURRENCY = 2;
    static final int QUEUE = 4;
    /** Requests the revision holds at once: running plus waiting. */
    static final int CAPACITY = CONCURRENCY + QUEUE;
    static final int WAVE = 10 * CAPACITY;
    static final int ROWS = 4096;

    /** Doubles FP32 [rows, 2] after a fixed delay; records the most calls it ran at once. */
    static final class SlowModel implements LoadedModel {
        final AtomicInteger running = new AtomicInteger();
        final AtomicInteger peak = new AtomicInteger();

        @Override
        public String platform() {
            return "java";
        }

        @Override
        public List<TensorMetadata> inputs() {
            return List.of(new TensorMetadata("x", DataType.FP32, List.of(-1L, 2L)));
        }

        @Override
        public List<TensorMetadata> outputs() {
            return List.of(new TensorMetadata("y", DataType.FP32, List.of(-1L, 2L)));
        }

        @Override
        public List<Tensor> predict(List<Tensor> inputs, Set<String> outputNames, Map<String, Object> parameters) {
            peak.accumulateAndGet(running.incrementAndGet(), Math::max);
            try {
                Thread.sleep(DELAY_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                running.decrementAndGet();
            }
            var x = inputs.getFirst();
            var y = new float[x.size()];
            for (int i = 0; i < y.length; i++) y[i] = x.floats()[i] * 2;
            return List.of(Tensor.ofFloats("y", x.shape(), y));
        }

        @Override
        public void close() {
        }
    }

    record Outcome(int status, long millis, String body) {
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void excessLoadIsRefusedQuicklyAndLeavesNoGrowingHeap() throws Exception {
        // the queue timeout is long, so that a refusal that came from waiting it out would show in the latencies
        overload(new RevisionSettings(1, 1, "concurrency", 1, CONCURRENCY, QUEUE, Duration.ofSeconds(15),
                Duration.ofMinutes(10), 0, Duration.ofMillis(5)));
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void withNoQueueLimitTheTimeoutBoundsTheQueueAndTheHeap() throws Exception {
        // 40 ms calls on 2 slots: a waiter at position p waits about p * 20 ms, so a 100 ms timeout admits about 5
        // waiters and refuses the rest at once; the first wave, before any call was timed, waits the timeout out
        overload(new RevisionSettings(1, 1, "concurrency", 1, CONCURRENCY, RevisionSettings.NO_QUEUE_LIMIT,
                Duration.ofMillis(100), Duration.ofMinutes(10), 0, Duration.ofMillis(5)));
    }

    private static void overload(RevisionSettings settings) throws Exception {
        var model = new SlowModel();
        try (var server = new ModelServer(Duration.ofMinutes(10))) {
            var revision = new Revision("default", "slow", 1, () -> model, settings, new SimpleMeterRegistry(), Clock.systemUTC());
            revision.start();
            server.register("default", "slow").route(Route.allTo(revision, PayloadLogger.NONE));
            var web = WebServer.builder().host("127.0.0.1").port(0)
                    .routing(HttpRouting.builder().register(new InferenceHttpService(server))).build().start();
            var client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
            try {
                var rows = new StringBuilder();
                for (int i = 0; i < ROWS; i++) rows.append(i == 0 ? "" : ",").append(i % 100).append(".5,-").append(i % 7 + 1);
                var body = "{\"inputs\":[{\"name\":\"x\",\"shape\":[" + ROWS + ",2],\"datatype\":\"FP32\",\"data\":[" + rows + "]}]}";
                var request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + web.port() + "/v2/models/slow/infer"))
                        .header("Content-Type", "application/json").timeout(Duration.ofSeconds(15))
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build();

                var first = wave(client, request); // also opens the client's connections and warms up
                check(first, model, false);
                long baseline = heapAfterGc();
                long peakGrowth = 0;
                for (int w = 0; w < 6; w++) {
                    check(wave(client, request), model);
                    peakGrowth = Math.max(peakGrowth, heapAfterGc() - baseline);
                }
                long growth = heapAfterGc() - baseline;
                // each wave sends ~WAVE * 50 KiB of JSON that becomes float arrays server-side; retaining even the
                // refused requests of one wave would show as megabytes
                System.out.printf("overload: heap after GC grew %d KiB over %d waves of %d requests (peak %d KiB)%n",
                        growth / 1024, 6, WAVE, peakGrowth / 1024);
                assertThat(growth).as("heap growth after GC across the waves, bytes").isLessThan(4L * 1024 * 1024);
                assertThat(model.peak.get()).as("model calls at once").isLessThanOrEqualTo(CONCURRENCY);
            } finally {
                web.stop();
            }
        }
    }

    /** Sends WAVE requests at once; returns each one's status and latency. */
    private static List<Outcome> wave(HttpClient client, HttpRequest request) throws Exception {
        var futures = new ArrayList<CompletableFuture<Outcome>>();
        for (int i = 0; i < WAVE; i++) {
            long start = System.nanoTime();
            futures.add(client.sendAsync(request, HttpResponse.BodyHandlers.ofString())
                    .thenApply(r -> new Outcome(r.statusCode(), (System.nanoTime() - start) / 1_000_000, r.body())));
        }
        var outcomes = new ArrayList<Outcome>();
        for (var f : futures) outcomes.add(f.get(15, TimeUnit.SECONDS));
        return outcomes;
    }

    private static void check(List<Outcome> outcomes, SlowModel model) {
        check(outcomes, model, true);
    }

    private static void check(List<Outcome> outcomes, SlowModel model, boolean timed) {
        var byStatus = new java.util.TreeMap<Integer, java.util.LongSummaryStatistics>();
        for (var o : outcomes) byStatus.computeIfAbsent(o.status(), k -> new java.util.LongSummaryStatistics()).accept(o.millis());
        System.out.printf("overload wave (status: count, min/avg/max ms): %s%n", byStatus);
        var ok = outcomes.stream().filter(o -> o.status() == 200).toList();
        var refused = outcomes.stream().filter(o -> o.status() == 429 || o.status() == 503).toList();
        assertThat(ok.size() + refused.size()).as("every answer is 200, 429 or 503: %s", outcomes).isEqualTo(WAVE);
        assertThat(ok).as("admitted requests").hasSizeGreaterThanOrEqualTo(CONCURRENCY);
        assertThat(refused).as("refused requests at 10x capacity").hasSizeGreaterThanOrEqualTo(WAVE / 2);
        for (var o : ok) {
            assertThat(o.body().startsWith("{\"model_name\":\"slow\"") && o.body().contains("\"data\":[1.0,-2.0,3.0,-4.0,"))
                    .as("an admitted request's answer: %.200s", o.body()).isTrue();
        }
        for (var o : refused) assertThat(o.body()).contains("\"error\":").contains("slow");
        if (!timed) return;
        // refused without waiting for a slot: well under the 15 s queue timeout, and near the time a few model calls take
        var slowestRefusal = refused.stream().mapToLong(Outcome::millis).max().orElseThrow();
        assertThat(slowestRefusal).as("slowest refusal, ms").isLessThan(3000);
        var medianRefusal = refused.stream().mapToLong(Outcome::millis).sorted().skip(refused.size() / 2).findFirst().orElseThrow();
        assertThat(medianRefusal).as("median refusal, ms").isLessThan(1000);
    }

    private static long heapAfterGc() throws InterruptedException {
        var memory = ManagementFactory.getMemoryMXBean();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
            used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}
