package io.capstan.notebooks;

import io.capstan.core.NotFoundException;
import io.capstan.core.TransientException;
import io.capstan.core.security.AccessPolicy;
import io.capstan.core.security.Caller;
import io.capstan.core.security.Role;
import io.capstan.core.security.UnauthenticatedException;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;

/**
 * {@code /notebook/<namespace>/<name>/...}: HTTP to the notebook's server, as Istio's route does in Kubeflow, for
 * callers who may edit the namespace (a notebook runs code as the namespace's editor, so viewing is not enough). The
 * caller's Capstan token stays here; the server gets its own, which only Capstan knows. WebSockets go through
 * {@link NotebookSocket}.
 */
final class NotebookProxy implements HttpService {
    /**
     * Hop-by-hop headers, those the upstream request sets itself, and Origin: Capstan's browser guard has judged it,
     * and Jupyter would refuse an origin that is not its own 127.0.0.1 address.
     */
    private static final Set<String> NOT_FORWARDED = Set.of("connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
            "te", "trailer", "trailers", "transfer-encoding", "upgrade", "host", "content-length", "authorization", "expect",
            "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "http2-settings", "origin");
    static final Duration REQUEST_TIMEOUT = Duration.ofMinutes(10);

    private final Notebooks notebooks;
    private final AccessPolicy policy;
    private final HttpClient http;

    NotebookProxy(Notebooks notebooks, AccessPolicy policy, HttpClient http) {
        this.notebooks = notebooks;
        this.policy = policy;
        this.http = http;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.any("/notebook/{namespace}/{name}", this::forward)
                .any("/notebook/{namespace}/{name}/*", this::forward);
    }

    private void forward(ServerRequest req, ServerResponse res) throws IOException {
        var namespace = req.path().pathParameters().get("namespace");
        var name = req.path().pathParameters().get("name");
        var caller = req.context().get(Caller.class).orElseThrow(() -> new UnauthenticatedException(
                "a notebook needs a token: send 'Authorization: Bearer <token>'"));
        policy.require(caller, namespace, Role.EDIT);
        var upstream = notebooks.upstream(namespace, name);
        var rawPath = req.path().rawPath();
        if (rawPath.equals(NotebookLaunch.basePath(namespace, name).replaceAll("/$", ""))) {
            res.status(Status.MOVED_PERMANENTLY_301).header(HeaderNames.LOCATION, rawPath + "/").send();
            return;
        }
        var query = req.query().rawValue();
        var uri = URI.create("http://" + upstream.authority() + upstream.pathFor(rawPath) + (query.isEmpty() ? "" : "?" + query));
        var builder = HttpRequest.newBuilder(uri).timeout(REQUEST_TIMEOUT);
        req.headers().forEach(h -> {
            if (!NOT_FORWARDED.contains(h.name().toLowerCase(Locale.ROOT))) {
                for (var v : h.allValues()) builder.header(h.name(), v);
            }
        });
        if (!upstream.token().isEmpty()) builder.header("Authorization", "token " + upstream.token());
        HttpRequest.BodyPublisher body;
        if (!req.content().hasEntity()) {
            body = HttpRequest.BodyPublishers.noBody();
        } else {
            var length = req.headers().contentLength();
            var stream = HttpRequest.BodyPublishers.ofInputStream(() -> req.content().inputStream());
            body = length.isPresent() ? HttpRequest.BodyPublishers.fromPublisher(stream, length.getAsLong()) : stream;
        }
        builder.method(req.prologue().method().text(), body);
        HttpResponse<InputStream> answer;
        try {
            answer = http.send(builder.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw new TransientException("notebook " + namespace + "/" + name + " does not answer (" + e.getMessage()
                    + "); it may be starting or stopping: see 'capstan notebooks list'", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransientException("interrupted while forwarding to notebook " + namespace + "/" + name, e);
        }
        res.status(Status.create(answer.statusCode()));
        answer.headers().map().forEach((header, values) -> {
            var lower = header.toLowerCase(Locale.ROOT);
            if (lower.equals(":status") || (NOT_FORWARDED.contains(lower) && !lower.equals("content-length"))) return;
            res.header(header, values.toArray(String[]::new));
        });
        try (var in = answer.body(); var out = res.outputStream()) {
            in.transferTo(out);
        }
    }

    /** Wraps a missing notebook into the exception the HTTP edge answers with. */
    static NotFoundException notFound(String namespace, String name) {
        return new NotFoundException("notebook " + namespace + "/" + name + " does not exist; 'capstan notebooks list' shows those that do");
    }
}
