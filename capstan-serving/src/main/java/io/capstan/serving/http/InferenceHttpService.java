package io.capstan.serving.http;

import io.capstan.core.security.AccessDeniedException;
import io.capstan.core.security.AccessPolicy;
import io.capstan.core.security.Caller;
import io.capstan.core.security.Role;
import io.capstan.serving.api.InferenceEndpoint;
import io.capstan.serving.api.InferenceException;
import io.capstan.serving.api.InvalidInputException;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Status;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * The Open Inference Protocol v2 REST API and KServe's V1 API over an {@link InferenceEndpoint}.
 * Register it at the root of the server's routing. Routes:
 * <ul>
 *   <li>{@code GET /v2}, {@code /v2/health/live}, {@code /v2/health/ready}</li>
 *   <li>{@code GET /v2/models/{name}[/versions/{v}]}, {@code .../ready}; {@code POST .../infer}</li>
 *   <li>{@code GET /v1/models} (the names of the namespace's models), {@code GET /v1/models/{name}},
 *       {@code POST /v1/models/{name}:predict}</li>
 *   <li>{@code POST /serving/{namespace}/graphs/{name}} (and {@code /graphs/{name}}): an InferenceGraph</li>
 *   <li>each model route also as {@code /serving/{namespace}/v2/...} and {@code /serving/{namespace}/v1/...};
 *       the short form addresses namespace {@code default}</li>
 * </ul>
 * Errors are the protocol's {@code {"error": "..."}} bodies (not problem+json, which the OIP spec
 * does not allow): 400 bad input, 404 unknown model, 413 a body over the model's limit, 429 overloaded,
 * 503 not ready.
 */
public final class InferenceHttpService implements HttpService {
    private static final System.Logger LOG = System.getLogger(InferenceHttpService.class.getName());
    /** Largest request body accepted by default: 16 MiB; an InferenceService may set its own. */
    public static final int DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
    /** The annotation that sets an InferenceService's own limit, in bytes (or with a Ki, Mi or Gi suffix). */
    public static final String MAX_REQUEST_BYTES_ANNOTATION = "serving.capstan.io/max-request-bytes";
    /** The largest limit an InferenceService may set: 1 GiB. */
    public static final int MAX_REQUEST_BYTES_CEILING = 1024 * 1024 * 1024;
    private static final byte[] LIVE = "{\"live\":true}".getBytes();
    private static final byte[] READY = "{\"ready\":true}".getBytes();
    private static final String INFER_PREFIX = "/v2/models/";
    private static final String VERSIONS = "/versions/";

    private final InferenceEndpoint endpoint;
    private final int maxBodyBytes;
    private final V1Protocol v1;
    private final InferenceGraphs graphs;
    private final AccessPolicy policy;
    private final InferenceSpans spans;

    /** @param graphs the InferenceGraphs served at {@code POST /serving/{namespace}/graphs/{name}}; may be null */
    public InferenceHttpService(InferenceEndpoint endpoint, int maxBodyBytes, InferenceGraphs graphs) {
        this(endpoint, maxBodyBytes, graphs, AccessPolicy.serverAdminOnly());
    }

    /**
     * As the other constructors, authorising each model route with {@code policy}: view in the model's namespace.
     *
     * <p>The rule for requests without a caller: the server's authentication filter registers a {@link Caller} in
     * the request's context for every request it authenticates, and lets a request through without one only where
     * no token is needed; on these routes that is an InferenceService whose owner opted out of authentication. So a
     * request that reaches a model route without a caller is served, and one with a caller needs view.
     */
    public InferenceHttpService(InferenceEndpoint endpoint, int maxBodyBytes, InferenceGraphs graphs, AccessPolicy policy) {
        this(endpoint, maxBodyBytes, graphs, policy, io.capstan.core.tracing.Traces.off());
    }

    /**
     * As the four-argument constructor, with a span per inference request from {@code tracer}: a child of the
     * request's {@code traceparent} header where it has one.
     */
    public InferenceHttpService(InferenceEndpoint endpoint, int maxBodyBytes, InferenceGraphs graphs, AccessPolicy policy,
                                io.opentelemetry.api.trace.Tracer tracer) {
        this.spans = new InferenceSpans(tracer);
        this.policy = java.util.Objects.requireNonNull(policy, "policy");
        this.endpoint = endpoint;
        this.maxBodyBytes = maxBodyBytes;
        this.v1 = new V1Protocol(endpoint);
        this.graphs = graphs;
    }

    /** This service with each model route authorised by {@code policy}, as the four-argument constructor describes. */
    public InferenceHttpService withAccessPolicy(AccessPolicy policy) {
        return new InferenceHttpService(endpoint, maxBodyBytes, graphs, policy, spans.tracer());
    }

    public InferenceHttpService(InferenceEndpoint endpoint, int maxBodyBytes) {
        this(endpoint, maxBodyBytes, null);
    }

    public InferenceHttpService(InferenceEndpoint endpoint) {
        this(endpoint, DEFAULT_MAX_BODY_BYTES, null);
    }

