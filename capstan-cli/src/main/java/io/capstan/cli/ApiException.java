package io.capstan.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.CapstanException;
import io.capstan.core.FieldError;
import io.capstan.core.Json;
import io.capstan.core.Names;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;

/**
 * The server refused a request. The message is the problem's {@code detail}, then each field error on its own
 * line, so that the user reads sentences rather than JSON.
 */
final class ApiException extends CapstanException {
    private final int status;

    private ApiException(int status, String message) {
        super(message);
        this.status = status;
    }

    int status() {
        return status;
    }

    /**
     * Builds the exception from an error response.
     *
     * @param source the file the request body came from, named in field errors that do not name one; may be empty
     */
    static ApiException of(int status, byte[] body, String source) {
        var text = new String(body, StandardCharsets.UTF_8);
        var problem = parse(text);
        var lines = new ArrayList<String>();
        if (problem != null && problem.isObject()) {
            var detail = problem.path("detail").asText("");
            if (detail.isBlank()) detail = problem.path("title").asText("");
            // KFP's v2beta1 API answers in grpc-gateway's shape, {"error", "code", "message"}.
            if (detail.isBlank()) detail = problem.path("message").asText("");
            // The Open Inference Protocol answers {"error": "..."}.
            if (detail.isBlank()) detail = problem.path("error").asText("");
            if (detail.isBlank()) detail = fallback(status, "");
            lines.add(detail);
            for (var error : problem.path("errors")) {
                var rendered = render(error, source);
                if (!rendered.equals(detail)) lines.add(rendered);
            }
        } else {
            lines.add(fallback(status, text));
        }
        return new ApiException(status, String.join(System.lineSeparator() + "  ", lines));
    }

    private static JsonNode parse(String text) {
        try {
            return Json.json().readTree(text);
        } catch (IOException e) {
            // Not JSON: a proxy or a crashed server answered; the raw text is shown instead.
            return null;
        }
    }

    private static String render(JsonNode error, String source) {
        var errorSource = error.path("source").asText("");
        return new FieldError(errorSource.isEmpty() ? source : errorSource,
                error.path("document").asInt(0),
                error.path("field").asText(error.path("path").asText("")),
                error.path("line").asInt(0),
                error.path("message").asText("invalid")).toString();
    }

    private static String fallback(int status, String body) {
        var trimmed = body.strip();
        if (trimmed.isEmpty()) return "the server answered HTTP " + status + " with no explanation";
        // printable() shortens and escapes: the body may be an HTML page or hostile text.
        return "the server answered HTTP " + status + ": " + Names.printable(trimmed.replace('\n', ' '));
    }
}
