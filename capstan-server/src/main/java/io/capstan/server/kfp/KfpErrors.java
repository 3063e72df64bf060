package io.capstan.server.kfp;

import io.capstan.core.ConflictException;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import io.capstan.core.NotFoundException;
import io.capstan.core.PermanentFailureException;
import io.capstan.core.TransientException;
import io.capstan.server.http.PayloadTooLargeException;
import io.capstan.server.http.UnsupportedMediaTypeException;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.Handler;
import java.lang.System.Logger.Level;

/**
 * The error answer on {@code /apis/v2beta1}: KFP clients read grpc-gateway's shape, the swagger's
 * {@code googleRpcStatus} {@code {"code": grpcCode, "message": msg, "details": []}}, not problem+json. Handlers throw as
 * everywhere else; {@link #mapped} wraps each route so that this one place answers.
 */
final class KfpErrors {
    private static final System.Logger LOG = System.getLogger(KfpErrors.class.getName());

    /** HTTP status and the gRPC code grpc-gateway pairs with it. */
    record Mapping(Status status, int grpcCode) {
    }

    private KfpErrors() {
    }

    static Handler mapped(Handler handler) {
        return (req, res) -> {
            try {
                handler.handle(req, res);
            } catch (RuntimeException e) {
                var m = mappingOf(e);
                if (m.grpcCode() == 13) LOG.log(Level.ERROR, "unhandled error on " + req.prologue().method().text() + " " + req.path().path(), e);
                if (res.isSent()) return;
                var message = m.grpcCode() == 13
                        ? "the server failed unexpectedly; this is a bug in Capstan: " + e.getClass().getSimpleName()
                        : e.getMessage();
                var body = Json.json().createObjectNode();
                body.put("code", m.grpcCode());
                body.put("message", message);
                body.putArray("details");
                res.status(m.status());
                res.header(HeaderNames.CONTENT_TYPE, "application/json");
                res.send(body.toString());
            }
        };
    }

    static Mapping mappingOf(RuntimeException e) {
        if (e instanceof InvalidSpecException || e instanceof UnsupportedMediaTypeException) return new Mapping(Status.BAD_REQUEST_400, 3);
        if (e instanceof NotFoundException) return new Mapping(Status.NOT_FOUND_404, 5);
        if (e instanceof io.capstan.core.security.AccessDeniedException) return new Mapping(Status.FORBIDDEN_403, 7);
        if (e instanceof io.capstan.core.security.UnauthenticatedException) return new Mapping(Status.UNAUTHORIZED_401, 16);
        if (e instanceof ConflictException) return new Mapping(Status.CONFLICT_409, 6);
        if (e instanceof PayloadTooLargeException) return new Mapping(Status.REQUEST_ENTITY_TOO_LARGE_413, 8);
        if (e instanceof PermanentFailureException) return new Mapping(Status.create(422, "Unprocessable Content"), 9);
        if (e instanceof TransientException) return new Mapping(Status.SERVICE_UNAVAILABLE_503, 14);
        return new Mapping(Status.INTERNAL_SERVER_ERROR_500, 13);
    }
}
