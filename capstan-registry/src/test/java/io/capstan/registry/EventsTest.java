package io.capstan.registry;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.capstan.core.Json;
import io.capstan.store.Database;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The registry's events over HTTP: the feed (and its long-poll watch) in order, and webhooks delivering each event,
 * signed with HMAC-SHA256, to a real local HTTP receiver that fails the first attempts, and giving up on one that
 * always fails without holding back later events.
 */
class EventsTest {
    static final String SECRET = "0123456789abcdef-secret";
    @TempDir
    static Path dir;
    static Database db;
    static TestServer server;
    static AutoCloseable webhooks;
    static HttpServer receiver;
    /** What the receiver got: event type, delivery id, signature header, body, and the status it answered. */
    record Received(String type, String delivery, String signature, String body, int status) {
    }
    static final List<Received> received = new CopyOnWriteArrayList<>();
    static final AtomicInteger flaky = new AtomicInteger();
    final HttpClient http = HttpClient.newHttpClient();
    final String ns = "e" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);

    @BeforeAll
    static void start() throws Exception {
        db = TestDatabases.h2();
        server = new TestServer(db, (caller, namespace) -> Optional.empty());
        webhooks = server.registry.startWebhooks(4, Duration.ofMillis(50));
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/hook", exchange -> {
            var body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            // The first two attempts fail, as a receiver restarting would.
            int status = flaky.incrementAndGet() <= 2 ? 503 : 204;
            received.add(new Received(exchange.getRequestHeaders().getFirst(Events.EVENT_HEADER), exchange.getRequestHeaders().getFirst(Events.DELIVERY_HEADER),
                    exchange.getRequestHeaders().getFirst(Events.SIGNATURE_HEADER), body, status));
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        receiver.createContext("/broken", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(500, -1);
            exchange.close();
        });
        receiver.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (webhooks != null) webhooks.close();
        if (receiver != null) receiver.stop(0);
        if (server != null) server.close();
        if (db != null) db.close();
    }

    JsonNode call(String method, String base, String path, String json) throws Exception {
        var req = HttpRequest.newBuilder(URI.create(base + path + (path.contains("?") ? "&" : "?") + "namespace=" + ns))
                .header("Authorization", "Bearer admin").header("Content-Type", "application/json")
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json)).build();
        var res = http.send(req, HttpResponse.BodyHandlers.ofString());
        var node = (com.fasterxml.jackson.databind.node.ObjectNode) Json.json().readTree(res.body().isEmpty() ? "{}" : res.body());
        return node.put("_status", res.statusCode());
    }

    JsonNode api(String method, String path, String json) throws Exception {
        var r = call(method, server.base(), path, json);
        assertThat(r.path("_status").asInt()).as("%s %s: %s", method, path, r).isBetween(200, 299);
        return r;
    }

    JsonNode ext(String method, String path, String json) throws Exception {
        return call(method, server.extensionBase(), path, json);
    }

    static String hmac(String body) throws Exception {
        var mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return "sha256=" + java.util.HexFormat.of().formatHex(mac.doFinal(body.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void theFeedAndWebhooksCarryEveryEventInOrderSignedAndRetried() throws Exception {
        var hookUrl = "http://127.0.0.1:" + receiver.getAddress().getPort();
        var hook = ext("POST", "/webhooks", "{\"url\": \"" + hookUrl + "/hook\", \"secret\": \"" + SECRET + "\"}");
        assertThat(hook.path("_status").asInt()).as("%s", hook).isEqualTo(201);
        assertThat(hook.has("secret")).isFalse();
        var broken = ext("POST", "/webhooks", "{\"url\": \"" + hookUrl + "/broken\", \"secret\": \"" + SECRET + "\", \"events\": [\"VERSION_ARCHIVED\"]}");
        assertThat(broken.path("_status").asInt()).isEqualTo(201);

        var rm = api("POST", "/registered_models", "{\"name\": \"m\"}").path("id").asText();
        var v = new String[2];
        for (int i = 0; i < 2; i++) {
            v[i] = api("POST", "/model_versions", "{\"name\": \"v" + (i + 1) + "\", \"registeredModelId\": \"" + rm + "\"}").path("id").asText();
            var files = Files.createDirectories(dir.resolve(ns + "-v" + i));
            api("POST", "/model_versions/" + v[i] + "/artifacts", "{\"artifactType\": \"model-artifact\", \"name\": \"f\", \"uri\": \"file://" + files
                    + "\", \"modelFormatName\": \"onnx\"}");
        }
        assertThat(ext("PUT", "/registered_models/" + rm + "/aliases/champion", "{\"modelVersionId\": \"" + v[0] + "\"}").path("_status").asInt()).isEqualTo(200);
        api("POST", "/model_versions/" + v[0] + ":deploy", "{\"alias\": \"champion\"}");
        assertThat(ext("PUT", "/registered_models/" + rm + "/aliases/champion", "{\"modelVersionId\": \"" + v[1] + "\"}").path("redeployed").toString())
                .isEqualTo("[\"m\"]");
        api("PATCH", "/model_versions/" + v[0], "{\"state\": \"ARCHIVED\"}");
        api("PATCH", "/model_versions/" + v[0], "{\"description\": \"still archived\"}");

        var feed = ext("GET", "/events", null);
        var types = new ArrayList<String>();
        feed.path("items").forEach(e -> types.add(e.path("type").asText() + ":" + e.path("modelVersionId").asText()));
        assertThat(types).containsExactly("VERSION_CREATED:" + v[0], "VERSION_CREATED:" + v[1], "ALIAS_MOVED:" + v[0], "VERSION_DEPLOYED:" + v[0],
                "ALIAS_MOVED:" + v[1], "VERSION_DEPLOYED:" + v[1], "VERSION_ARCHIVED:" + v[0]);
        var items = feed.path("items");
        assertThat(items.get(4).path("previousModelVersionId").asText()).isEqualTo(v[0]);
        assertThat(items.get(5).path("inferenceService").asText()).isEqualTo("m");
        assertThat(items.get(5).path("alias").asText()).isEqualTo("champion");

        // A watch waits for the next event.
        var last = feed.path("lastEventId").asText();
        var watch = CompletableFuture.supplyAsync(() -> {
            try {
                return ext("GET", "/events?after=" + last + "&watch=30", null);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(300);
        assertThat(watch).isNotDone();
        var v3 = api("POST", "/registered_models/" + rm + "/versions", "{\"name\": \"v3\", \"registeredModelId\": \"" + rm + "\"}").path("id").asText();
        var woke = watch.get(30, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(woke.path("items").size()).isEqualTo(1);
        assertThat(woke.path("items").get(0).path("modelVersionId").asText()).isEqualTo(v3);

        // The webhook: 8 events delivered in order, the first after two failed attempts, each signed.
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (received.stream().filter(r -> r.status() == 204).count() < 8 && System.nanoTime() < deadline) Thread.sleep(50);
        var delivered = received.stream().filter(r -> r.status() == 204).toList();
        assertThat(delivered).hasSize(8);
        assertThat(received.subList(0, 3)).extracting(Received::delivery).containsOnly(items.get(0).path("id").asText());
        assertThat(received.subList(0, 3)).extracting(Received::status).containsExactly(503, 503, 204);
        for (int i = 0; i < 7; i++) {
            var r = delivered.get(i);
            assertThat(r.delivery()).isEqualTo(items.get(i).path("id").asText());
            assertThat(r.type()).isEqualTo(items.get(i).path("type").asText());
            assertThat(r.signature()).isEqualTo(hmac(r.body()));
            assertThat(Json.json().readTree(r.body())).isEqualTo(items.get(i));
        }
        assertThat(delivered.get(7).delivery()).isEqualTo(woke.path("items").get(0).path("id").asText());
        // Nothing else was sent: a forged or altered body would not match its signature.
        assertThat(hmac(delivered.get(0).body() + " ")).isNotEqualTo(delivered.get(0).signature());

        // The broken receiver got only what it asked for, 4 attempts, then was given up on and caught up.
        deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        JsonNode hooks;
        do {
            hooks = ext("GET", "/webhooks", null);
            Thread.sleep(50);
        } while (!hooks.path("items").get(1).path("deliveredEventId").asText().equals(woke.path("lastEventId").asText()) && System.nanoTime() < deadline);
        var brokenState = hooks.path("items").get(1);
        assertThat(brokenState.path("failedDeliveries").asLong()).isEqualTo(1);
        assertThat(brokenState.path("lastError").asText()).contains("answered 500");
        assertThat(hooks.path("items").get(0).path("failedDeliveries").asLong()).isZero();
        assertThat(ext("DELETE", "/webhooks/" + broken.path("id").asText(), null).path("_status").asInt()).isEqualTo(204);
        assertThat(ext("GET", "/webhooks", null).path("items").size()).isEqualTo(1);
    }

    @Test
    void badWebhooksAndFeedParametersAreRefused() throws Exception {
        var cases = List.of(
                new String[] {"{\"url\": \"ftp://x/y\", \"secret\": \"" + SECRET + "\"}", "url: 'ftp://x/y' is not an absolute http"},
                new String[] {"{\"url\": \"not a url\", \"secret\": \"" + SECRET + "\"}", "url: 'not a url'"},
                new String[] {"{\"secret\": \"" + SECRET + "\"}", "url: required"},
                new String[] {"{\"url\": \"http://127.0.0.1:9/h\", \"secret\": \"short\"}", "secret: required, 16 to 256 characters"},
                new String[] {"{\"url\": \"http://127.0.0.1:9/h\", \"secret\": \"" + SECRET + "\", \"events\": [\"VERSION_EXPLODED\"]}", "events: \"VERSION_EXPLODED\" is not one of"},
                new String[] {"{\"url\": \"http://127.0.0.1:9/h\", \"secret\": \"" + SECRET + "\", \"events\": []}", "events: must be a non-empty array"},
                new String[] {"{\"url\": \"http://127.0.0.1:9/h\", \"secret\": \"" + SECRET + "\", \"headers\": {}}", "unknown field \"headers\""});
        for (var c : cases) {
            var r = ext("POST", "/webhooks", c[0]);
            assertThat(r.path("_status").asInt()).as(c[0]).isEqualTo(400);
            assertThat(r.path("message").asText()).as(c[0]).contains(c[1]);
        }
        assertThat(ext("GET", "/webhooks", null).path("items").size()).isZero();
        assertThat(ext("GET", "/events?watch=61", null).path("message").asText()).startsWith("watch: '61' is not 0 to 60");
        assertThat(ext("GET", "/events?after=-1", null).path("_status").asInt()).isEqualTo(400);
        assertThat(ext("GET", "/events?limit=0", null).path("_status").asInt()).isEqualTo(400);
        assertThat(ext("DELETE", "/webhooks/99999", null).path("_status").asInt()).isEqualTo(404);
    }
}
