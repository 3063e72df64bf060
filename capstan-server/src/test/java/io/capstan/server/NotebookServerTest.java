package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Kubeflow Notebook on a real server: Debian's Jupyter Notebook on the host, reached through {@code /notebook/}
 * with Capstan's tokens only, a kernel run over the proxied WebSocket, stop and start by the annotation.
 */
class NotebookServerTest {
    static final String PATH = "/apis/capstan/v1/namespaces/default/notebooks/lab";
    static final String NOTEBOOK = """
            apiVersion: kubeflow.org/v1
            kind: Notebook
            metadata:
              name: lab
              namespace: default
              annotations: {notebooks.kubeflow.org/server-type: jupyter}
            spec:
              template:
                spec:
                  containers:
                  - name: lab
                    image: kubeflownotebookswg/jupyter-scipy:v1.8.0
                    env: [{name: GREETING, value: hello}]
                    resources: {requests: {cpu: 500m, memory: 256Mi}}
                    volumeMounts: [{name: workspace, mountPath: /home/jovyan}]
                  volumes:
                  - name: workspace
                    persistentVolumeClaim: {claimName: lab-workspace}
            """;

    @TempDir
    Path home;

    @Test
    void kernelRunsThroughTheProxyForCallersWithAccessOnly() throws Exception {
        try (var server = new TestServer(home)) {
            long applied = System.nanoTime();
            assertThat(server.apply(NOTEBOOK).status()).isEqualTo(200);
            var status = awaitPhase(server, "Running");
            long readyMillis = (System.nanoTime() - applied) / 1_000_000;
            System.out.println("FIGURE notebook apply-to-ready " + readyMillis + " ms");
            assertThat(status.path("readyReplicas").asInt()).isEqualTo(1);
            assertThat(status.path("url").asText()).isEqualTo("/notebook/default/lab/");

            var admin = server.adminToken();
            var kernels = proxied(server, admin, "GET", "api/kernels", null);
            assertThat(kernels.statusCode()).as(kernels.body()).isEqualTo(200);
            assertThat(Json.json().readTree(kernels.body()).isArray()).isTrue();
            var started = proxied(server, admin, "POST", "api/kernels", "{\"name\": \"python3\"}");
            assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
            var kernelId = Json.json().readTree(started.body()).path("id").asText();

            assertThat(execute(server, admin, kernelId, "1+1")).isEqualTo("2");
            // The server runs in its workspace with Capstan's settings in its environment.
            assertThat(execute(server, admin, kernelId, "import os; ' | '.join([os.getcwd(), os.environ['GREETING'], os.environ['CAPSTAN_SERVER'], "
                    + "os.environ['NB_PREFIX'], str(len(os.environ['CAPSTAN_TOKEN']) > 0)])"))
                    .isEqualTo("'" + status.path("workspace").asText() + " | hello | " + server.server.url() + " | /notebook/default/lab | True'");
            assertThat(status.path("workspace").asText()).endsWith("volumes/default/lab-workspace");
            // From a cell, CAPSTAN_TOKEN works as the namespace's editor (Capstan's API and the KFP API), and nowhere else.
            assertThat(execute(server, admin, kernelId, """
                    import os, urllib.request, urllib.error
                    def status(path):
                        request = urllib.request.Request(os.environ['CAPSTAN_SERVER'] + path,
                                                         headers={'Authorization': 'Bearer ' + os.environ['CAPSTAN_TOKEN']})
                        try:
                            return urllib.request.urlopen(request, timeout=10).status
                        except urllib.error.HTTPError as e:
                            return e.code
                    (status('/apis/capstan/v1/namespaces/default/notebooks'), status('/apis/v2beta1/experiments?namespace=default'),
                     status('/apis/capstan/v1/namespaces/team-b/notebooks'))""")).isEqualTo("(200, 200, 403)");

            // The notebook's Jupyter token is Capstan's secret: not in the resource, and a user never needs it.
            var token = Files.readString(home.resolve("work/notebooks/tokens").resolve(server.get(PATH).json().path("metadata").path("uid").asText())).strip();
            assertThat(token).hasSize(64);
            assertThat(server.get(PATH).body()).doesNotContain(token);
            assertThat(server.get("/apis/capstan/v1/namespaces/default/notebooks").body()).doesNotContain(token);

            // Someone with no role in the namespace gets 403, for HTTP and for the kernel's WebSocket; no token gets 401.
            var eve = server.server.tokens().createUserToken("eve@example.com", Optional.empty(), "").token();
            assertThat(proxied(server, eve, "GET", "api/kernels", null).statusCode()).isEqualTo(403);
            assertThat(proxied(server, eve, "DELETE", "api/kernels/" + kernelId, null).statusCode()).isEqualTo(403);
            assertThatThrownBy(() -> openKernel(server, eve, kernelId, new LinkedBlockingQueue<>()))
                    .isInstanceOf(CompletionException.class).cause().isInstanceOf(WebSocketHandshakeException.class)
                    .satisfies(e -> assertThat(((WebSocketHandshakeException) e).getResponse().statusCode()).isEqualTo(403));
            assertThat(proxied(server, null, "GET", "api/kernels", null).statusCode()).isEqualTo(401);
            // An editor of another namespace cannot climb into this one with dot segments, raw or encoded.
            assertThat(server.apply(TenancyMatrixTest.profile("team-t", "tina@example.com")).status()).isEqualTo(200);
            var tina = server.server.tokens().createUserToken("tina@example.com", Optional.empty(), "").token();
            for (var sneaky : java.util.List.of("/notebook/team-t/../default/lab/api/kernels", "/notebook/team-t/%2e%2e/default/lab/api/kernels",
                    "/notebook/team-t/..%2fdefault/lab/api/kernels")) {
                var reply = server.sendRaw("GET", sneaky, java.util.Map.of("Host", "127.0.0.1", "Authorization", "Bearer " + tina), null);
                assertThat(reply.status()).as(sneaky + ": " + reply.body()).isIn(400, 403, 404);
                assertThat(reply.body()).doesNotContain(kernelId);
            }
            // The kernel is still there: the refused DELETE never reached the server.
            assertThat(proxied(server, admin, "GET", "api/kernels/" + kernelId, null).statusCode()).isEqualTo(200);

            // The proxy's added latency: the same request to the server directly and through Capstan, interleaved.
            int port = status.path("port").asInt();
            var direct = new ArrayList<Long>();
            var viaProxy = new ArrayList<Long>();
            var api = new ArrayList<Long>();
            for (int i = 0; i < 300; i++) {
                direct.add(timed(() -> directGet(server, port, token)));
                viaProxy.add(timed(() -> proxied(server, admin, "GET", "api/status", null)));
                api.add(timed(() -> server.get(PATH)));
            }
            long directMedian = median(direct.subList(50, 300));
            long proxyMedian = median(viaProxy.subList(50, 300));
            System.out.printf("FIGURE notebook proxy GET api/status median direct %d us, via Capstan %d us, added %d us;"
                    + " for scale, Capstan's own GET of the Notebook %d us%n", directMedian / 1000, proxyMedian / 1000,
                    (proxyMedian - directMedian) / 1000, median(api.subList(50, 300)) / 1000);
            // The same for a kernel's messages: 1+1 over the proxied socket and over the server's own.
            var viaProxyMessages = new LinkedBlockingQueue<String>();
            var viaProxySocket = openKernel(server, admin, kernelId, viaProxyMessages);
            var directMessages = new LinkedBlockingQueue<String>();
            var directSocket = HttpClient.newHttpClient().newWebSocketBuilder().header("Authorization", "token " + token)
                    .buildAsync(URI.create("ws://127.0.0.1:" + port + "/notebook/default/lab/api/kernels/" + kernelId + "/channels"),
                            new WebSocket.Listener() {
                                private final StringBuilder partial = new StringBuilder();

                                @Override
                                public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                                    partial.append(data);
                                    if (last) {
                                        directMessages.add(partial.toString());
                                        partial.setLength(0);
                                    }
                                    ws.request(1);
                                    return null;
                                }
                            }).join();
            long kernelDirect = medianExecuteNanos(directSocket, directMessages);
            long kernelProxied = medianExecuteNanos(viaProxySocket, viaProxyMessages);
            System.out.printf("FIGURE notebook kernel 1+1 round trip median direct %d us, via Capstan %d us, added %d us%n",
                    kernelDirect / 1000, kernelProxied / 1000, (kernelProxied - kernelDirect) / 1000);
            viaProxySocket.sendClose(WebSocket.NORMAL_CLOSURE, "done");
            directSocket.sendClose(WebSocket.NORMAL_CLOSURE, "done");
            deleteAndAwaitGone(server, port);
        }
    }

    @Test
    void stopAndStartKeepTheWorkspace() throws Exception {
        try (var server = new TestServer(home)) {
            assertThat(server.apply(NOTEBOOK).status()).isEqualTo(200);
            var status = awaitPhase(server, "Running");
            var admin = server.adminToken();
            var saved = proxied(server, admin, "PUT", "api/contents/notes.txt",
                    "{\"type\": \"file\", \"format\": \"text\", \"content\": \"kept across stops\"}");
            assertThat(saved.statusCode()).as(saved.body()).isIn(200, 201);
            var file = Path.of(status.path("workspace").asText()).resolve("notes.txt");
            assertThat(file).hasContent("kept across stops");

            setStopped(server, true);
            var stopped = awaitPhase(server, "Stopped");
            assertThat(stopped.path("readyReplicas").asInt()).isZero();
            assertThat(directStatus(status.path("port").asInt())).as("the server process is gone").isFalse();
            assertThat(proxied(server, admin, "GET", "api/status", null).statusCode()).isEqualTo(503);
            assertThat(file).hasContent("kept across stops");

            setStopped(server, false);
            awaitPhase(server, "Running");
            var read = proxied(server, admin, "GET", "api/contents/notes.txt", null);
            assertThat(read.statusCode()).isEqualTo(200);
            assertThat(Json.json().readTree(read.body()).path("content").asText()).isEqualTo("kept across stops");
            deleteAndAwaitGone(server, server.get(PATH).json().path("status").path("port").asInt());
            assertThat(file).as("the workspace outlives the Notebook, as a PVC does").hasContent("kept across stops");
            // Its Jupyter token does not.
            var tokens = home.resolve("work/notebooks/tokens");
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (Files.list(tokens).findAny().isPresent() && System.nanoTime() < deadline) Thread.sleep(100);
            assertThat(tokens).isEmptyDirectory();
        }
    }

    /** Deletes the notebook, whose server a closed Capstan would otherwise leave running for the next one to re-adopt. */
    static void deleteAndAwaitGone(TestServer server, int port) {
        deleteAndAwaitGone(server, PATH, port);
    }

    /** As {@link #deleteAndAwaitGone(TestServer, int)}, for the Notebook at API path {@code path}. */
    static void deleteAndAwaitGone(TestServer server, String path, int port) {
        assertThat(server.send("DELETE", path, null, null).status()).isEqualTo(200);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (directStatus(port)) {
            if (System.nanoTime() > deadline) throw new AssertionError("the notebook server on port " + port + " outlived its Notebook");
            java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(200).toNanos());
        }
    }

    private static void setStopped(TestServer server, boolean stopped) throws Exception {
        var nb = (ObjectNode) server.get(PATH).json();
        var annotations = (ObjectNode) nb.with("metadata").with("annotations");
        if (stopped) annotations.put("kubeflow-resource-stopped", "2026-01-01T00:00:00Z");
        else annotations.remove("kubeflow-resource-stopped");
        nb.remove("status");
        var put = server.send("PUT", PATH, Json.json().writeValueAsString(nb), "application/json");
        assertThat(put.status()).as(put.body()).isEqualTo(200);
    }

    static JsonNode awaitPhase(TestServer server, String phase) {
        return server.await(PATH, n -> n.path("status").path("phase").asText().equals(phase), Duration.ofSeconds(60)).path("status");
    }

    static HttpResponse<String> proxied(TestServer server, String token, String method, String path, String body) {
        var builder = HttpRequest.newBuilder(URI.create(server.server.url() + "/notebook/default/lab/" + path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) builder.header("Authorization", "Bearer " + token);
        if (body != null) builder.header("Content-Type", "application/json");
        try {
            return server.http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new AssertionError(method + " " + path + ": " + e, e);
        }
    }

    private static HttpResponse<String> directGet(TestServer server, int port, String token) {
        try {
            return server.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/notebook/default/lab/api/status"))
                    .header("Authorization", "token " + token).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static boolean directStatus(int port) {
        try (var s = new java.net.Socket()) {
            s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private static long timed(Runnable r) {
        long t = System.nanoTime();
        r.run();
        return System.nanoTime() - t;
    }

    private static long median(java.util.List<Long> xs) {
        var sorted = xs.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }

    static WebSocket openKernel(TestServer server, String token, String kernelId, LinkedBlockingQueue<String> messages) {
        var uri = URI.create(server.server.url().replace("http://", "ws://") + "/notebook/default/lab/api/kernels/" + kernelId + "/channels");
        return HttpClient.newHttpClient().newWebSocketBuilder().header("Authorization", "Bearer " + token)
                .connectTimeout(Duration.ofSeconds(10))
                .buildAsync(uri, new WebSocket.Listener() {
                    private final StringBuilder partial = new StringBuilder();

                    @Override
                    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                        partial.append(data);
                        if (last) {
                            messages.add(partial.toString());
                            partial.setLength(0);
                        }
                        ws.request(1);
                        return null;
                    }
                }).join();
    }

    /** Runs {@code code} in the kernel over Jupyter's messaging protocol and returns the execute_result's text/plain. */
    static String execute(TestServer server, String token, String kernelId, String code) throws Exception {
        var messages = new LinkedBlockingQueue<String>();
        var ws = openKernel(server, token, kernelId, messages);
        try {
            return execute(ws, messages, code);
        } finally {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "done");
        }
    }

    /** Runs {@code code} over an open kernel socket and returns the execute_result's text/plain. */
    static String execute(WebSocket ws, LinkedBlockingQueue<String> messages, String code) throws Exception {
        var msgId = UUID.randomUUID().toString();
        var request = Json.json().createObjectNode();
        request.putObject("header").put("msg_id", msgId).put("msg_type", "execute_request").put("username", "test")
                .put("session", UUID.randomUUID().toString()).put("version", "5.3").put("date", java.time.Instant.now().toString());
        request.putObject("parent_header");
        request.putObject("metadata");
        request.putObject("content").put("code", code).put("silent", false).put("store_history", false)
                .putObject("user_expressions");
        request.with("content").put("allow_stdin", false).put("stop_on_error", true);
        request.put("channel", "shell");
        ws.sendText(Json.json().writeValueAsString(request), true).get(10, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        var seen = new ArrayList<String>();
        while (System.nanoTime() < deadline) {
            var text = messages.poll(1, TimeUnit.SECONDS);
            if (text == null) continue;
            var msg = Json.json().readTree(text);
            if (!msg.path("parent_header").path("msg_id").asText().equals(msgId)) continue;
            var type = msg.path("header").path("msg_type").asText(msg.path("msg_type").asText());
            seen.add(type);
            if (type.equals("execute_result")) return msg.path("content").path("data").path("text/plain").asText();
            if (type.equals("error")) throw new AssertionError("the kernel failed: " + msg.path("content"));
        }
        throw new AssertionError("no execute_result for " + code + "; saw " + seen + " " + Arrays.toString(messages.toArray()));
    }

    /** Median time of {@code 1+1} over an open kernel socket, after a warm-up. */
    static long medianExecuteNanos(WebSocket ws, LinkedBlockingQueue<String> messages) throws Exception {
        var times = new ArrayList<Long>();
        for (int i = 0; i < 60; i++) {
            long t = System.nanoTime();
            assertThat(execute(ws, messages, "1+1")).isEqualTo("2");
            if (i >= 10) times.add(System.nanoTime() - t);
            messages.clear();
        }
        return median(times);
    }
}
