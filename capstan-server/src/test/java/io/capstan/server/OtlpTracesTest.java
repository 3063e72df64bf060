package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.capstan.core.Json;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real server process, started with and without {@code OTEL_EXPORTER_OTLP_ENDPOINT}, runs a pipeline; a tiny
 * OTLP/HTTP receiver in the test counts what reaches {@code POST /v1/traces}.
 */
class OtlpTracesTest {
    private static final String RUN = """
            apiVersion: pipelines.capstan.io/v1
            kind: PipelineRun
            metadata: {name: exported}
            spec:
              pipelineSpec:
                pipelineInfo: {name: otlp-check}
                schemaVersion: 2.1.0
                components:
                  comp-a: {executorLabel: exec-a}
                deploymentSpec:
                  executors:
                    exec-a: {container: {image: alpine, command: [sh, -c, 'echo "step sees $TRACEPARENT"']}}
                root:
                  dag:
                    tasks:
                      a: {componentRef: {name: comp-a}, taskInfo: {name: a}}
            """;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final List<byte[]> posts = new CopyOnWriteArrayList<>();
    private HttpServer receiver;
    private Process server;

    @TempDir
    Path home;

    @BeforeEach
    void startReceiver() throws IOException {
        receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        receiver.createContext("/v1/traces", exchange -> {
            try (exchange) {
                var body = exchange.getRequestBody().readAllBytes();
                if (exchange.getRequestMethod().equals("POST")) posts.add(body);
                exchange.getResponseHeaders().add("Content-Type", "application/x-protobuf");
                // An empty ExportTraceServiceResponse: everything accepted.
                exchange.sendResponseHeaders(200, -1);
            }
        });
        receiver.start();
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null) server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        receiver.stop(0);
    }

    @Test
    void withAnEndpointSetTheRunsSpansReachItOverOtlpHttp() throws Exception {
        int port = freePort();
        server = startServer(port, Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:" + receiver.getAddress().getPort(),
                "OTEL_BSP_SCHEDULE_DELAY", "100"), List.of());
        runPipeline(port);

        var deadline = Instant.now().plusSeconds(30);
        while (Instant.now().isBefore(deadline) && !received("capstan.pipeline.run")) LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
        assertThat(posts).as("POSTs to /v1/traces").isNotEmpty();
        assertThat(received("capstan.pipeline.run")).as("the run's span was exported").isTrue();
        assertThat(received("capstan.pipeline.task")).as("the step's span was exported").isTrue();
        assertThat(received("otlp-check")).as("with the pipeline's name").isTrue();
        assertThat(received("capstan")).as("service name").isTrue();
    }

    @Test
    void withoutAnEndpointNoClassOfTheSdkIsLoaded() throws Exception {
        int port = freePort();
        var classes = home.resolve("classes.log");
        server = startServer(port, Map.of(), List.of("-Xlog:class+load=info:file=" + classes));
        runPipeline(port);
        var loaded = Files.readAllLines(classes);
        assertThat(loaded).as("classes loaded").anyMatch(l -> l.contains("io.capstan.pipelines.run.RunTraces"));
        assertThat(loaded).filteredOn(l -> l.contains("io.opentelemetry.sdk") || l.contains("io.opentelemetry.exporter")).isEmpty();
        assertThat(posts).isEmpty();
    }

    private boolean received(String text) {
        return posts.stream().anyMatch(b -> new String(b, StandardCharsets.ISO_8859_1).contains(text));
    }

    private void runPipeline(int port) throws Exception {
        var applied = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/apis/capstan/v1/apply"))
                .header("Authorization", "Bearer " + token()).header("Content-Type", "application/yaml").timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(RUN)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(applied.statusCode()).as(applied.body()).isEqualTo(200);
        var deadline = Instant.now().plusSeconds(60);
        JsonNode run = null;
        while (Instant.now().isBefore(deadline)) {
            var r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/apis/capstan/v1/namespaces/default/pipelineruns/exported"))
                    .header("Authorization", "Bearer " + token()).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            run = Json.json().readTree(r.body());
            if (run.path("status").path("phase").asText().equals("Succeeded")) return;
            LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
        }
        throw new AssertionError("the run did not succeed: " + run);
    }

    private String token() throws IOException {
        return io.capstan.security.AdminToken.read(home).orElseThrow();
    }

    private Process startServer(int port, Map<String, String> env, List<String> jvmOptions) throws IOException, InterruptedException {
        var java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        var command = new java.util.ArrayList<>(List.of(java, "-Xss2m", "-XX:+UseSerialGC"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.capstan.server.ServerMain"));
        var pb = new ProcessBuilder(command);
        pb.environment().keySet().removeIf(k -> k.startsWith("OTEL_"));
        pb.environment().putAll(env);
        pb.environment().put("CAPSTAN_HOME", home.toString());
        pb.environment().put("CAPSTAN_PORT", Integer.toString(port));
        pb.environment().put("CAPSTAN_GRPC_PORT", Integer.toString(freePort()));
        pb.redirectErrorStream(true).redirectOutput(home.resolve("server-" + System.nanoTime() + ".log").toFile());
        var process = pb.start();
        var deadline = Instant.now().plusSeconds(60);
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) throw new AssertionError("server exited with " + process.exitValue());
            try {
                var r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz")).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) return process;
            } catch (IOException e) {
                // not listening yet
            }
            LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
        }
        process.destroyForcibly();
        throw new AssertionError("server did not become ready in 60 s");
    }

    private static int freePort() throws IOException {
        try (var s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
