package io.capstan.backend;

import java.time.Instant;

/** One captured line; {@code number} counts from 0 across both streams in arrival order. */
public record LogLine(long number, Stream stream, Instant at, String text) {
    public enum Stream { STDOUT, STDERR }
}
