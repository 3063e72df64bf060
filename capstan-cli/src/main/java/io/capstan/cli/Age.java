package io.capstan.cli;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/** Human durations exactly as kubectl's AGE column writes them ({@code 45s}, {@code 3m12s}, {@code 5h}, {@code 2d3h}). */
final class Age {
    private Age() {
    }

    static String format(Duration d) {
        long seconds = Math.max(0, d.toSeconds());
        if (seconds < 60 * 2) return seconds + "s";
        long minutes = seconds / 60;
        if (minutes < 10) return minutes + "m" + (seconds % 60 == 0 ? "" : (seconds % 60) + "s");
        if (minutes < 60 * 3) return minutes + "m";
        long hours = minutes / 60;
        if (hours < 8) return hours + "h" + (minutes % 60 == 0 ? "" : (minutes % 60) + "m");
        if (hours < 48) return hours + "h";
        if (hours < 24 * 8) return hours / 24 + "d" + (hours % 24 == 0 ? "" : (hours % 24) + "h");
        if (hours < 24 * 365 * 2) return hours / 24 + "d";
        long days = hours / 24;
        long years = days / 365;
        if (years < 8) return years + "y" + (days % 365 == 0 ? "" : (days % 365) + "d");
        return years + "y";
    }

    /** The time from {@code from} (an RFC 3339 timestamp) to {@code now}, or {@code <unknown>} if it does not parse. */
    static String since(String from, Instant now) {
        return instant(from).map(t -> format(Duration.between(t, now))).orElse("<unknown>");
    }

    static Optional<Instant> instant(String timestamp) {
        if (timestamp == null || timestamp.isBlank()) return Optional.empty();
        try {
            return Optional.of(Instant.parse(timestamp));
        } catch (DateTimeParseException e) {
            // A timestamp with an offset instead of Z is still a valid RFC 3339 time.
            try {
                return Optional.of(java.time.OffsetDateTime.parse(timestamp).toInstant());
            } catch (DateTimeParseException e2) {
                return Optional.empty();
            }
        }
    }
}