    @Override
    public void routing(HttpRules rules) {
        // The hot path first, matched by prefix and parsed by hand: Helidon's pattern matchers are regular
        // expressions, tried route by route; anything this does not recognise goes on to the routes below.
        rules.post(INFER_PREFIX + "*", guarded(this::inferByPrefix));
        rules.get("/v2", this::serverMetadata)
                .get("/v2/", this::serverMetadata)
                .get("/v2/health/live", this::live)
                .get("/v2/health/ready", this::ready);
        for (var prefix : new String[] {"", "/serving/{namespace}"}) {
            rules.get(prefix + "/v2/models/{name}", guarded(this::modelMetadata))
                    .get(prefix + "/v2/models/{name}/versions/{version}", guarded(this::modelMetadata))
                    .get(prefix + "/v2/models/{name}/ready", guarded(this::modelReady))
                    .get(prefix + "/v2/models/{name}/versions/{version}/ready", guarded(this::modelReady))
                    .post(prefix + "/v2/models/{name}/infer", guarded(this::infer))
                    .post(prefix + "/v2/models/{name}/versions/{version}/infer", guarded(this::infer))
                    .get(prefix + "/v1/models", guarded(this::v1Models))
                    .get(prefix + "/v1/models/{name}", guarded(this::v1Model))
                    .post(prefix + "/v1/models/{name}", guarded(this::v1Predict))
                    .post(prefix + "/graphs/{name}", guarded(this::graph));
        }
    }

    private void serverMetadata(ServerRequest req, ServerResponse res) {
        json(res, Status.OK_200, OipJson.writeServerMetadata(endpoint.serverMetadata()));
    }

    private void live(ServerRequest req, ServerResponse res) {
        if (endpoint.serverLive()) json(res, Status.OK_200, LIVE);
        else json(res, Status.SERVICE_UNAVAILABLE_503, OipJson.writeError("the server is not live"));
    }

    private void ready(ServerRequest req, ServerResponse res) {
        if (endpoint.serverReady()) json(res, Status.OK_200, READY);
        else json(res, Status.SERVICE_UNAVAILABLE_503, OipJson.writeError("the server is not ready"));
    }

    /** @throws AccessDeniedException unless the request's caller, if it has one, may view {@code namespace} */
    private void authorize(ServerRequest req, String namespace) {
        var caller = req.context().get(Caller.class);
        if (caller.isPresent()) policy.require(caller.get(), namespace, Role.VIEW);
    }

    private void modelMetadata(ServerRequest req, ServerResponse res) {
        authorize(req, namespace(req));
        var metadata = endpoint.modelMetadata(namespace(req), name(req), version(req));
        json(res, Status.OK_200, OipJson.writeModelMetadata(metadata));
    }

    private void modelReady(ServerRequest req, ServerResponse res) {
        var name = name(req);
        authorize(req, namespace(req));
        if (endpoint.modelReady(namespace(req), name, version(req))) {
            json(res, Status.OK_200, OipJson.write(g -> {
                g.writeStartObject();
                g.writeStringField("name", name);
                g.writeBooleanField("ready", true);
                g.writeEndObject();
            }));
        } else {
            json(res, Status.SERVICE_UNAVAILABLE_503, OipJson.writeError("model '" + OipJson.printable(name) + "' is not ready"));
        }
    }

    private void infer(ServerRequest req, ServerResponse res) {
        infer(req, res, namespace(req), name(req), version(req));
    }

    /** {@code POST /v2/models/{name}/infer} and {@code .../versions/{version}/infer}; other paths go on. */
    private void inferByPrefix(ServerRequest req, ServerResponse res) {
        String path = req.path().path();
        int start = INFER_PREFIX.length();
        int slash = path.indexOf('/', start);
        if (!path.startsWith(INFER_PREFIX) || slash <= start) {
            res.next();
            return;
        }
        String name = path.substring(start, slash);
        String version = null;
        if (!path.startsWith("/infer", slash) || path.length() != slash + 6) {
            int v = slash + VERSIONS.length();
            int end = path.length() - 6;
            if (!path.startsWith(VERSIONS, slash) || !path.endsWith("/infer") || end <= v || path.indexOf('/', v) != end) {
                res.next();
                return;
            }
            version = path.substring(v, end);
        }
        infer(req, res, InferenceEndpoint.DEFAULT_NAMESPACE, name, version);
    }

    private void infer(ServerRequest req, ServerResponse res, String namespace, String name, String version) {
        authorize(req, namespace);
        var request = OipJson.readRequest(body(req, namespace, name));
        var response = spans.traced(req.headers(), "v2", namespace, name, () -> endpoint.infer(namespace, name, version, request));
        json(res, Status.OK_200, OipJson.writeResponse(response));
    }

    private void v1Models(ServerRequest req, ServerResponse res) {
        authorize(req, namespace(req));
        json(res, Status.OK_200, v1.models(namespace(req)));
    }

    private void v1Model(ServerRequest req, ServerResponse res) {
        authorize(req, namespace(req));
        json(res, Status.OK_200, v1.model(namespace(req), name(req)));
    }

