package io.capstan.tuning;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.re2j.Pattern;
import io.capstan.core.Json;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads observations out of a trial's output as Katib's collectors do: text lines matched by the filters (default
 * {@code name=value}), optionally led by an RFC 3339 timestamp, or JSON lines with one key per metric and an
 * optional {@code timestamp}. Only the experiment's metrics are kept; steps count each metric's reports from 1.
 */
final class MetricsParser {
    /** Longer lines are cut before matching, so that a hostile filter or line cannot make matching slow. */
    static final int MAX_LINE_CHARS = 4096;
    private static final Pattern LEADING_TIMESTAMP = Pattern.compile("^(\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2}))\\s+");

    private final Set<String> metrics;
    private final Map<String, Long> steps = new HashMap<>();
    private final List<Observation> out = new ArrayList<>();

    private MetricsParser(Set<String> metrics) {
        this.metrics = Set.copyOf(metrics);
    }

    /** One line of output, with the time it was seen. */
    record Line(Instant at, String text) {
    }

    static List<Observation> parseText(List<Line> lines, List<Pattern> filters, Set<String> metrics) {
        var parser = new MetricsParser(metrics);
        for (var line : lines) parser.text(line, filters);
        return List.copyOf(parser.out);
    }

    static List<Observation> parseJson(List<Line> lines, Set<String> metrics) {
        var parser = new MetricsParser(metrics);
        for (var line : lines) parser.json(line);
        return List.copyOf(parser.out);
    }

    private void text(Line line, List<Pattern> filters) {
        var text = line.text().length() > MAX_LINE_CHARS ? line.text().substring(0, MAX_LINE_CHARS) : line.text();
        var at = line.at();
        var ts = LEADING_TIMESTAMP.matcher(text);
        if (ts.find()) {
            at = parseTime(ts.group(1), at);
            text = text.substring(ts.end());
        }
        for (var filter : filters) {
            var m = filter.matcher(text);
            while (m.find()) {
                var name = m.group(1);
                var value = m.group(2);
                if (name == null || value == null || !metrics.contains(name.strip())) continue;
                add(name.strip(), value.strip(), at);
            }
        }
    }

    private void json(Line line) {
        var text = line.text().strip();
        if (!text.startsWith("{") || text.length() > 1 << 20) return;
        JsonNode node;
        try {
            node = Json.json().readTree(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            // Katib's collector skips lines that are not JSON objects, such as a framework's own log lines.
            return;
        }
        if (!node.isObject()) return;
        var at = line.at();
        var ts = node.get("timestamp");
        if (ts != null && ts.isNumber() && Double.isFinite(ts.asDouble()) && Math.abs(ts.asDouble()) < 1e11) {
            at = Instant.ofEpochMilli((long) (ts.asDouble() * 1000));
        } else if (ts != null && ts.isTextual()) {
            at = parseTime(ts.asText(), at);
        }
        for (var e : node.properties()) {
            if (!metrics.contains(e.getKey()) || !e.getValue().isValueNode()) continue;
            add(e.getKey(), e.getValue().asText(), at);
        }
    }

    private void add(String metric, String value, Instant at) {
        double v;
        try {
            if (value.isEmpty() || value.length() > 64) return;
            v = Double.parseDouble(value);
        } catch (NumberFormatException e) {
            // A filter matched something that is no number ("loss=nan%"); Katib skips it too.
            return;
        }
        if (!Double.isFinite(v)) return;
        long step = steps.merge(metric, 1L, Long::sum);
        out.add(new Observation(metric, v, step, at));
    }

    private static Instant parseTime(String text, Instant fallback) {
        try {
            return OffsetDateTime.parse(text).toInstant();
        } catch (DateTimeParseException e) {
            return fallback;
        }
    }
}
