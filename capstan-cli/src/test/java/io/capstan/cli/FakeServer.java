package io.capstan.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

/**
 * A stand-in for the Capstan server at the HTTP edge: canned answers per method and path, and a record of every
 * request, so that client-side behaviour (rendering, errors, exit codes) is tested without the real server.
 */
final class FakeServer implements AutoCloseable {
    static final String KINDS = """
            {"items":[{"kind":"Job","apiVersion":"capstan.io/v1","plural":"jobs","shortNames":["job"]}]}""";

    /** What the fake answers: a status, a content type and a body written in one or more chunks. */
    record Answer(int status, String contentType, List<String> chunks, long pauseMillis) {
        static Answer json(int status, String body) {
            return new Answer(status, "application/json", List.of(body), 0);
        }

        static Answer problem(int status, String body) {
            return new Answer(status, "application/problem+json", List.of(body), 0);
        }

        static Answer text(String body) {
            return new Answer(200, "text/plain", List.of(body), 0);
        }

        /** Sends headers at once and each chunk after a pause, as a follow or a watch does. */
        static Answer streamed(String contentType, long pauseMillis, String... chunks) {
            return new Answer(200, contentType, List.of(chunks), pauseMillis);
        }
    }

    /** A request the fake received. */
    record Request(String method, String path, String query, String contentType, String body) {
    }

    private final HttpServer server;
    private final Map<String, Answer> answers = new ConcurrentHashMap<>();
    final List<Request> requests = new CopyOnWriteArrayList<>();

    FakeServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", this::handle);
        answer("GET", "/apis/capstan/v1/kinds", Answer.json(200, KINDS));
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** Sets the answer to {@code method path}; a path ending in {@code ?watch} answers watch requests. */
    FakeServer answer(String method, String path, Answer answer) {
        answers.put(method + " " + path, answer);
        return this;
    }

    Request last(String method) {
        return requests.reversed().stream().filter(r -> r.method().equals(method)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + method + " request among " + requests));
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            var uri = exchange.getRequestURI();
            var body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            requests.add(new Request(exchange.getRequestMethod(), uri.getPath(), uri.getRawQuery() == null ? "" : uri.getRawQuery(),
                    exchange.getRequestHeaders().getFirst("Content-Type"), body));
            var watch = uri.getRawQuery() != null && uri.getRawQuery().contains("watch=true") ? "?watch" : "";
            var answer = answers.getOrDefault(exchange.getRequestMethod() + " " + uri.getPath() + watch, Answer.problem(404,
                    "{\"title\":\"Not Found\",\"status\":404,\"detail\":\"no route " + uri.getPath() + "\"}"));
            exchange.getResponseHeaders().set("Content-Type", answer.contentType());
            boolean streamed = answer.pauseMillis() > 0;
            exchange.sendResponseHeaders(answer.status(), streamed ? 0 : bytes(answer.chunks()).length);
            OutputStream out = exchange.getResponseBody();
            out.flush();
            for (var chunk : answer.chunks()) {
                if (streamed) pause(answer.pauseMillis());
                out.write(chunk.getBytes(StandardCharsets.UTF_8));
                out.flush();
            }
        }
    }

    private static byte[] bytes(List<String> chunks) {
        return String.join("", chunks).getBytes(StandardCharsets.UTF_8);
    }

    private static void pause(long millis) {
        // The fake plays a slow server; the pause is on the server side, never in a test's own flow.
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UncheckedIOException(new IOException("interrupted", e));
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
