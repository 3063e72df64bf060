package io.capstan.server.http;

import io.capstan.core.Json;
import io.capstan.core.TransientException;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;

/** Reading request bodies within a limit, and writing JSON or YAML answers as the client asked. */
public final class Bodies {
    /** Largest request body accepted, in bytes: 4 MiB, the same as the document parser's limit. */
    public static final int MAX_BODY_BYTES = Json.MAX_DOCUMENT_BYTES;

    private Bodies() {
    }

    /** Reads the body as UTF-8 text, refusing more than {@link #MAX_BODY_BYTES} and bytes that are not UTF-8. */
    public static String text(ServerRequest req) {
        var declared = req.headers().contentLength();
        if (declared.isPresent() && declared.getAsLong() > MAX_BODY_BYTES) {
            throw tooLarge(declared.getAsLong());
        }
        var contentType = req.headers().contentType().map(ct -> ct.mediaType().text().toLowerCase(java.util.Locale.ROOT)).orElse("");
        var out = new ByteArrayOutputStream();
        try (var in = req.content().inputStream()) {
            var buf = new byte[16384];
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
                if (out.size() > MAX_BODY_BYTES) throw tooLarge(out.size());
            }
        } catch (IOException e) {
            throw new TransientException("could not read the request body: " + e.getMessage(), e);
        }
        // As BrowserGuardFilter: what an HTML form can send without a preflight (text/plain, a form, no type) is refused.
        boolean accepted = contentType.equals("application/json") || contentType.equals("application/yaml")
                || contentType.startsWith("application/") && contentType.endsWith("+json") || contentType.isEmpty() && out.size() == 0;
        if (!accepted) {
            throw new UnsupportedMediaTypeException((contentType.isEmpty() ? "a request body needs a Content-Type"
                    : "content type '" + io.capstan.core.Names.printable(contentType) + "' is not accepted") + "; send application/json or application/yaml");
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(out.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            throw io.capstan.core.InvalidSpecException.of("", "the request body is not valid UTF-8 text");
        }
    }

    private static PayloadTooLargeException tooLarge(long size) {
        return new PayloadTooLargeException("request body of " + size + " bytes or more exceeds the limit of " + MAX_BODY_BYTES
                + " bytes (4 MiB); split the input into several applies");
    }

    /** Writes {@code value} as YAML when the client accepts only YAML, else as JSON. */
    public static void send(ServerRequest req, ServerResponse res, Status status, Object value) {
        boolean yaml = req.headers().first(HeaderNames.ACCEPT).map(a -> a.contains("yaml") && !a.contains("json")).orElse(false);
        try {
            res.status(status);
            if (yaml) {
                res.header(HeaderNames.CONTENT_TYPE, "application/yaml");
                res.send(Json.yaml().writeValueAsBytes(value));
            } else {
                res.header(HeaderNames.CONTENT_TYPE, "application/json");
                res.send(Json.json().writeValueAsBytes(value));
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise response", e);
        }
    }
}
