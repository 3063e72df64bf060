package io.capstan.ui;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/** Escaping and small formatting helpers for the pages, which are written as plain Java into a StringBuilder. */
final class Html {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'").withZone(ZoneOffset.UTC);

    private Html() {
    }

    /** Text safe inside an element or a double-quoted attribute. */
    static String esc(String text) {
        if (text == null) return "";
        var sb = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }

    /** A query-string or path-segment value. */
    static String url(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
    }

    static String time(String iso) {
        if (iso == null || iso.isEmpty()) return "";
        try {
            return TIME.format(Instant.parse(iso));
        } catch (java.time.format.DateTimeParseException e) {
            return iso;
        }
    }

    static String time(Instant at) {
        return at == null ? "" : TIME.format(at);
    }

    static String duration(String startIso, String endIso) {
        if (startIso == null || startIso.isEmpty()) return "";
        try {
            var end = endIso == null || endIso.isEmpty() ? Instant.now() : Instant.parse(endIso);
            return duration(Duration.between(Instant.parse(startIso), end));
        } catch (java.time.format.DateTimeParseException e) {
            return "";
        }
    }

    static String duration(Duration d) {
        long ms = d.toMillis();
        if (ms < 1000) return ms + " ms";
        if (ms < 60_000) return String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
        if (ms < 3_600_000) return (ms / 60_000) + " min " + (ms / 1000 % 60) + " s";
        return (ms / 3_600_000) + " h " + (ms / 60_000 % 60) + " min";
    }

    static String number(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) return Long.toString((long) v);
        return String.format(Locale.ROOT, "%.4g", v);
    }

    /** The CSS class of a state or phase: lower case, letters only, such as {@code state-succeeded}. */
    static String stateClass(String state) {
        var s = state == null || state.isEmpty() ? "pending" : state.toLowerCase(Locale.ROOT).replaceAll("[^a-z]", "");
        return "state-" + s;
    }

    /** A state label as people read it: {@code SUCCEEDED} becomes {@code Succeeded}. */
    static String stateLabel(String state) {
        if (state == null || state.isEmpty()) return "Pending";
        var s = state.toLowerCase(Locale.ROOT);
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }

    static String badge(String state) {
        return "<span class=\"badge " + stateClass(state) + "\">" + esc(stateLabel(state)) + "</span>";
    }
}