    private void v1Predict(ServerRequest req, ServerResponse res) {
        authorize(req, namespace(req));
        var nameAndVerb = name(req);
        int colon = nameAndVerb.lastIndexOf(':');
        if (colon < 0 || !nameAndVerb.substring(colon + 1).equals("predict")) {
            json(res, Status.NOT_FOUND_404, OipJson.writeError("use POST /v1/models/{name}:predict"));
            return;
        }
        var name = nameAndVerb.substring(0, colon);
        var body = body(req, namespace(req), name);
        json(res, Status.OK_200, spans.traced(req.headers(), "v1", namespace(req), name, () -> v1.predict(namespace(req), name, body)));
    }

    private void graph(ServerRequest req, ServerResponse res) {
        authorize(req, namespace(req));
        if (graphs == null) throw new io.capstan.serving.api.ModelNotFoundException("this server runs no InferenceGraphs");
        com.fasterxml.jackson.databind.JsonNode request;
        try {
            request = io.capstan.core.Json.json().readTree(body(req, maxBodyBytes, "InferenceGraph '" + OipJson.printable(name(req)) + "'"));
        } catch (IOException e) {
            throw new InvalidInputException("the body is not valid JSON: " + e.getMessage());
        }
        if (request == null || !request.isObject()) throw new InvalidInputException("the body must be a JSON object");
        try {
            json(res, Status.OK_200, io.capstan.core.Json.json().writeValueAsBytes(graphs.run(namespace(req), name(req), request)));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String namespace(ServerRequest req) {
        return req.path().pathParameters().first("namespace").orElse(InferenceEndpoint.DEFAULT_NAMESPACE);
    }

    private static String name(ServerRequest req) {
        return req.path().pathParameters().get("name");
    }

    private static String version(ServerRequest req) {
        return req.path().pathParameters().first("version").orElse(null);
    }

    /** The body of a request to a model, within the model's limit (an unknown model is a 404 before any reading). */
    private byte[] body(ServerRequest req, String namespace, String name) {
        int limit = endpoint.maxRequestBytes(namespace, name, maxBodyBytes);
        return body(req, limit, "model '" + OipJson.printable(name) + "'");
    }

    private static byte[] body(ServerRequest req, int maxBodyBytes, String target) {
        var declared = req.headers().contentLength();
        if (declared.isPresent() && declared.getAsLong() > maxBodyBytes) {
            throw new TooLarge(declared.getAsLong(), maxBodyBytes, target);
        }
        try (InputStream in = req.content().inputStream()) {
            if (declared.isPresent()) {
                // the usual case: read exactly the declared length into one array, no growing buffers
                byte[] body = in.readNBytes((int) declared.getAsLong());
                if (body.length == declared.getAsLong() && in.read() < 0) return body;
                var rest = in.readNBytes(maxBodyBytes + 1 - body.length);
                if (body.length + rest.length > maxBodyBytes) throw new TooLarge(-1, maxBodyBytes, target);
                var all = Arrays.copyOf(body, body.length + rest.length);
                System.arraycopy(rest, 0, all, body.length, rest.length);
                return all;
            }
            byte[] body = in.readNBytes(maxBodyBytes + 1);
            if (body.length > maxBodyBytes) {
                throw new TooLarge(-1, maxBodyBytes, target);
            }
            return body;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A request body over its limit: 413. */
    private static final class TooLarge extends RuntimeException {
        TooLarge(long size, int limit, String target) {
            super("the request body" + (size >= 0 ? " of " + size + " bytes" : "") + " is over the limit of " + limit
                    + " bytes for " + target + "; send fewer rows per request"
                    + (target.startsWith("model") ? ", or raise the InferenceService's " + MAX_REQUEST_BYTES_ANNOTATION + " annotation" : ""));
        }
    }

    private static Handler guarded(Handler handler) {
        return (req, res) -> {
            try {
                handler.handle(req, res);
            } catch (AccessDeniedException e) {
                // The server's problem handlers answer 403 problem+json, as on every other route.
                throw e;
            } catch (InferenceException e) {
                json(res, Status.create(e.error().httpStatus()), OipJson.writeError(e.getMessage()));
            } catch (TooLarge e) {
                json(res, Status.REQUEST_ENTITY_TOO_LARGE_413, OipJson.writeError(e.getMessage()));
            } catch (UncheckedIOException e) {
                LOG.log(System.Logger.Level.DEBUG, "request body could not be read", e);
                json(res, Status.BAD_REQUEST_400, OipJson.writeError("the request body could not be read: " + e.getCause().getMessage()));
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "inference request failed", e);
                json(res, Status.INTERNAL_SERVER_ERROR_500, OipJson.writeError("internal error: " + e.getClass().getSimpleName()));
            }
        };
    }

    private static void json(ServerResponse res, Status status, byte[] body) {
        res.status(status);
        res.header(HeaderValues.CONTENT_TYPE_JSON);
        res.send(body);
    }
}
