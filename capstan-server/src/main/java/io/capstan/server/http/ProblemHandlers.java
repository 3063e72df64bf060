package io.capstan.server.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.ConflictException;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import io.capstan.core.Names;
import io.capstan.core.NotFoundException;
import io.capstan.core.PermanentFailureException;
import io.capstan.core.TransientException;
import io.helidon.http.HeaderNames;
import io.helidon.http.HttpException;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.lang.System.Logger.Level;
import java.util.stream.Collectors;

/**
 * Maps each exception branch to an RFC 9457 {@code application/problem+json} answer. Route handlers never build
 * error bodies themselves; they throw, and one handler per branch answers here.
 */
public final class ProblemHandlers {
    private static final System.Logger LOG = System.getLogger(ProblemHandlers.class.getName());
    public static final String PROBLEM_JSON = "application/problem+json";

    private ProblemHandlers() {
    }

    /** @param routes the server's routes, which tell a path that exists under other methods (405) from an unknown one (404) */
    public static void register(HttpRouting.Builder routing, RouteTable routes) {
        // No route took the request: Helidon throws its own NotFoundException, which is the client's mistake.
        routing.error(io.helidon.http.NotFoundException.class, (req, res, e) -> unrouted(req, res, routes));
        routing.error(HttpException.class, (req, res, e) -> {
            var status = e.status();
            if (status.code() >= 500) {
                LOG.log(Level.ERROR, "unhandled error on " + req.prologue().method().text() + " " + req.path().path(), e);
            }
            send(res, status, problem(req, status, status.reasonPhrase(), e.getMessage()));
        });
        routing.error(InvalidSpecException.class, (req, res, e) -> {
            var body = problem(req, Status.BAD_REQUEST_400, "Invalid input", e.getMessage());
            var errors = body.putArray("errors");
            e.errors().forEach(err -> {
                var item = errors.addObject();
                if (!err.source().isEmpty()) item.put("source", err.source());
                item.put("document", err.document());
                item.put("field", err.path());
                if (err.line() > 0) item.put("line", err.line());
                item.put("message", err.message());
            });
            send(res, Status.BAD_REQUEST_400, body);
        });
        routing.error(NotFoundException.class, (req, res, e) -> send(res, Status.NOT_FOUND_404, problem(req, Status.NOT_FOUND_404, "Not found", e.getMessage())));
        routing.error(io.capstan.core.security.AccessDeniedException.class, (req, res, e) -> send(res, Status.FORBIDDEN_403, problem(req, Status.FORBIDDEN_403, "Forbidden", e.getMessage())));
        routing.error(io.capstan.core.security.UnauthenticatedException.class, (req, res, e) -> {
            res.header(HeaderNames.WWW_AUTHENTICATE, AuthenticationFilter.CHALLENGE);
            send(res, Status.UNAUTHORIZED_401, problem(req, Status.UNAUTHORIZED_401, "Unauthorized", e.getMessage()));
        });
        routing.error(ConflictException.class, (req, res, e) -> send(res, Status.CONFLICT_409, problem(req, Status.CONFLICT_409, "Conflict", e.getMessage())));
        routing.error(PayloadTooLargeException.class, (req, res, e) -> send(res, Status.REQUEST_ENTITY_TOO_LARGE_413, problem(req, Status.REQUEST_ENTITY_TOO_LARGE_413, "Payload too large", e.getMessage())));
        routing.error(UnsupportedMediaTypeException.class, (req, res, e) -> send(res, Status.UNSUPPORTED_MEDIA_TYPE_415, problem(req, Status.UNSUPPORTED_MEDIA_TYPE_415, "Unsupported media type", e.getMessage())));
        routing.error(TransientException.class, (req, res, e) -> send(res, Status.SERVICE_UNAVAILABLE_503, problem(req, Status.SERVICE_UNAVAILABLE_503, "Try again later", e.getMessage())));
        routing.error(PermanentFailureException.class, (req, res, e) -> send(res, Status.create(422, "Unprocessable Content"), problem(req, Status.create(422, "Unprocessable Content"), "Cannot be done", e.getMessage())));
        routing.error(RuntimeException.class, (req, res, e) -> {
            LOG.log(Level.ERROR, "unhandled error on " + req.prologue().method().text() + " " + req.path().path(), e);
            send(res, Status.INTERNAL_SERVER_ERROR_500, problem(req, Status.INTERNAL_SERVER_ERROR_500, "Internal error",
                    "the server failed unexpectedly; this is a bug in Capstan: " + e.getClass().getSimpleName()));
        });
    }

    private static void unrouted(ServerRequest req, ServerResponse res, RouteTable routes) {
        var method = req.prologue().method();
        var path = req.path().path();
        var allowed = routes.allowed(path);
        if (allowed.isEmpty()) {
            send(res, Status.NOT_FOUND_404, problem(req, Status.NOT_FOUND_404, "Not found",
                    "no endpoint answers " + Names.printable(path) + "; see README.md for the API's paths"));
            return;
        }
        var allow = allowed.stream().map(Method::text).collect(Collectors.joining(", "));
        res.header(HeaderNames.ALLOW, allow);
        if (method.equals(Method.OPTIONS)) {
            res.status(Status.NO_CONTENT_204).send();
            return;
        }
        send(res, Status.METHOD_NOT_ALLOWED_405, problem(req, Status.METHOD_NOT_ALLOWED_405, "Method not allowed",
                Names.printable(path) + " does not answer " + Names.printable(method.text()) + "; it answers " + allow));
    }

    static ObjectNode problem(ServerRequest req, Status status, String title, String detail) {
        var body = Json.json().createObjectNode();
        body.put("type", "about:blank");
        body.put("title", title);
        body.put("status", status.code());
        body.put("detail", detail);
        body.put("instance", req.path().path());
        return body;
    }

    static void send(ServerResponse res, Status status, ObjectNode body) {
        if (res.isSent()) return;
        res.status(status);
        res.header(HeaderNames.CONTENT_TYPE, PROBLEM_JSON);
        try {
            res.send(Json.json().writeValueAsBytes(body));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise a problem body", e);
        }
    }
}
