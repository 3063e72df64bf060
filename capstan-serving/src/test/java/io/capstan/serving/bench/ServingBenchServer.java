package io.capstan.serving.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.capstan.serving.TestModels;
import io.capstan.serving.api.InferenceRequest;
import io.capstan.serving.api.Tensor;
import io.capstan.serving.http.InferenceHttpService;
import io.capstan.serving.http.OipJson;
import io.capstan.serving.internal.ModelServer;
import io.capstan.serving.internal.PayloadLogger;
import io.capstan.serving.internal.Revision;
import io.capstan.serving.internal.RevisionSettings;
import io.capstan.serving.internal.Route;
import io.capstan.serving.runtime.ModelSource;
import io.capstan.serving.runtime.OnnxModelRuntime;
import io.helidon.http.HeaderValues;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Benchmark harness for bench/serving-bench.sh.
 * <ul>
 *   <li>{@code serve PORT}: a Helidon server with the OIP service hosting {@code iris} (an iris-sized ONNX model,
 *       4 float inputs) and {@code iris-batched} (the same with a batcher), plus {@code POST /fixed} answering a
 *       fixed response of the same size (the HTTP floor).</li>
 *   <li>{@code raw THREADS SECONDS BATCH}: in-process ONNX Runtime on the same model, no HTTP (the ceiling);
 *       prints rows/s.</li>
 * </ul>
 */
public final class ServingBenchServer {
    private ServingBenchServer() {
    }

