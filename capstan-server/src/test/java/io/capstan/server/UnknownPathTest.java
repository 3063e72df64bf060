package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Requests no route takes, under every prefix and with every method, through a real HTTP client: a 4xx, never a 5xx. */
class UnknownPathTest {
    private static final List<String> METHODS = List.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");
    /** Paths no route knows under any method, misspellings of real ones among them. */
    private static final List<String> UNKNOWN = List.of(
            "/nope", "/healthzz", "/readyz/now", "/metric", "/metrics/jvm", "/versions", "/index.html",
            "/apis", "/apis/", "/apis/capstan", "/apis/capstan/v2/jobs",
            "/apis/capstan/v1/namespaces/default", "/apis/capstan/v1/namespaces/default/jobs/a/b",
            "/apis/capstan/v1/namespaces/default/jobs/a/b/c/d", "/apis/capstan/v1/lineage/nope",
            "/apis/capstan/v1/lineage/artifacts", "/apis/v2beta2/runs", "/apis/v1beta1/runs",
            "/v2/nope", "/v2/health", "/v2/health/alive", "/v2/models", "/v3/models/m/infer", "/v1", "/v1/modelz",
            "/v1/models/m/x/y", "/serving", "/serving/default", "/serving/default/v3/models/m", "/serving/default/graphs",
            "/serving/default/v2/models", "/%2e%2e/etc/passwd", "/apis/capstan/v1/a%00/b/c/d/e/f");
    /** Real paths, tried with every method they do not answer. */
    private static final List<String> KNOWN_GET_ONLY = List.of("/healthz", "/readyz", "/metrics", "/version",
            "/apis/capstan/v1/kinds", "/apis/capstan/v1/lineage/artifacts/1", "/v2/health/live");

    @TempDir
    static Path home;
    static TestServer server;
    static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() {
        server = new TestServer(home);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    record Answer(int status, String contentType, String allow, String body) {
    }

    static Answer send(String method, String path) {
        var request = HttpRequest.newBuilder(URI.create(server.server.url() + path)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + server.adminToken())
                .method(method, method.equals("GET") || method.equals("HEAD") || method.equals("DELETE") || method.equals("OPTIONS")
                        ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString("{}"))
                .build();
        try {
            var res = http.send(request, HttpResponse.BodyHandlers.ofString());
            return new Answer(res.statusCode(), res.headers().firstValue("Content-Type").orElse(""),
                    res.headers().firstValue("Allow").orElse(""), res.body());
        } catch (IOException e) {
            throw new AssertionError(method + " " + path + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** OIP and V1 answer in their protocol's {@code {"error": ...}} shape, KFP's v2beta1 in grpc-gateway's; the rest in problem+json. */
    private static boolean protocolForm(String method, String path, Answer a) {
        if (!a.contentType().startsWith("application/json")) return false;
        if (method.equals("HEAD")) return path.startsWith("/apis/v2beta1/") || path.startsWith("/v2/") || path.startsWith("/v1/") || path.startsWith("/serving/");
        if (path.startsWith("/apis/v2beta1/")) return a.body().contains("\"code\":5");
        return (path.startsWith("/v2/") || path.startsWith("/v1/") || path.startsWith("/serving/")) && a.body().contains("\"error\"");
    }

    private static void expectProblem(SoftAssertions soft, String method, String path, Answer a, int status) {
        var what = method + " " + path + " -> " + a;
        soft.assertThat(a.status()).as(what).isEqualTo(status);
        if (protocolForm(method, path, a)) return;
        soft.assertThat(a.contentType()).as(what).isEqualTo("application/problem+json");
        if (!method.equals("HEAD")) {
            try {
                var body = Json.json().readTree(a.body());
                soft.assertThat(body.path("status").asInt()).as(what).isEqualTo(status);
                soft.assertThat(body.path("detail").asText()).as(what).isNotBlank();
            } catch (IOException e) {
                soft.fail(what + ": not JSON");
            }
        }
    }

    @Test
    void unknownPathsAnswer404WithAProblemUnderEveryPrefixAndMethod() {
        var soft = new SoftAssertions();
        var paths = new ArrayList<>(UNKNOWN);
        paths.add("/apis/v2beta1/nope");
        paths.add("/apis/v2beta1/pipeline");
        paths.add("/v2/models/m/nope");
        paths.add("/serving/default/v2/models/m/nope");
        for (var path : paths) {
            for (var method : METHODS) {
                expectProblem(soft, method, path, send(method, path), 404);
            }
        }
        soft.assertAll();
    }

    @Test
    void aKnownPathWithAnotherMethodAnswers405NamingTheAllowedOnes() {
        var soft = new SoftAssertions();
        for (var path : KNOWN_GET_ONLY) {
            for (var method : List.of("POST", "PUT", "PATCH", "DELETE")) {
                var a = send(method, path);
                expectProblem(soft, method, path, a, 405);
                soft.assertThat(a.allow()).as(method + " " + path).isEqualTo("GET, HEAD, OPTIONS");
            }
            var options = send("OPTIONS", path);
            soft.assertThat(options.status()).as("OPTIONS " + path).isEqualTo(204);
            soft.assertThat(options.allow()).as("OPTIONS " + path).isEqualTo("GET, HEAD, OPTIONS");
            soft.assertThat(send("HEAD", path).status()).as("HEAD " + path).isLessThan(500);
        }
        var jobs = send("PATCH", "/apis/capstan/v1/namespaces/default/jobs");
        expectProblem(soft, "PATCH", "/apis/capstan/v1/namespaces/default/jobs", jobs, 405);
        soft.assertThat(jobs.allow()).isEqualTo("GET, HEAD, POST, OPTIONS");
        var job = send("POST", "/apis/capstan/v1/namespaces/default/jobs/j");
        expectProblem(soft, "POST", "/apis/capstan/v1/namespaces/default/jobs/j", job, 405);
        soft.assertThat(job.allow()).isEqualTo("GET, HEAD, PUT, DELETE, OPTIONS");
        var apply = send("GET", "/apis/capstan/v1/apply");
        // GET /apis/capstan/v1/{plural} lists a kind: "apply" is no kind, which is a 404 from that route.
        soft.assertThat(apply.status()).as(apply.toString()).isEqualTo(404);
        var infer = send("GET", "/v2/models/m/infer");
        soft.assertThat(infer.status()).as(infer.toString()).isEqualTo(405);
        soft.assertThat(infer.allow()).isEqualTo("POST, OPTIONS");
        soft.assertAll();
    }
}
