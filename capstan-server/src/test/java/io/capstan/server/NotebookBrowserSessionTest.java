package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.Json;
import io.capstan.ui.UiSession;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A browser logged in to the UI with its session cookie uses a notebook as Jupyter's page does: it opens the page,
 * starts a kernel with a POST that carries no {@code X-Capstan-CSRF} (Jupyter's script cannot send it) but the page's
 * own {@code Origin}, and runs code over the kernel's WebSocket with the cookie. A request with the cookie from
 * another origin, or with neither an Origin nor the CSRF header, is refused.
 */
class NotebookBrowserSessionTest {
    @TempDir
    Path home;

    @Test
    void aSessionCookieOpensTheNotebookAndStartsAKernelFromItsOwnOriginOnly() throws Exception {
        try (var server = new TestServer(home)) {
            assertThat(server.apply(NotebookServerTest.NOTEBOOK).status()).isEqualTo(200);
            NotebookServerTest.awaitPhase(server, "Running");
            var cookie = UiSession.COOKIE + "=" + server.adminToken();
            var base = server.server.url();

            var page = send(server, "GET", "tree", null, Map.of("Cookie", cookie));
            assertThat(page.statusCode()).as(page.body()).isEqualTo(200);
            assertThat(page.body()).contains("<html").contains("/notebook/default/lab/static/");

            var plain = send(server, "POST", "api/kernels", "{\"name\": \"python3\"}", Map.of("Cookie", cookie));
            assertThat(plain.statusCode()).as("no Origin, no CSRF header: " + plain.body()).isEqualTo(403);
            assertThat(plain.body()).contains(UiSession.CSRF_HEADER);
            var foreign = send(server, "POST", "api/kernels", "{\"name\": \"python3\"}", Map.of("Cookie", cookie, "Origin", "http://evil.example"));
            assertThat(foreign.statusCode()).as(foreign.body()).isEqualTo(403);
            var sibling = send(server, "POST", "api/kernels", "{\"name\": \"python3\"}",
                    Map.of("Cookie", cookie, "Sec-Fetch-Site", "same-site"));
            assertThat(sibling.statusCode()).as(sibling.body()).isEqualTo(403);
            var kernels = Json.json().readTree(send(server, "GET", "api/kernels", null, Map.of("Cookie", cookie)).body());
            assertThat(kernels.size()).as("the refused POSTs started no kernel").isZero();

            var started = send(server, "POST", "api/kernels", "{\"name\": \"python3\"}", Map.of("Cookie", cookie, "Origin", base));
            assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
            var kernelId = Json.json().readTree(started.body()).path("id").asText();
            var fetched = send(server, "POST", "api/kernels", "{\"name\": \"python3\"}", Map.of("Cookie", cookie, "Sec-Fetch-Site", "same-origin"));
            assertThat(fetched.statusCode()).as(fetched.body()).isEqualTo(201);
            // The Origin of a session-cookie request is judged by Capstan, and Jupyter sees none it would refuse.
            var interrupted = send(server, "POST", "api/kernels/" + kernelId + "/interrupt", null, Map.of("Cookie", cookie, "Origin", base));
            assertThat(interrupted.statusCode()).as(interrupted.body()).isEqualTo(204);

            // The kernel's WebSocket, as the page opens it: the cookie and the page's Origin, no Authorization.
            var messages = new LinkedBlockingQueue<String>();
            var ws = socket(base, kernelId, Map.of("Cookie", cookie, "Origin", base), messages);
            try {
                assertThat(NotebookServerTest.execute(ws, messages, "1+1")).isEqualTo("2");
            } finally {
                ws.sendClose(WebSocket.NORMAL_CLOSURE, "done");
            }
            assertThat(refused(() -> socket(base, kernelId, Map.of("Cookie", cookie, "Origin", "http://evil.example"), new LinkedBlockingQueue<>())))
                    .isEqualTo(403);
            assertThat(refused(() -> socket(base, kernelId, Map.of("Cookie", UiSession.COOKIE + "=not-a-token", "Origin", base), new LinkedBlockingQueue<>())))
                    .isIn(401, 403);
        }
    }

    private static HttpResponse<String> send(TestServer server, String method, String path, String body, Map<String, String> headers) throws Exception {
        var builder = HttpRequest.newBuilder(URI.create(server.server.url() + "/notebook/default/lab/" + path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        new LinkedHashMap<>(headers).forEach(builder::header);
        if (body != null) builder.header("Content-Type", "application/json");
        return server.http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The status of a refused WebSocket handshake. */
    private static int refused(Runnable open) {
        try {
            open.run();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof java.net.http.WebSocketHandshakeException h) return h.getResponse().statusCode();
            throw e;
        }
        throw new AssertionError("the WebSocket opened");
    }

    private static WebSocket socket(String base, String kernelId, Map<String, String> headers, LinkedBlockingQueue<String> messages) {
        var builder = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10));
        headers.forEach(builder::header);
        return builder.buildAsync(URI.create(base.replace("http://", "ws://") + "/notebook/default/lab/api/kernels/" + kernelId + "/channels"),
                new WebSocket.Listener() {
                    private final StringBuilder partial = new StringBuilder();

                    @Override
                    public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                        partial.append(data);
                        if (last) {
                            messages.add(partial.toString());
                            partial.setLength(0);
                        }
                        w.request(1);
                        return null;
                    }
                }).join();
    }
}
