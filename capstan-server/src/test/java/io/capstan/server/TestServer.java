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
        this(config, io.capstan.security.SecuritySettings.defaults());
    }

    /** A server with an OIDC provider or allowed host names. */
    TestServer(CapstanConfig config, io.capstan.security.SecuritySettings security) {
        this.server = CapstanServer.start(config, security);
    }

    /** A server in Kubernetes mode, running its workloads on {@code workloads}. */
    TestServer(CapstanConfig config, KubernetesMode.WorkloadBackend workloads) {
        this.server = CapstanServer.start(config, io.capstan.security.SecuritySettings.defaults(), java.util.Optional.of(workloads));
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

    /**
     * Sends one HTTP/1.1 request over a plain socket, for headers {@link HttpClient} will not send as given (such as
     * {@code Host}), and returns the status code and body. The request closes the connection.
     */
    Reply sendRaw(String method, String path, Map<String, String> headers, String body) {
        try (var socket = new java.net.Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(30_000);
            var bytes = body == null ? new byte[0] : body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            var head = new StringBuilder(method + " " + path + " HTTP/1.1\r\n");
            headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
            head.append("Connection: close\r\n");
            if (body != null) head.append("Content-Length: ").append(bytes.length).append("\r\n");
            head.append("\r\n");
            var out = socket.getOutputStream();
            out.write(head.toString().getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            out.write(bytes);
            out.flush();
            var in = new java.io.DataInputStream(new java.io.BufferedInputStream(socket.getInputStream()));
            var headerText = new StringBuilder();
            for (String line; (line = readLine(in)) != null && !line.isEmpty(); ) headerText.append(line).append('\n');
            int status = Integer.parseInt(headerText.substring(9, 12));
            var contentType = headerField(headerText.toString(), "content-type");
            var length = headerField(headerText.toString(), "content-length");
            var content = length.isEmpty() ? new byte[0] : in.readNBytes(Integer.parseInt(length));
            return new Reply(status, contentType, new String(content, java.nio.charset.StandardCharsets.UTF_8), "");
        } catch (IOException e) {
            throw new AssertionError(method + " " + path + " failed: " + e, e);
        }
    }

    private static String readLine(java.io.InputStream in) throws IOException {
        var line = new StringBuilder();
        for (int c; (c = in.read()) >= 0; ) {
            if (c == '\n') return line.toString().strip();
            line.append((char) c);
        }
        return line.isEmpty() ? null : line.toString();
    }

    private static String headerField(String headers, String name) {
        return headers.lines().filter(l -> l.toLowerCase(java.util.Locale.ROOT).startsWith(name + ":"))
                .map(l -> l.substring(name.length() + 1).strip()).findFirst().orElse("");
    }

    /** The value of the Prometheus sample {@code name} whose labels include each of {@code labels} (such as reason="missing"), or 0. */
    double metric(String name, String... labels) {
        var text = get("/metrics").body();
        return text.lines().filter(l -> l.startsWith(name + "{") || l.startsWith(name + " "))
                .filter(l -> java.util.Arrays.stream(labels).allMatch(l::contains))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
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
