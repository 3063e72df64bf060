package io.capstan.server.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.ConflictException;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import io.capstan.core.NotFoundException;
import io.capstan.core.PermanentFailureException;
import io.capstan.core.TransientException;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.lang.System.Logger.Level;

/**
 * Maps each exception branch to an RFC 9457 {@code application/problem+json} answer. Route handlers never build
 * error bodies themselves; they throw, and one handler per branch answers here.
 */
public final class ProblemHandlers {
    private static final System.Logger LOG = System.getLogger(ProblemHandlers.class.getName());
    public static final String PROBLEM_JSON = "application/problem+json";

    private ProblemHandlers() {
    }

    public static void register(HttpRouting.Builder routing) {
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
