package io.capstan.server.kfp;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.CapstanConfig;
import io.capstan.core.Json;
import io.capstan.server.CapstanServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;

/**
 * A real server on a free port with its own home and embedded H2, and a small client for the v2beta1 API that checks
 * every JSON answer against KFP's swagger ({@link SwaggerSchema}) and fails the test on the first that does not conform.
 */
final class KfpTestServer implements AutoCloseable {
    static final String API = "/apis/v2beta1";
    private static final Optional<SwaggerSchema> SWAGGER = SwaggerSchema.load();
    final CapstanServer server;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    KfpTestServer(Path home) {
        server = CapstanServer.start(CapstanConfig.fromEnvironment(Map.of("CAPSTAN_HOME", home.toString(), "CAPSTAN_PORT", "0",
                "CAPSTAN_RESYNC_SECONDS", "5")));
    }

    record Reply(int status, String body) {
        JsonNode json() {
            try {
                return Json.json().readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + body, e);
            }
        }
    }

    Reply send(String method, String path, HttpRequest.BodyPublisher body, String contentType) {
        var b = HttpRequest.newBuilder(URI.create(server.url() + API + path)).timeout(Duration.ofSeconds(30)).method(method, body)
                .header("Authorization", "Bearer " + io.capstan.security.AdminToken.read(server.config().home()).orElseThrow());
        if (contentType != null) b.header("Content-Type", contentType);
        // As curl does for large bodies: a server refusing the body early (413) answers before it is all sent.
        if (body.contentLength() > 1024 * 1024) b.expectContinue(true);
        try {
            var res = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            var reply = new Reply(res.statusCode(), res.body());
            if (res.headers().firstValue("Content-Type").orElse("").startsWith("application/json")) conform(method, path, reply);
            return reply;
        } catch (IOException e) {
            throw new AssertionError(method + " " + path + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Fails when {@code reply} is not what KFP's swagger declares for {@code method} on {@code path}. */
    static void conform(String method, String path, Reply reply) {
        if (SWAGGER.isEmpty()) return;
        var bare = path.contains("?") ? path.substring(0, path.indexOf('?')) : path;
        var schema = SWAGGER.get().responseSchema(method, bare, reply.status());
        if (schema.isEmpty()) throw new AssertionError(method + " " + bare + " answered " + reply.status() + " with JSON, but KFP's swagger declares no such endpoint");
        var violations = SWAGGER.get().violations(schema.get(), reply.json());
        if (!violations.isEmpty()) {
            throw new AssertionError(method + " " + bare + " (" + reply.status() + ") does not conform to KFP's swagger:\n  "
                    + String.join("\n  ", violations) + "\nbody: " + reply.body());
        }
    }

    Reply get(String path) {
        return send("GET", path, HttpRequest.BodyPublishers.noBody(), null);
    }

    Reply post(String path, String json) {
        return send("POST", path, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json), "application/json");
    }

    Reply delete(String path) {
        return send("DELETE", path, HttpRequest.BodyPublishers.noBody(), null);
    }

    /** A multipart upload with the file as {@code uploadfile}, as KFP's Python client sends it. */
    Reply upload(String pathAndQuery, String fileName, byte[] content) {
        var boundary = "capstan-test-boundary";
        var head = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"uploadfile\"; filename=\"" + fileName
                + "\"\r\nContent-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8);
        var tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
        var body = new byte[head.length + content.length + tail.length];
        System.arraycopy(head, 0, body, 0, head.length);
        System.arraycopy(content, 0, body, head.length, content.length);
        System.arraycopy(tail, 0, body, head.length + content.length, tail.length);
        return send("POST", pathAndQuery, HttpRequest.BodyPublishers.ofByteArray(body), "multipart/form-data; boundary=" + boundary);
    }

    /** Polls {@code path} until its JSON satisfies {@code done}, failing after {@code timeout}. */
    JsonNode await(String path, Predicate<JsonNode> done, Duration timeout) {
        var deadline = Instant.now().plus(timeout);
        JsonNode last = null;
        while (Instant.now().isBefore(deadline)) {
            var r = get(path);
            if (r.status() == 200) {
                last = r.json();
                if (done.test(last)) return last;
            }
            LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
        }
        throw new AssertionError("timed out after " + timeout + " waiting on " + path + "; last answer: " + last);
    }

    @Override
    public void close() {
        server.close();
    }
}
