package io.capstan.components;

import io.capstan.core.InvalidSpecException;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;

/**
 * {@code csv-ingest}: reads a local CSV file named by parameter {@code source} (a path, relative to the working
 * directory, or a {@code file://} URI) and writes it as output {@code dataset}, normalised to comma-separated CSV with
 * a header, with its row and column counts, column names and SHA-256 as metadata.
 */
final class CsvIngest implements Component {
    static final String NAME = "csv-ingest";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ExecutorOutput run(ExecutorInput input, Environment environment) {
        var source = input.string("source");
        var file = resolve(source, environment);
        var delimiter = delimiter(input.string("delimiter", ","));
        var hasHeader = input.bool("has_header", true);
        var table = Table.read(file, delimiter, hasHeader, "source '" + source + "'");

        var out = input.outputArtifact("dataset");
        var path = out.path();
        table.write(path, "output artifact 'dataset'");
        var metadata = new LinkedHashMap<String, Object>();
        metadata.put("rows", table.rows().size());
        metadata.put("columns", table.columns().size());
        metadata.put("column_names", table.columns());
        metadata.put("sha256", LocalFiles.sha256(path));
        metadata.put("source", file.toString());
        metadata.put("source_sha256", LocalFiles.sha256(file));
        return ExecutorOutput.builder().artifact(out, metadata).build();
    }

    static Path resolve(String source, Environment environment) {
        Path path;
        try {
            path = source.regionMatches(true, 0, "file:", 0, 5) ? Path.of(URI.create(source)) : Path.of(source);
        } catch (IllegalArgumentException e) {
            throw new InvalidSpecException("input parameter 'source' is '%s', which is neither a local path nor a file:// URI; give a path to a CSV file"
                    .formatted(source));
        }
        var file = environment.workingDirectory().resolve(path).normalize();
        if (!Files.isRegularFile(file)) {
            throw new InvalidSpecException("input parameter 'source' names %s, which %s; give the path of a CSV file (relative paths are resolved against %s)"
                    .formatted(file, Files.isDirectory(file) ? "is a directory" : "does not exist", environment.workingDirectory()));
        }
        return file;
    }

    private static char delimiter(String value) {
        var v = switch (value) {
            case "\\t", "tab", "TAB" -> "\t";
            default -> value;
        };
        if (v.length() != 1 || v.charAt(0) == '"' || v.charAt(0) == '\n' || v.charAt(0) == '\r') {
            throw new InvalidSpecException("input parameter 'delimiter' is '%s'; give a single character such as ',' or ';' (or '\\t' for tab)"
                    .formatted(value));
        }
        return v.charAt(0);
    }
}
