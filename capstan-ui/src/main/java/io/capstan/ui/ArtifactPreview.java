package io.capstan.ui;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.artifacts.ArtifactLocator;
import io.capstan.artifacts.ArtifactUri;
import io.capstan.core.Json;
import io.capstan.core.NotFoundException;
import io.capstan.core.Resource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A preview of a step's artifact in the node panel: a metrics artifact as a table of its numbers, a CSV file as a
 * table of its first rows, other UTF-8 text as text, and anything else as its size. Reads at most {@link #MAX_BYTES}
 * and only artifacts the engine placed under the run's pipeline root and uid, as the artifacts API does: a step cannot
 * name another file on the server's disk as its output and have the UI show it. Every value is escaped.
 */
final class ArtifactPreview {
    static final int MAX_BYTES = 64 * 1024;
    static final int MAX_ROWS = 50;
    static final int MAX_COLUMNS = 30;

    private final ArtifactLocator artifacts;

    /** @param artifacts where the run's artifacts are read from; null when the server reads none (then nothing is previewed) */
    ArtifactPreview(ArtifactLocator artifacts) {
        this.artifacts = artifacts;
    }

    /** The preview's HTML for one artifact of a task's outputs. */
    String render(Resource run, JsonNode artifact) {
        var type = artifact.path("type").isObject() ? artifact.path("type").path("schemaTitle").asText("") : artifact.path("type").asText("");
        var uri = artifact.path("uri").asText("");
        if (type.equals("system.Metrics") && artifact.path("metadata").isObject() && numbers(artifact.path("metadata")) > 0) {
            return metricsTable(artifact.path("metadata"));
        }
        if (artifacts == null) return note("Previews are off: this server reads no artifacts.");
        var placed = run.status().field("pipelineRoot").map(JsonNode::asText).orElse("") + "/" + run.metadata().uid() + "/";
        if (uri.isEmpty() || placed.length() <= run.metadata().uid().length() + 2 || !uri.startsWith(placed) || uri.contains("/../")) {
            return note("Not previewed: the artifact is outside the run's pipeline root.");
        }
        byte[] head;
        boolean truncated;
        try (var in = open(uri)) {
            if (in == null) return note("Not previewed: the artifact is a folder.");
            head = in.readNBytes(MAX_BYTES + 1);
            truncated = head.length > MAX_BYTES;
            if (truncated) head = java.util.Arrays.copyOf(head, MAX_BYTES);
        } catch (NotFoundException | java.io.FileNotFoundException | java.nio.file.NoSuchFileException e) {
            return note("Not previewed: the artifact has not been written.");
        } catch (IOException | RuntimeException e) {
            return note("Not previewed: " + e.getMessage());
        }
        var text = utf8(head, truncated);
        if (text == null) return note("Binary content (" + head.length + (truncated ? "+" : "") + " bytes); not previewed.");
        var more = truncated ? "<p class=\"hint\">The first " + MAX_BYTES / 1024 + " KiB.</p>" : "";
        if (type.equals("system.Metrics")) {
            var metrics = metricsFromJson(text);
            if (metrics != null) return metricsTable(metrics);
        }
        if (looksLikeCsv(uri, text)) {
            var table = csvTable(text, truncated);
            if (table != null) return table + more;
        }
        return "<pre class=\"preview\" tabindex=\"0\">" + Html.esc(text) + "</pre>" + more;
    }

    private InputStream open(String uri) throws IOException {
        var parsed = ArtifactUri.parse(uri);
        if (parsed.scheme() == ArtifactUri.Scheme.FILE) {
            var path = Path.of(parsed.path());
            if (Files.isDirectory(path)) return null;
            return Files.newInputStream(path);
        }
        return artifacts.storeOf(parsed, "output").get(parsed.path());
    }

    private static String note(String text) {
        return "<p class=\"hint preview-note\">" + Html.esc(text) + "</p>";
    }

    /** The bytes as UTF-8 text, or null when they are not text (invalid UTF-8 or NUL bytes); a cut last character is dropped. */
    static String utf8(byte[] bytes, boolean truncated) {
        int end = bytes.length;
        // A truncated read may end inside a multi-byte character: back up to its first byte.
        if (truncated) {
            int i = end - 1;
            while (i > 0 && end - i < 4 && (bytes[i] & 0xC0) == 0x80) i--;
            if (i >= 0 && (bytes[i] & 0x80) != 0) end = i;
        }
        for (int i = 0; i < end; i++) if (bytes[i] == 0) return null;
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, 0, end)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private static boolean looksLikeCsv(String uri, String text) {
        var lower = uri.toLowerCase(Locale.ROOT);
        if (lower.endsWith(".csv") || lower.endsWith(".tsv")) return true;
        var first = text.lines().findFirst().orElse("");
        return first.contains(",") && text.lines().limit(5).filter(l -> !l.isEmpty()).allMatch(l -> count(l, ',') == count(first, ','));
    }

    private static long count(String s, char c) {
        return s.chars().filter(x -> x == c).count();
    }

    /** The first rows of CSV text as a table (the first row as headers); null when it does not parse as CSV. */
    static String csvTable(String text, boolean truncated) {
        var rows = parseCsv(text, truncated);
        if (rows.size() < 1 || rows.getFirst().size() < 2) return null;
        var header = rows.getFirst();
        int columns = Math.min(header.size(), MAX_COLUMNS);
        var sb = new StringBuilder("<div class=\"preview-table\" tabindex=\"0\" role=\"region\" aria-label=\"Table preview\"><table class=\"preview\"><thead><tr>");
        for (int c = 0; c < columns; c++) sb.append("<th scope=\"col\">").append(Html.esc(header.get(c))).append("</th>");
        sb.append("</tr></thead><tbody>");
        int shown = 0;
        for (int r = 1; r < rows.size() && shown < MAX_ROWS; r++, shown++) {
            sb.append("<tr>");
            var row = rows.get(r);
            for (int c = 0; c < columns; c++) sb.append("<td>").append(c < row.size() ? Html.esc(row.get(c)) : "").append("</td>");
            sb.append("</tr>");
        }
        sb.append("</tbody></table></div>");
        int total = rows.size() - 1;
        sb.append("<p class=\"hint\">").append(shown).append(shown == total && !truncated ? " rows" : " of " + total + (truncated ? "+" : "") + " rows")
                .append(header.size() > columns ? ", the first " + columns + " of " + header.size() + " columns" : "").append(".</p>");
        return sb.toString();
    }

    /**
     * RFC 4180 records: quoted fields may hold commas, quotes ("") and line breaks. A cut last record is dropped. All
     * are kept, so that the count is right: the text is at most {@link #MAX_BYTES}.
     */
    static List<List<String>> parseCsv(String text, boolean truncated) {
        var rows = new ArrayList<List<String>>();
        var row = new ArrayList<String>();
        var field = new StringBuilder();
        boolean quoted = false;
        char sep = text.lines().findFirst().orElse("").contains("\t") && !text.lines().findFirst().orElse("").contains(",") ? '\t' : ',';
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            if (quoted) {
                if (ch == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
                    field.append('"');
                    i++;
                } else if (ch == '"') {
                    quoted = false;
                } else {
                    field.append(ch);
                }
            } else if (ch == '"' && field.isEmpty()) {
                quoted = true;
            } else if (ch == sep) {
                row.add(field.toString());
                field.setLength(0);
            } else if (ch == '\n' || ch == '\r') {
                if (ch == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') i++;
                row.add(field.toString());
                field.setLength(0);
                if (!(row.size() == 1 && row.getFirst().isEmpty())) rows.add(row);
                row = new ArrayList<>();
            } else {
                field.append(ch);
            }
        }
        if (!truncated && (!field.isEmpty() || !row.isEmpty())) {
            row.add(field.toString());
            rows.add(row);
        }
        return rows;
    }

    private static int numbers(JsonNode object) {
        int n = 0;
        for (var it = object.elements(); it.hasNext(); ) if (it.next().isNumber()) n++;
        return n;
    }

    /** A metrics file's numbers: a JSON object of name to number, or KFP's {@code {"metrics": [{"name", "numberValue"}]}}. */
    private static JsonNode metricsFromJson(String text) {
        try {
            var tree = Json.json().readTree(text);
            if (tree == null || !tree.isObject()) return null;
            if (tree.path("metrics").isArray()) {
                var out = Json.json().createObjectNode();
                for (var m : tree.path("metrics")) if (m.path("numberValue").isNumber()) out.set(m.path("name").asText(""), m.path("numberValue"));
                return out.isEmpty() ? null : out;
            }
            return numbers(tree) > 0 ? tree : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static String metricsTable(JsonNode metrics) {
        var sb = new StringBuilder("<table class=\"preview metrics\"><thead><tr><th scope=\"col\">Metric</th><th scope=\"col\">Value</th></tr></thead><tbody>");
        metrics.properties().forEach(e -> {
            if (!e.getValue().isNumber()) return;
            sb.append("<tr><th scope=\"row\">").append(Html.esc(e.getKey())).append("</th><td class=\"num\">").append(Html.number(e.getValue().asDouble())).append("</td></tr>");
        });
        return sb.append("</tbody></table>").toString();
    }
}
