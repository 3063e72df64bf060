package io.capstan.serving;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import io.capstan.store.Database;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.testing.TestDatabases;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rollouts under concurrent load with batching on, over a real HTTP client: each spec change makes a new
 * revision that replaces the old one while batches are forming, and every request is answered 200 or 503
 * within the predictor's timeout; none hangs.
 */
class RolloutUnderBatchingTest {
    static final int CLIENTS = 16;
    static final int ROLLOUTS = 6;

    @TempDir
    Path dir;
    Database db;
    JdbiResourceStore store;
    Serving serving;
    TestHttp http;
    final ResourceParser parser = new ResourceParser(ResourceKinds.of(Serving.kinds()));

    @BeforeEach
    void setUp() throws Exception {
        db = TestDatabases.h2();
        db.migrate("store");
        store = new JdbiResourceStore(db, Clock.systemUTC());
        serving = new Serving(store, null, b -> Optional.empty(), dir.resolve("serving"), Clock.systemUTC(), new SimpleMeterRegistry(),
                "http://localhost:8080", Serving.Options.defaults());
        http = new TestHttp(serving.httpService());
        for (int factor : new int[] {2, 3}) {
            Files.createDirectories(dir.resolve("models/x" + factor));
            Files.writeString(dir.resolve("models/x" + factor + "/factor.txt"), String.valueOf(factor));
        }
    }

    @AfterEach
    void tearDown() {
        http.close();
        serving.close();
        db.close();
    }

    private ResourceKey rollOut(int factor) {
        // a batch waits up to 200 ms for up to 64 rows, so most rollouts close a revision while its batch is forming
        var key = store.apply(parser.parse("t.yaml", """
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: scale}
                spec:
                  predictor:
                    timeout: 10
                    batcher: {maxBatchSize: 64, maxLatency: 200}
                    model:
                      modelFormat: {name: test-scale}
                      storageUri: %s
                """.formatted(dir.resolve("models/x" + factor))).getFirst()).key();
        serving.reconciler().reconcile(key);
        return key;
    }

    @Test
    @Timeout(180)
    void everyRequestIsAnsweredOrRefusedAcrossRollouts() throws Exception {
        var key = rollOut(2);
        assertThat(store.get(key).status().phase()).isEqualTo("Ready");
        var client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        var uri = URI.create("http://127.0.0.1:" + http.port() + "/v2/models/scale/infer");
        var stop = new AtomicBoolean();
        var statuses = new ConcurrentHashMap<Integer, AtomicInteger>();
        var hung = new AtomicInteger();
        var wrong = new ConcurrentLinkedQueue<String>();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int c = 0; c < CLIENTS; c++) {
                double x = c + 1;
                pool.submit(() -> {
                    var body = "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP64\",\"shape\":[1],\"data\":[" + x + "]}]}";
                    while (!stop.get()) {
                        var request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
                                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
                        try {
                            var response = client.send(request, HttpResponse.BodyHandlers.ofString());
                            statuses.computeIfAbsent(response.statusCode(), s -> new AtomicInteger()).incrementAndGet();
                            if (response.statusCode() == 200 && !response.body().contains("\"data\":[" + 2 * x + "]")
                                    && !response.body().contains("\"data\":[" + 3 * x + "]")) {
                                wrong.add(response.body());
                            }
                        } catch (HttpTimeoutException e) {
                            hung.incrementAndGet();
                        }
                    }
                    return null;
                });
            }
            try {
                Thread.sleep(500);
                for (int n = 1; n <= ROLLOUTS; n++) {
                    rollOut(n % 2 == 0 ? 2 : 3);
                    assertThat(serving.endpoint().modelMetadata("scale", null).versions()).contains(String.valueOf(n + 1));
                    Thread.sleep(300);
                }
            } finally {
                stop.set(true);
            }
        }
        assertThat(hung.get()).as("requests that got no answer within 30 s").isZero();
        assertThat(statuses.keySet()).as("statuses seen: " + statuses).isSubsetOf(200, 503);
        assertThat(statuses.get(200).get()).isGreaterThan(CLIENTS);
        assertThat(wrong).isEmpty();
        var predictor = store.get(key).status().field("components").orElseThrow().get("predictor");
        assertThat(predictor.get("latestReadyRevision").asText()).isEqualTo("scale-predictor-0000" + (ROLLOUTS + 1));
    }
}
