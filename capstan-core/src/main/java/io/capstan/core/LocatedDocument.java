package io.capstan.core;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import java.util.Objects;

/**
 * One parsed document with the source line of every field, so that errors found after parsing can still name
 * the line they concern.
 *
 * @param source the file or request name
 * @param index  zero-based position inside a multi-document source
 * @param root   the document
 * @param lines  line of each field path, such as {@code spec.command[1]}
 */
public record LocatedDocument(String source, int index, JsonNode root, Map<String, Integer> lines) {
    public LocatedDocument {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(root, "root");
        lines = Map.copyOf(lines);
    }

    /** The line of {@code path}, or of its nearest ancestor that has one, or 0. */
    public int lineOf(String path) {
        var p = path;
        while (true) {
            var line = lines.get(p);
            if (line != null) return line;
            if (p.isEmpty()) return 0;
            int cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
            p = cut < 0 ? "" : p.substring(0, cut);
        }
    }

    /** Places a path-only error in this document. */
    public FieldError locate(FieldError error) {
        return new FieldError(source, index, error.path(), error.line() > 0 ? error.line() : lineOf(error.path()), error.message());
    }
}