    public static void main(String[] args) throws Exception {
        var dir = Files.createTempDirectory("capstan-bench");
        var model = TestModels.irisOnnx(dir.resolve("iris"));
        switch (args[0]) {
            case "serve" -> serve(model, Integer.parseInt(args[1]));
            case "raw" -> raw(model, Integer.parseInt(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]));
            case "codec" -> codec(Integer.parseInt(args[1]));
            case "coldstart" -> coldStart(model, Integer.parseInt(args[1]));
            case "endpoint" -> {
                raw(model, Integer.parseInt(args[1]), Integer.parseInt(args[2]), 1);
                endpoint(model, Integer.parseInt(args[1]), Integer.parseInt(args[2]));
                raw(model, Integer.parseInt(args[1]), Integer.parseInt(args[2]), 1);
            }
            default -> throw new IllegalArgumentException("use: serve PORT | raw THREADS SECONDS BATCH");
        }
    }

    static void serve(Path model, int port) throws Exception {
        var server = new ModelServer(Duration.ofSeconds(2));
        var runtime = new OnnxModelRuntime();
        var source = new ModelSource("iris", model, "onnx", Map.of());
        var meters = new SimpleMeterRegistry();
        var plain = new Revision("default", "iris", 1, () -> runtime.load(source), RevisionSettings.defaults(), meters, Clock.systemUTC());
        plain.start();
        server.register("default", "iris").route(Route.allTo(plain, PayloadLogger.NONE));
        var d = RevisionSettings.defaults();
        var batchedSettings = new RevisionSettings(1, 1, d.scaleMetric(), d.scaleTarget(), 2, 4096, d.timeout(),
                d.idleBeforeScaleToZero(), 64, Duration.ofMillis(2));
        var batched = new Revision("default", "iris-batched", 1, () -> runtime.load(source), batchedSettings, meters, Clock.systemUTC());
        batched.start();
        server.register("default", "iris-batched").route(Route.allTo(batched, PayloadLogger.NONE));

        var echo = new Revision("default", "echo", 1, () -> new io.capstan.serving.EchoModel(io.capstan.serving.api.DataType.FP32),
                RevisionSettings.defaults(), meters, Clock.systemUTC());
        echo.start();
        server.register("default", "echo").route(Route.allTo(echo, PayloadLogger.NONE));
        var request = InferenceRequest.of(Tensor.ofFloats("input", new long[] {1, 4}, new float[] {5.1f, 3.5f, 1.4f, 0.2f}));
        byte[] fixed = OipJson.writeResponse(server.infer("iris", null, request));
        var web = WebServer.builder().host("127.0.0.1").port(port)
                .routing(HttpRouting.builder()
                        .register(new InferenceHttpService(server))
                        .post("/fixed-read", (req, res) -> {
                            try (var in = req.content().inputStream()) {
                                in.readNBytes(16 * 1024 * 1024 + 1);
                            }
                            res.header(HeaderValues.CONTENT_TYPE_JSON);
                            res.send(fixed);
                        })
                        .post("/fixed-as", (req, res) -> {
                            req.content().as(byte[].class);
                            res.header(HeaderValues.CONTENT_TYPE_JSON);
                            res.send(fixed);
                        })
                        .post("/fixed", (req, res) -> {
                            req.content().consume();
                            res.header(HeaderValues.CONTENT_TYPE_JSON);
                            res.send(fixed);
                        }))
                .build().start();
        System.out.println("READY " + web.port() + " response bytes " + fixed.length);
        Thread.currentThread().join();
    }

    /**
     * Scale-to-zero cold start: a revision with minReplicas 0 is scaled to zero, then one OIP v2 REST request is timed
     * end to end (HTTP client to answer), which includes loading the ONNX model again; repeated {@code times} times.
     */
    static void coldStart(Path model, int times) throws Exception {
        var server = new ModelServer(Duration.ofHours(1)); // no background autoscaling: the harness scales by hand
        var runtime = new OnnxModelRuntime();
        var source = new ModelSource("iris", model, "onnx", Map.of());
        var d = RevisionSettings.defaults();
        var settings = new RevisionSettings(0, 1, d.scaleMetric(), d.scaleTarget(), d.concurrencyPerReplica(), d.queueLimit(),
                d.timeout(), Duration.ZERO, 0, d.maxBatchLatency());
        var revision = new Revision("default", "iris", 1, () -> runtime.load(source), settings, new SimpleMeterRegistry(), Clock.systemUTC());
        revision.start();
        server.register("default", "iris").route(Route.allTo(revision, PayloadLogger.NONE));
        var web = WebServer.builder().host("127.0.0.1").port(0)
                .routing(HttpRouting.builder().register(new InferenceHttpService(server))).build().start();
        var client = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1).build();
        var post = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + web.port() + "/v2/models/iris/infer"))
                .header("Content-Type", "application/json").timeout(Duration.ofSeconds(30))
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                        "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[5.1,3.5,1.4,0.2]}]}"))
                .build();
        for (int i = 0; i < 200; i++) client.send(post, java.net.http.HttpResponse.BodyHandlers.ofByteArray()); // warm HTTP and codec
        var endToEnd = new long[times];
        var load = new long[times];
        var warm = new long[times];
        for (int i = 0; i < times; i++) {
            for (int tick = 0; tick < 3 && revision.replicas() > 0; tick++) { // a tick with no requests, idle: unloads the model
                Thread.sleep(5);
                revision.autoscale();
            }
            if (revision.replicas() != 0) throw new IllegalStateException("the revision did not scale to zero");
            long start = System.nanoTime();
            var answer = client.send(post, java.net.http.HttpResponse.BodyHandlers.ofByteArray());
            endToEnd[i] = System.nanoTime() - start;
            if (answer.statusCode() != 200) throw new IllegalStateException("cold request answered " + answer.statusCode());
            load[i] = revision.lastColdStartNanos();
            start = System.nanoTime();
            client.send(post, java.net.http.HttpResponse.BodyHandlers.ofByteArray());
            warm[i] = System.nanoTime() - start;
        }
        java.util.Arrays.sort(endToEnd);
        java.util.Arrays.sort(load);
        java.util.Arrays.sort(warm);
        System.out.printf("cold start after scale to zero (iris ONNX, %d runs): first request %.1f ms median (min %.1f, max %.1f), "
                        + "of which model activation %.1f ms; next (warm) request %.2f ms%n",
                times, endToEnd[times / 2] / 1e6, endToEnd[0] / 1e6, endToEnd[times - 1] / 1e6, load[times / 2] / 1e6, warm[times / 2] / 1e6);
        web.stop();
        server.close();
    }

    /** The OIP JSON codec alone: read a one-row request and write a one-row response. */
    static void codec(int seconds) {
        byte[] body = "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[5.1,3.5,1.4,0.2]}]}".getBytes();
        var response = new io.capstan.serving.api.InferenceResponse("iris", "1", null, Map.of(), java.util.List.of(
                Tensor.ofFloats("probabilities", new long[] {1, 3}, new float[] {0.1f, 0.2f, 0.7f}),
                Tensor.ofLongs("label", new long[] {1}, new long[] {2})));
        var cpu = java.lang.management.ManagementFactory.getThreadMXBean();
        long count = 0;
        long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        long cpuStart = cpu.getCurrentThreadCpuTime();
        while (System.nanoTime() < end) {
            OipJson.readRequest(body);
            OipJson.writeResponse(response);
            count++;
        }
        System.out.printf("codec read+write, one thread: %.0f /s, %.2f us CPU each%n", count / (double) seconds,
                (cpu.getCurrentThreadCpuTime() - cpuStart) / 1e3 / count);
    }

    /** The in-process endpoint (checks, admission, metrics) plus the OIP JSON codec, without HTTP. */
    static void endpoint(Path model, int threads, int seconds) throws Exception {
        var server = new ModelServer(Duration.ofSeconds(2));
        var runtime = new OnnxModelRuntime();
        var source = new ModelSource("iris", model, "onnx", Map.of());
        var revision = new Revision("default", "iris", 1, () -> runtime.load(source), RevisionSettings.defaults(),
                new SimpleMeterRegistry(), Clock.systemUTC());
        revision.start();
        server.register("default", "iris").route(Route.allTo(revision, PayloadLogger.NONE));
        byte[] body = "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[5.1,3.5,1.4,0.2]}]}".getBytes();
        var loaded = runtime.load(source);
        var tensors = java.util.List.of(Tensor.ofFloats("input", new long[] {1, 4}, new float[] {5.1f, 3.5f, 1.4f, 0.2f}));
        var modelCount = new AtomicLong();
        try (var pool = Executors.newFixedThreadPool(threads)) {
            for (int t = 0; t < threads; t++) pool.submit(() -> {
                long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
                while (System.nanoTime() < end) {
                    loaded.predict(tensors, java.util.Set.of(), Map.of());
                    modelCount.incrementAndGet();
                }
            });
        }
        System.out.printf("LoadedModel.predict threads=%d: %.0f req/s%n", threads, modelCount.get() / (double) seconds);
        for (boolean codec : new boolean[] {false, true}) {
            var count = new AtomicLong();
            Runnable work = () -> {
                long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
                long done = 0;
                var request = OipJson.readRequest(body);
                while (System.nanoTime() < end) {
                    if (codec) OipJson.writeResponse(server.infer("iris", null, OipJson.readRequest(body)));
                    else server.infer("iris", null, request);
                    done++;
                }
                count.addAndGet(done);
            };
            try (var pool = Executors.newFixedThreadPool(threads)) {
                for (int t = 0; t < threads; t++) pool.submit(work);
            }
            System.out.printf("endpoint%s threads=%d: %.0f req/s%n", codec ? " + JSON codec" : "", threads, count.get() / (double) seconds);
        }
        modelCount.set(0);
        try (var pool = Executors.newFixedThreadPool(threads)) {
            for (int t = 0; t < threads; t++) pool.submit(() -> {
                long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
                while (System.nanoTime() < end) {
                    revision.infer(InferenceRequest.of(tensors.getFirst()));
                    modelCount.incrementAndGet();
                }
            });
        }
        System.out.printf("Revision.infer threads=%d: %.0f req/s%n", threads, modelCount.get() / (double) seconds);
        modelCount.set(0);
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int t = 0; t < threads * 8; t++) pool.submit(() -> {
                long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
                while (System.nanoTime() < end) {
                    revision.infer(InferenceRequest.of(tensors.getFirst()));
                    modelCount.incrementAndGet();
                }
            });
        }
        System.out.printf("Revision.infer virtual threads=%d: %.0f req/s%n", threads * 8, modelCount.get() / (double) seconds);
        // past the revision's 64 slots the rest wait in admission: its throughput must not fall, and nothing is refused
        for (int callers : new int[] {64, 256, 1024}) {
            var answered = new AtomicLong();
            var refused = new AtomicLong();
            try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int t = 0; t < callers; t++) pool.submit(() -> {
                    long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
                    while (System.nanoTime() < end) {
                        try {
                            revision.infer(InferenceRequest.of(tensors.getFirst()));
                            answered.incrementAndGet();
                        } catch (io.capstan.serving.api.OverloadedException e) {
                            refused.incrementAndGet();
                            // a client backs off before it retries; without a pause, callers refused in a loop never
                            // block, keep the carrier threads and starve the admitted ones
                            try {
                                Thread.sleep(1);
                            } catch (InterruptedException interrupted) {
                                Thread.currentThread().interrupt();
                                return;
                            }
                        }
                    }
                });
            }
            System.out.printf("Revision.infer overload, virtual threads=%d: %.0f answered/s, %d refused%n", callers,
                    answered.get() / (double) seconds, refused.get());
        }
        server.close();
    }

    static void raw(Path model, int threads, int seconds, int batch) throws Exception {
        var env = OrtEnvironment.getEnvironment();
        var options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(1);
        options.setInterOpNumThreads(1);
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        try (var session = env.createSession(Files.readAllBytes(model), options)) {
            var rows = new AtomicLong();
            var input = new float[batch * 4];
            for (int i = 0; i < input.length; i++) input[i] = 1 + (i % 7) * 0.5f;
            Runnable work = () -> {
                long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
                long done = 0;
                try {
                    while (System.nanoTime() < end) {
                        try (var tensor = OnnxTensor.createTensor(env, FloatBuffer.wrap(input), new long[] {batch, 4});
                             var result = session.run(Map.of("input", tensor))) {
                            ((OnnxTensor) result.get(0)).getFloatBuffer();
                        }
                        done += batch;
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                rows.addAndGet(done);
            };
            work.run(); // warm-up
            rows.set(0);
            try (var pool = Executors.newFixedThreadPool(threads)) {
                for (int t = 0; t < threads; t++) pool.submit(work);
            }
            System.out.printf("raw onnxruntime threads=%d batch=%d: %.0f rows/s%n", threads, batch, rows.get() / (double) seconds);
        }
    }
}
