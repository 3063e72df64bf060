package io.capstan.monitoring.internal;

import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

/**
 * A reference dataset read from a CSV file whose header row names the columns, or a Parquet file: the listed
 * features' columns, as numbers. Messages name the column and line, never a cell's content, since the file may be any file on this host.
 */
final class ReferenceData {
    static final long MAX_BYTES = 512L * 1024 * 1024;

    private ReferenceData() {
    }

    /** Columns in {@code features}' order, each with one value per data row: Parquet when it starts with PAR1, else CSV. */
    static double[][] read(ReferenceSource.Dataset dataset, List<String> features) {
        var source = dataset.source();
        try {
            if (isParquet(dataset)) return ParquetReference.read(dataset, features);
            try (BufferedReader in = dataset.file() != null ? Files.newBufferedReader(dataset.file(), StandardCharsets.UTF_8)
                    : new BufferedReader(new java.io.InputStreamReader(new java.io.ByteArrayInputStream(dataset.bytes()), StandardCharsets.UTF_8))) {
                return csv(in, source, features);
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            var failure = new InvalidSpecException("spec.reference.uri: cannot read " + source + ": " + e.getMessage());
            failure.initCause(e);
            throw failure;
        }
    }

    private static boolean isParquet(ReferenceSource.Dataset dataset) throws IOException {
        byte[] head;
        if (dataset.file() != null) {
            try (var in = Files.newInputStream(dataset.file())) {
                head = in.readNBytes(4);
            }
        } else {
            head = java.util.Arrays.copyOf(dataset.bytes(), Math.min(4, dataset.bytes().length));
        }
        return java.util.Arrays.equals(head, "PAR1".getBytes(StandardCharsets.US_ASCII));
    }

    private static double[][] csv(BufferedReader in, String uri, List<String> features) throws IOException {
        var header = in.readLine();
        if (header == null) throw new InvalidSpecException("spec.reference.uri: " + uri + " is empty; it needs a header row naming the columns");
        var names = split(stripBom(header));
        var index = new int[features.size()];
        for (int f = 0; f < features.size(); f++) {
            index[f] = names.indexOf(features.get(f));
            if (index[f] < 0) {
                throw new InvalidSpecException("spec.reference.features[" + f + "]: '" + Names.printable(features.get(f))
                        + "' is not a column of " + uri + "; its header has " + names.size() + " columns");
            }
        }
        var rows = new ArrayList<double[]>();
        String line;
        int lineNumber = 1;
        while ((line = in.readLine()) != null) {
            lineNumber++;
            if (line.isBlank()) continue;
            if (rows.size() >= ModelMonitorSpec.MAX_ROWS) {
                throw new InvalidSpecException("spec.reference.uri: " + uri + " has more than " + ModelMonitorSpec.MAX_ROWS + " rows; give a sample");
            }
            var cells = split(line);
            var row = new double[features.size()];
            for (int f = 0; f < features.size(); f++) {
                if (index[f] >= cells.size()) {
                    throw new InvalidSpecException("spec.reference.uri: line " + lineNumber + " of " + uri + " has no column '"
                            + Names.printable(features.get(f)) + "'");
                }
                try {
                    row[f] = Double.parseDouble(cells.get(index[f]).strip());
                } catch (NumberFormatException e) {
                    throw new InvalidSpecException("spec.reference.uri: line " + lineNumber + " of " + uri + ": column '"
                            + Names.printable(features.get(f)) + "' is not a number (categorical features are numeric codes, as in the input tensor)");
                }
                if (!Double.isFinite(row[f])) {
                    throw new InvalidSpecException("spec.reference.uri: line " + lineNumber + " of " + uri + ": column '"
                            + Names.printable(features.get(f)) + "' is not a finite number");
                }
            }
            rows.add(row);
        }
        if (rows.size() < 2) throw new InvalidSpecException("spec.reference.uri: " + uri + " has " + rows.size() + " data rows; it needs at least 2");
        var columns = new double[features.size()][rows.size()];
        for (int r = 0; r < rows.size(); r++) for (int f = 0; f < features.size(); f++) columns[f][r] = rows.get(r)[f];
        return columns;
    }

    private static String stripBom(String s) {
        return s.startsWith("\uFEFF") ? s.substring(1) : s;
    }

    /** Splits one CSV line; a quoted field may hold commas and doubled quotes. */
    static List<String> split(String line) {
        var out = new ArrayList<String>();
        var cell = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    cell.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    cell.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                out.add(cell.toString().strip());
                cell.setLength(0);
            } else {
                cell.append(c);
            }
        }
        out.add(cell.toString().strip());
        return out;
    }
}
