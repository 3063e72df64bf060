package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A VS Code ({@code group-one}) Notebook on a real server: code-server on the host, its workbench and its WebSocket
 * reached through {@code /notebook/} with Capstan's token, the base path rewritten to code-server's root (by default for
 * group-one, as Kubeflow's web app annotates such notebooks with {@code notebooks.kubeflow.org/http-rewrite-uri: /}).
 */
class VsCodeNotebookServerTest {
    static final String PATH = "/apis/capstan/v1/namespaces/default/notebooks/code";
    static final String NOTEBOOK = """
            apiVersion: kubeflow.org/v1
            kind: Notebook
            metadata:
              name: code
              namespace: default
              annotations: {notebooks.kubeflow.org/server-type: group-one}
            spec:
              template:
                spec:
                  containers: [{name: code, image: kubeflownotebookswg/codeserver-python:v1.8.0}]
            """;

    @TempDir
    Path home;

    /** code-server as the server finds it; CI installs it (.ci/code-server.sh), so there its absence fails the test. */
    static void requireCodeServer() {
        var program = System.getenv().getOrDefault("CAPSTAN_CODE_SERVER", "code-server");
        boolean present = program.contains("/") ? Files.isExecutable(Path.of(program))
                : java.util.Arrays.stream(System.getenv().getOrDefault("PATH", "").split(":"))
                .anyMatch(d -> !d.isEmpty() && Files.isExecutable(Path.of(d, program)));
        if (!present && "true".equals(System.getenv("CI"))) throw new AssertionError("CI needs code-server on PATH: .ci/code-server.sh installs it");
        if (!present) System.err.println("SKIPPED: code-server is not on PATH; .ci/code-server.sh installs it (npm, Node 20)");
        assumeTrue(present, "needs code-server on PATH (.ci/code-server.sh installs it from the npm registry)");
    }

    @Test
    void theWorkbenchAndItsWebSocketGoThroughTheProxyWithCapstansTokenOnly() throws Exception {
        requireCodeServer();
        try (var server = new TestServer(home)) {
            assertThat(server.apply(NOTEBOOK).status()).isEqualTo(200);
            var status = server.await(PATH, n -> n.path("status").path("phase").asText().equals("Running"), Duration.ofSeconds(90)).path("status");
            assertThat(status.path("url").asText()).isEqualTo("/notebook/default/code/");
            var workspace = status.path("workspace").asText();
            var admin = server.adminToken();

            // code-server sends the browser to the workspace folder, relative to the base path the browser sees.
            var root = get(server, admin, "");
            assertThat(root.statusCode()).as(root.body()).isEqualTo(302);
            assertThat(root.headers().firstValue("Location").orElseThrow()).isEqualTo("./?folder=" + workspace);
            var page = get(server, admin, "?folder=" + workspace);
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/html");
            assertThat(page.body()).contains("vscode-workbench-web-configuration").contains("workbench.css");
            // Its assets are relative: under the base path, rewritten to code-server's root.
            var css = Pattern.compile("href=\"\\./([^\"]+/workbench\\.css)\"").matcher(page.body());
            assertThat(css.find()).as(page.body()).isTrue();
            var stylesheet = get(server, admin, css.group(1));
            assertThat(stylesheet.statusCode()).isEqualTo(200);
            assertThat(stylesheet.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/css");

            // Without Capstan's token: nothing reaches code-server, though code-server itself asks for none.
            assertThat(get(server, null, "?folder=" + workspace).statusCode()).isEqualTo(401);
            var uri = URI.create(server.server.url().replace("http://", "ws://") + "/notebook/default/code/?reconnectionToken="
                    + UUID.randomUUID() + "&reconnection=false&skipWebSocketFrames=false");
            assertThatThrownBy(() -> HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(uri, new WebSocket.Listener() {
            }).join()).isInstanceOf(CompletionException.class).cause().isInstanceOf(WebSocketHandshakeException.class);

            // The workbench's WebSocket: Capstan accepts the upgrade only once code-server has accepted its own, and
            // the two then stay connected until the caller closes.
            var closed = new LinkedBlockingQueue<Integer>();
            var ws = HttpClient.newHttpClient().newWebSocketBuilder().header("Authorization", "Bearer " + admin)
                    .connectTimeout(Duration.ofSeconds(10)).buildAsync(uri, new WebSocket.Listener() {
                        @Override
                        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
                            closed.add(statusCode);
                            return null;
                        }
                    }).get(30, TimeUnit.SECONDS);
            assertThat(closed.poll(2, TimeUnit.SECONDS)).as("code-server kept the socket open").isNull();
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(10, TimeUnit.SECONDS);

            // Deleted, and gone before this server closes: a closed Capstan leaves a notebook running for the next to re-adopt.
            NotebookServerTest.deleteAndAwaitGone(server, PATH, status.path("port").asInt());
        }
    }

    private static HttpResponse<String> get(TestServer server, String token, String path) {
        var builder = HttpRequest.newBuilder(URI.create(server.server.url() + "/notebook/default/code/" + path)).timeout(Duration.ofSeconds(30));
        if (token != null) builder.header("Authorization", "Bearer " + token);
        try {
            return server.http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new AssertionError("GET " + path + ": " + e, e);
        }
    }
}
