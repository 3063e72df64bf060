package io.capstan.registry;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A multipart/form-data body (RFC 7578) already spooled to a buffer: its parts located, none copied. Every malformed
 * body is a 400 naming what is wrong.
 */
final class Multipart {
    private static final Pattern BOUNDARY = Pattern.compile("(?i)boundary=(?:\"([^\"]{1,70})\"|([^\";,\\s]{1,70}))");
    private static final Pattern NAME = Pattern.compile("(?i)(?:^|;)\\s*name=\"([^\"]*)\"");
    private static final Pattern FILENAME = Pattern.compile("(?i)(?:^|;)\\s*filename=\"([^\"]*)\"");
    private static final int MAX_HEADER_BYTES = 8192;
    private static final int MAX_PARTS = 32;

    /** One part: its form name, its filename (null for a plain field), and where its content lies in the body. */
    record Part(String name, String filename, int offset, int length) {
    }

    private Multipart() {
    }

    /** The boundary a {@code multipart/form-data} Content-Type names. */
    static String boundary(String contentType) {
        if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
            throw RegistryException.badRequest("Content-Type: an upload is multipart/form-data, not '" + (contentType == null ? "" : contentType) + "'");
        }
        var m = BOUNDARY.matcher(contentType);
        if (!m.find()) throw RegistryException.badRequest("Content-Type: multipart/form-data needs a boundary parameter of 1 to 70 characters");
        return m.group(1) != null ? m.group(1) : m.group(2);
    }

    static List<Part> parse(ByteBuffer body, String boundary) {
        var delimiter = ("--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
        var next = ("\r\n--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
        int at = indexOf(body, delimiter, 0);
        if (at < 0) throw RegistryException.badRequest("the multipart body has no boundary '" + boundary + "'");
        var parts = new ArrayList<Part>();
        int pos = at + delimiter.length;
        while (true) {
            if (pos + 2 > body.limit()) throw RegistryException.badRequest("the multipart body ends before its closing boundary");
            if (body.get(pos) == '-' && body.get(pos + 1) == '-') return parts;
            if (body.get(pos) != '\r' || body.get(pos + 1) != '\n') throw RegistryException.badRequest("the multipart body has a boundary not followed by CRLF");
            pos += 2;
            int headerEnd = indexOf(body, new byte[] {'\r', '\n', '\r', '\n'}, pos);
            if (headerEnd < 0 || headerEnd - pos > MAX_HEADER_BYTES) {
                throw RegistryException.badRequest("a multipart part has no end to its headers within " + MAX_HEADER_BYTES + " bytes");
            }
            var headers = text(body, pos, headerEnd - pos, "a part's headers");
            String disposition = null;
            for (var line : headers.split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("Content-Disposition")) disposition = line.substring(colon + 1).trim();
            }
            if (disposition == null || !disposition.toLowerCase(Locale.ROOT).startsWith("form-data")) {
                throw RegistryException.badRequest("a multipart part has no 'Content-Disposition: form-data; name=...' header");
            }
            var name = NAME.matcher(disposition);
            if (!name.find() || name.group(1).isEmpty()) throw RegistryException.badRequest("a multipart part's Content-Disposition names no field");
            var file = FILENAME.matcher(disposition);
            int start = headerEnd + 4;
            int end = indexOf(body, next, start);
            if (end < 0) throw RegistryException.badRequest("part '" + name.group(1) + "' runs to the end of the body: the closing boundary is missing");
            if (parts.size() == MAX_PARTS) throw RegistryException.badRequest("the upload has more than " + MAX_PARTS + " parts");
            parts.add(new Part(name.group(1), file.find() ? file.group(1) : null, start, end - start));
            pos = end + next.length;
        }
    }

    /** The part's content as UTF-8 text. */
    static String text(ByteBuffer body, int offset, int length, String what) {
        var slice = body.slice(offset, length);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(slice).toString();
        } catch (CharacterCodingException e) {
            throw RegistryException.badRequest(what + ": not valid UTF-8");
        }
    }

    private static int indexOf(ByteBuffer body, byte[] needle, int from) {
        int last = body.limit() - needle.length;
        byte first = needle[0];
        outer:
        for (int i = from; i <= last; i++) {
            if (body.get(i) != first) continue;
            for (int j = 1; j < needle.length; j++) {
                if (body.get(i + j) != needle[j]) continue outer;
            }
            return i;
        }
        return -1;
    }
}
