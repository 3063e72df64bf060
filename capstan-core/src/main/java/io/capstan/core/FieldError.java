package io.capstan.core;

import java.util.Objects;

/**
 * One problem with one field of an input document.
 *
 * @param source   the file or request the document came from, such as {@code pipeline.yaml}
 * @param document zero-based index of the document inside a multi-document source
 * @param path     the field path, such as {@code spec.parameters[2].feasibleSpace.min}; empty for the whole document
 * @param line     one-based line of the field in the source, or 0 where unknown
 * @param message  what is wrong and what to do about it
 */
public record FieldError(String source, int document, String path, int line, String message) {
    public FieldError {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(message, "message");
    }

    public static FieldError of(String path, String message) {
        return new FieldError("", 0, path, 0, message);
    }

    /** Renders as {@code pipeline.yaml:14: spec.x: expected a number}, leaving out parts that are unknown. */
    @Override
    public String toString() {
        var sb = new StringBuilder();
        if (!source.isEmpty()) {
            sb.append(source);
            if (document > 0) sb.append("[document ").append(document + 1).append(']');
            if (line > 0) sb.append(':').append(line);
            sb.append(": ");
        } else if (line > 0) {
            sb.append("line ").append(line).append(": ");
        }
        if (!path.isEmpty()) sb.append(path).append(": ");
        return sb.append(message).toString();
    }
}
