package io.capstan.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.CapstanConfig;
import io.capstan.core.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.function.Predicate;

/** A real server on a free port with its own home and embedded H2, plus a small HTTP client for tests. */
final class TestServer implements AutoCloseable {
    final CapstanServer server;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    TestServer(Path home) {
        this(config(home));
    }

    TestServer(CapstanConfig config) {
        this.server = CapstanServer.start(config);
    }

    static CapstanConfig config(Path home) {
        return CapstanConfig.fromEnvironment(Map.of("CAPSTAN_HOME", home.toString(), "CAPSTAN_PORT", "0", "CAPSTAN_RESYNC_SECONDS", "5"));
    }

    record Reply(int status, String contentType, String body, String challenge) {
        JsonNode json() {
            try {
                return Json.json().readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + body, e);
            }
        }
    }

    Reply send(String method, String path, String body, String contentType) {
        return send(method, path, body, contentType, Map.of("Authorization", "Bearer " + adminToken()));
    }

    /** Sends with exactly {@code headers} besides Content-Type: no token unless they carry one. */
    Reply send(String method, String path, String body, String contentType, Map<String, String> headers) {
        var builder = HttpRequest.newBuilder(URI.create(server.url() + path)).timeout(Duration.ofSeconds(30));
        headers.forEach(builder::header);
        if (contentType != null) builder.header("Content-Type", contentType);
        // As curl does for large bodies: wait for 100 Continue, so that a server refusing the body early (413)
        // answers before the client has written megabytes into a connection about to close.
        if (body != null && body.length() > 1024 * 1024) builder.expectContinue(true);
        var publisher = body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body);
        builder.method(method, publisher);
        try {
            var res = http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
            return new Reply(res.statusCode(), res.headers().firstValue("Content-Type").orElse(""), res.body(),
                    res.headers().firstValue("WWW-Authenticate").orElse(""));
        } catch (IOException e) {
            throw new AssertionError(method + " " + path + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Sends as the holder of {@code token}, or with no token when it is null. */
    Reply sendAs(String token, String method, String path, String body, String contentType) {
        return send(method, path, body, contentType, token == null ? Map.of() : Map.of("Authorization", "Bearer " + token));
    }

    /** The server admin's token, which the server wrote to its home on start. */
    String adminToken() {
        return io.capstan.security.AdminToken.read(server.config().home()).orElseThrow();
    }

    Reply get(String path) {
        return send("GET", path, null, null);
    }

    Reply apply(String yaml) {
        return send("POST", "/apis/capstan/v1/apply", yaml, "application/yaml");
    }

    /** Polls {@code path} until the JSON answer satisfies {@code done}, or fails after {@code timeout}. */
    JsonNode await(String path, Predicate<JsonNode> done, Duration timeout) {
        var deadline = Instant.now().plus(timeout);
        JsonNode last = null;
        while (Instant.now().isBefore(deadline)) {
            var r = get(path);
            if (r.status() == 200) {
                last = r.json();
                if (done.test(last)) return last;
            }
            try {
                Thread.onSpinWait();
                java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
            } catch (RuntimeException e) {
                throw e;
            }
        }
        throw new AssertionError("timed out after " + timeout + " waiting on " + path + "; last answer: " + last);
    }

    @Override
    public void close() {
        server.close();
    }
}
