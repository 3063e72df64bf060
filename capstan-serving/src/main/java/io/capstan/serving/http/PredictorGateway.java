package io.capstan.serving.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.capstan.serving.api.InferenceEndpoint;
import io.capstan.serving.api.InferenceException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;

/**
 * The predictor as a transformer sees it: {@code --predictor_host} points here, on 127.0.0.1, and KServe's predictor
 * routes ({@code POST /v1/models/{name}:predict}, {@code POST /v2/models/{name}/infer}, readiness and metadata) go
 * to the predictor revision in-process, through its admission, replicas and metrics. A loopback port of its own keeps
 * the transformer off the public endpoint and its tokens.
 */
public final class PredictorGateway implements AutoCloseable {
    private final HttpServer server;
    private final InferenceEndpoint predictor;
    private final V1Protocol v1;
    private final String namespace;
    private final String name;
    private final int maxBodyBytes;

    /** @param predictor answers for model {@code name} in {@code namespace} */
    public PredictorGateway(InferenceEndpoint predictor, String namespace, String name, int maxBodyBytes) throws IOException {
        this.predictor = predictor;
        this.v1 = new V1Protocol(predictor);
        this.namespace = namespace;
        this.name = name;
        this.maxBodyBytes = maxBodyBytes;
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", this::handle);
        server.start();
    }

    /** host:port, as {@code --predictor_host} takes it. */
    public String hostAndPort() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            var path = exchange.getRequestURI().getPath();
            var method = exchange.getRequestMethod();
            int status = 200;
            byte[] body;
            try {
                if (method.equals("GET") && (path.equals("/v2/health/ready") || path.equals("/v2/health/live"))) {
                    body = "{\"ready\":true}".getBytes();
                } else if (method.equals("GET") && (path.equals("/v2/models/" + name + "/ready") || path.equals("/v1/models/" + name))) {
                    boolean ready = predictor.modelReady(namespace, name, null);
                    status = ready ? 200 : 503;
                    body = ("{\"name\":\"" + name + "\",\"ready\":" + ready + "}").getBytes();
                } else if (method.equals("GET") && path.equals("/v2/models/" + name)) {
                    body = OipJson.writeModelMetadata(predictor.modelMetadata(namespace, name, null));
                } else if (method.equals("POST") && path.equals("/v1/models/" + name + ":predict")) {
                    body = v1.predict(namespace, name, read(exchange));
                } else if (method.equals("POST") && path.equals("/v2/models/" + name + "/infer")) {
                    var response = predictor.infer(namespace, name, null, OipJson.readRequest(read(exchange)));
                    body = OipJson.writeResponse(response);
                } else {
                    status = 404;
                    body = OipJson.writeError("the predictor of '" + name + "' has no route " + method + " " + OipJson.printable(path));
                }
            } catch (InferenceException e) {
                status = e.error().httpStatus();
                body = OipJson.writeError(e.getMessage());
            } catch (TooLarge e) {
                status = 413;
                body = OipJson.writeError(e.getMessage());
            } catch (RuntimeException e) {
                status = 500;
                body = OipJson.writeError("internal error: " + e.getClass().getSimpleName() + ": " + e.getMessage());
            }
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(status, body.length);
            exchange.getResponseBody().write(body);
        }
    }

    private byte[] read(HttpExchange exchange) throws IOException {
        var body = exchange.getRequestBody().readNBytes(maxBodyBytes + 1);
        if (body.length > maxBodyBytes) throw new TooLarge("the request body is over the limit of " + maxBodyBytes + " bytes");
        return body;
    }

    private static final class TooLarge extends RuntimeException {
        TooLarge(String message) {
            super(message);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
