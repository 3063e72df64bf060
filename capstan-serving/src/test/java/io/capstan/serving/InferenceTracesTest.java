package io.capstan.serving;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import io.capstan.store.Database;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.testing.TestDatabases;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Inference requests over a real HTTP client, each traced into the SDK's in-memory exporter. */
class InferenceTracesTest {
    static final AttributeKey<String> MODEL = AttributeKey.stringKey("capstan.model");
    static final AttributeKey<String> NAMESPACE = AttributeKey.stringKey("capstan.namespace");
    static final AttributeKey<Long> REVISION = AttributeKey.longKey("capstan.revision");
    static final AttributeKey<Long> BATCH = AttributeKey.longKey("capstan.inference.batch.size");
    static final AttributeKey<Long> BATCH_REQUESTS = AttributeKey.longKey("capstan.inference.batch.requests");
    static final AttributeKey<Double> QUEUE_MS = AttributeKey.doubleKey("capstan.inference.queue_time_ms");
    static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
    static final String PARENT_ID = "00f067aa0ba902b7";

    @TempDir
    Path dir;
    Database db;
    JdbiResourceStore store;
    Serving serving;
    TestHttp http;
    InMemorySpanExporter exported;
    SdkTracerProvider provider;
    final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    final ResourceParser parser = new ResourceParser(ResourceKinds.of(Serving.kinds()));

    @BeforeEach
    void setUp() throws Exception {
        db = TestDatabases.h2();
        db.migrate("store");
        store = new JdbiResourceStore(db, Clock.systemUTC());
        exported = InMemorySpanExporter.create();
        provider = SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exported)).build();
        serving = new Serving(store, null, b -> Optional.empty(), dir.resolve("serving"), Clock.systemUTC(), new SimpleMeterRegistry(),
                "http://localhost:8080", Serving.Options.defaults().withTracer(provider.get("test")));
        http = new TestHttp(serving.httpService());
        Files.createDirectories(dir.resolve("models/x2"));
        Files.writeString(dir.resolve("models/x2/factor.txt"), "2");
    }

    @AfterEach
    void tearDown() {
        http.close();
        serving.close();
        provider.close();
        db.close();
    }

    private void serve(String batcher) {
        ResourceKey key = store.apply(parser.parse("t.yaml", """
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: scale}
                spec:
                  predictor:
                    %s
                    model:
                      modelFormat: {name: test-scale}
                      storageUri: %s
                """.formatted(batcher, dir.resolve("models/x2"))).getFirst()).key();
        serving.reconciler().reconcile(key);
        assertThat(store.get(key).status().phase()).isEqualTo("Ready");
    }

    private HttpResponse<String> infer(double x, Optional<String> traceparent) throws Exception {
        var body = "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP64\",\"shape\":[1],\"data\":[" + x + "]}]}";
        var request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port() + "/v2/models/scale/infer"))
                .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json");
        traceparent.ifPresent(t -> request.header("traceparent", t));
        return client.send(request.POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aRequestWithATraceparentIsAChildSpanWithModelRevisionBatchAndQueueTime() throws Exception {
        serve("timeout: 10");
        var response = infer(3, Optional.of("00-" + TRACE_ID + "-" + PARENT_ID + "-01"));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);

        var span = only();
        assertThat(span.getTraceId()).isEqualTo(TRACE_ID);
        assertThat(span.getParentSpanId()).isEqualTo(PARENT_ID);
        assertThat(span.getParentSpanContext().isRemote()).isTrue();
        assertThat(span.getKind()).isEqualTo(SpanKind.SERVER);
        assertThat(span.getAttributes().get(MODEL)).isEqualTo("scale");
        assertThat(span.getAttributes().get(NAMESPACE)).isEqualTo("default");
        assertThat(span.getAttributes().get(REVISION)).isEqualTo(1L);
        assertThat(span.getAttributes().get(BATCH)).isEqualTo(1L);
        assertThat(span.getAttributes().get(BATCH_REQUESTS)).isEqualTo(1L);
        assertThat(span.getAttributes().get(QUEUE_MS)).isNotNull().isGreaterThanOrEqualTo(0.0);
    }

    @Test
    void aRequestWithoutTraceparentStartsATraceOfItsOwn() throws Exception {
        serve("timeout: 10");
        assertThat(infer(1, Optional.empty()).statusCode()).isEqualTo(200);
        var span = only();
        assertThat(span.getParentSpanContext().isValid()).isFalse();
        assertThat(span.getAttributes().get(MODEL)).isEqualTo("scale");
    }

    @Test
    void batchedRequestsSayWhichBatchTheyRanInAndHowLongTheyWaitedForIt() throws Exception {
        // A batch waits up to 300 ms for more requests: concurrent ones end up in the same batch.
        serve("batcher: {maxBatchSize: 64, maxLatency: 300}");
        var answers = new ArrayList<Future<HttpResponse<String>>>();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 8; i++) {
                double x = i;
                answers.add(pool.submit(() -> infer(x, Optional.of("00-" + TRACE_ID + "-" + PARENT_ID + "-01"))));
            }
        }
        for (var a : answers) assertThat(a.get().statusCode()).isEqualTo(200);

        var spans = exported.getFinishedSpanItems();
        assertThat(spans).hasSize(8).allSatisfy(s -> {
            assertThat(s.getTraceId()).isEqualTo(TRACE_ID);
            assertThat(s.getAttributes().get(BATCH)).isGreaterThanOrEqualTo(s.getAttributes().get(BATCH_REQUESTS));
            assertThat(s.getAttributes().get(QUEUE_MS)).isGreaterThanOrEqualTo(0.0);
        });
        assertThat(spans).as("some requests shared a batch").anySatisfy(s -> assertThat(s.getAttributes().get(BATCH_REQUESTS)).isGreaterThan(1L));
        // A request that waited for its batch to fill says so: the batcher's window is part of its queue time.
        assertThat(spans.stream().mapToDouble(s -> s.getAttributes().get(QUEUE_MS)).max().orElseThrow()).isGreaterThan(1.0);
    }

    private SpanData only() {
        List<SpanData> spans = exported.getFinishedSpanItems();
        assertThat(spans).hasSize(1);
        return spans.getFirst();
    }
}
