package io.capstan.tuning;

import static io.capstan.core.SpecFields.object;
import static io.capstan.core.SpecFields.requiredObject;
import static io.capstan.core.SpecFields.name;
import static io.capstan.core.SpecFields.describe;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import io.capstan.core.Names;
import io.capstan.core.Problems;
import java.util.ArrayList;
import java.util.Optional;

/** Reads {@code spec.metricsCollectorSpec}: the collector kind, the metrics file and the metric filters. */
final class CollectorReader {
    static final int MAX_FILTERS = 32;

    private CollectorReader() {
    }

    static MetricsCollectorSpec collector(JsonNode node, Problems problems) {
        var path = "spec.metricsCollectorSpec";
        if (object(node, path, problems).isEmpty()) return MetricsCollectorSpec.STDOUT;
        var kind = MetricsCollectorSpec.CollectorKind.STDOUT;
        var c = node.path("collector").path("kind");
        if (!c.isMissingNode() && !c.isNull()) {
            var parsed = c.isTextual() ? MetricsCollectorSpec.CollectorKind.ofWire(c.asText()) : Optional.<MetricsCollectorSpec.CollectorKind>empty();
            if (parsed.isEmpty()) {
                problems.add(path + ".collector.kind", "expected StdOut, File, TensorFlowEvent, PrometheusMetric, Custom, Push or None, got " + describe(c));
                return null;
            }
            kind = parsed.get();
        }
        var source = node.path("source");
        var fsp = source.path("fileSystemPath");
        Optional<String> filePath = Optional.empty();
        var format = MetricsCollectorSpec.FileFormat.TEXT;
        if (!fsp.isMissingNode() && !fsp.isNull()) {
            var p = fsp.get("path");
            if (p != null && !p.isNull()) {
                if (!p.isTextual() || p.asText().isBlank() || p.asText().indexOf('\0') >= 0 || p.asText().length() > 4096) {
                    problems.add(path + ".source.fileSystemPath.path", "expected a file path, got " + describe(p));
                } else {
                    filePath = Optional.of(p.asText());
                }
            }
            var f = fsp.get("format");
            if (f != null && !f.isNull()) {
                if ("JSON".equals(f.asText()) && f.isTextual()) format = MetricsCollectorSpec.FileFormat.JSON;
                else if (!"TEXT".equals(f.asText()) || !f.isTextual()) problems.add(path + ".source.fileSystemPath.format", "expected TEXT or JSON, got " + describe(f));
            }
        }
        if (kind == MetricsCollectorSpec.CollectorKind.FILE && filePath.isEmpty()) {
            problems.add(path + ".source.fileSystemPath.path", "required for the File collector: the file the trial writes its metrics to");
        }
        if (kind == MetricsCollectorSpec.CollectorKind.FILE && filePath.isPresent() && !filePath.get().startsWith("/")) {
            problems.add(path + ".source.fileSystemPath.path", "must be an absolute path, as Katib requires, got '" + Names.printable(filePath.get()) + "'");
        }
        var filters = new ArrayList<Pattern>();
        var mf = source.path("filter").path("metricsFormat");
        if (!mf.isMissingNode() && !mf.isNull()) {
            if (!mf.isArray()) problems.add(path + ".source.filter.metricsFormat", "expected a list of regular expressions, got " + describe(mf));
            else if (mf.size() > MAX_FILTERS) problems.add(path + ".source.filter.metricsFormat", "has " + mf.size() + " expressions; the limit is " + MAX_FILTERS);
            else for (int i = 0; i < mf.size(); i++) {
                var itemPath = path + ".source.filter.metricsFormat[" + i + "]";
                var item = mf.get(i);
                if (!item.isTextual() || item.asText().length() > 1024) {
                    problems.add(itemPath, "expected a regular expression of at most 1024 characters, got " + describe(item));
                    continue;
                }
                // Go's regexp syntax (RE2), as Katib compiles the filters: (?P<name>...) and [[:digit:]] work,
                // and Java-only constructs (backreferences, lookaround, possessive quantifiers) are refused as Katib refuses them.
                try {
                    var pattern = Pattern.compile(item.asText());
                    if (pattern.groupCount() < 2) {
                        problems.add(itemPath, "needs two groups, the metric name and its value, as in ([\\w|-]+)\\s*=\\s*([+-]?\\d*(\\.\\d+)?)");
                    } else {
                        filters.add(pattern);
                    }
                } catch (PatternSyntaxException e) {
                    problems.add(itemPath, "is not a valid regular expression in RE2 syntax, which Katib (Go) uses: " + e.getMessage());
                }
            }
        }
        if (filters.isEmpty()) filters.add(MetricsCollectorSpec.DEFAULT_FILTER);
        return new MetricsCollectorSpec(kind, filePath, format, filters);
    }
}
