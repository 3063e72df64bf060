package io.capstan.components;

import io.capstan.core.InvalidSpecException;
import io.capstan.core.PermanentFailureException;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;

/**
 * A CSV file held in memory: a header of column names and rows of string cells. Datasets pass between built-in
 * components as RFC 4180 CSV with a header, comma-separated, one row per line.
 *
 * @param columns the column names, unique and in file order
 * @param rows    the data rows, each as long as {@code columns}
 */
record Table(List<String> columns, List<List<String>> rows) {
    Table {
        columns = List.copyOf(columns);
        rows = rows.stream().map(List::copyOf).toList();
        var seen = new HashSet<String>();
        for (var c : columns) {
            if (!seen.add(c)) throw new InvalidSpecException("column '%s' appears twice in the header; give every column a unique name".formatted(c));
        }
        for (int i = 0; i < rows.size(); i++) {
            if (rows.get(i).size() != columns.size()) {
                throw new InvalidSpecException("data row %d has %d fields but the header has %d columns; fix the CSV so every row has the same number of fields"
                        .formatted(i + 1, rows.get(i).size(), columns.size()));
            }
        }
    }

    /** Reads a dataset written by a built-in component: comma-separated with a header. */
    static Table read(Path file, String what) {
        return read(file, ',', true, what);
    }

    static Table read(Path file, char delimiter, boolean hasHeader, String what) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (CharacterCodingException e) {
            throw new InvalidSpecException("%s at %s is not UTF-8 text; convert it to UTF-8 CSV".formatted(what, file));
        } catch (IOException e) {
            throw new PermanentFailureException("could not read %s at %s (%s)".formatted(what, file, e), e);
        }
        var records = parse(text, delimiter, what);
        if (records.isEmpty()) {
            throw new InvalidSpecException("%s at %s is empty; give a CSV file with a header and at least one data row".formatted(what, file));
        }
        List<String> header;
        List<List<String>> data;
        if (hasHeader) {
            header = records.getFirst().stream().map(String::strip).toList();
            data = records.subList(1, records.size());
        } else {
            int width = records.getFirst().size();
            header = java.util.stream.IntStream.range(0, width).mapToObj(i -> "column_" + i).toList();
            data = records;
        }
        if (data.isEmpty()) {
            throw new InvalidSpecException("%s at %s has a header but no data rows; give a CSV file with at least one data row".formatted(what, file));
        }
        for (int i = 0; i < header.size(); i++) {
            if (header.get(i).isEmpty()) {
                throw new InvalidSpecException("%s at %s has an empty name for column %d; name every column in the header, or set has_header to false"
                        .formatted(what, file, i + 1));
            }
        }
        try {
            return new Table(header, data);
        } catch (InvalidSpecException e) {
            throw new InvalidSpecException("%s at %s: %s".formatted(what, file, e.getMessage()));
        }
    }

    /** Parses RFC 4180 CSV; blank lines are skipped. */
    static List<List<String>> parse(String text, char delimiter, String what) {
        var records = new ArrayList<List<String>>();
        var record = new ArrayList<String>();
        var cell = new StringBuilder();
        boolean quoted = false;
        boolean cellStarted = false;
        int i = text.startsWith("\uFEFF") ? 1 : 0;
        int line = 1;
        for (; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quoted) {
                if (c == '"') {
                    if (i + 1 < text.length() && text.charAt(i + 1) == '"') {
                        cell.append('"');
                        i++;
                    } else {
                        quoted = false;
                    }
                } else {
                    if (c == '\n') line++;
                    cell.append(c);
                }
            } else if (c == '"' && cell.isEmpty()) {
                quoted = true;
                cellStarted = true;
            } else if (c == delimiter) {
                record.add(cell.toString());
                cell.setLength(0);
                cellStarted = true;
            } else if (c == '\n' || c == '\r') {
                if (c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') i++;
                line++;
                if (cellStarted || !cell.isEmpty() || !record.isEmpty()) {
                    record.add(cell.toString());
                    records.add(record);
                }
                record = new ArrayList<>();
                cell.setLength(0);
                cellStarted = false;
            } else {
                cell.append(c);
            }
        }
        if (quoted) {
            throw new InvalidSpecException("%s has a quoted field that is never closed (opened before line %d); close every \" with a matching \""
                    .formatted(what, line));
        }
        if (cellStarted || !cell.isEmpty() || !record.isEmpty()) {
            record.add(cell.toString());
            records.add(record);
        }
        return records;
    }

    /** Writes this table as comma-separated RFC 4180 CSV with a header and {@code \n} line ends. */
    void write(Path file, String what) {
        var sb = new StringBuilder();
        appendRecord(sb, columns);
        rows.forEach(r -> appendRecord(sb, r));
        LocalFiles.writeString(file, sb.toString(), what);
    }

    private static void appendRecord(StringBuilder sb, List<String> cells) {
        for (int i = 0; i < cells.size(); i++) {
            if (i > 0) sb.append(',');
            var cell = cells.get(i);
            if (cell.indexOf(',') >= 0 || cell.indexOf('"') >= 0 || cell.indexOf('\n') >= 0 || cell.indexOf('\r') >= 0) {
                sb.append('"').append(cell.replace("\"", "\"\"")).append('"');
            } else {
                sb.append(cell);
            }
        }
        sb.append('\n');
    }

    /** The index of column {@code name}; {@code parameter} names the input parameter that asked for it. */
    int column(String name, String parameter) {
        Objects.requireNonNull(name, "name");
        int index = columns.indexOf(name);
        if (index < 0) {
            throw new InvalidSpecException("input parameter '%s' names column '%s', which the dataset does not have; use one of %s"
                    .formatted(parameter, name, columns));
        }
        return index;
    }

    Table withRows(List<List<String>> subset) {
        return new Table(columns, subset);
    }

    /** The distinct values of column {@code index}, sorted. */
    List<String> distinct(int index) {
        var values = new TreeSet<String>();
        rows.forEach(r -> values.add(r.get(index)));
        return List.copyOf(values);
    }

    /** The cells of {@code featureColumns} parsed as numbers, row by row; a non-number names its column and row. */
    double[][] numbers(List<String> featureColumns, String what) {
        var indexes = featureColumns.stream().mapToInt(c -> {
            int i = columns.indexOf(c);
            if (i < 0) {
                throw new InvalidSpecException("%s has no column '%s', which the model was trained on; give a dataset with the same feature columns %s"
                        .formatted(what, c, featureColumns));
            }
            return i;
        }).toArray();
        var out = new double[rows.size()][indexes.length];
        for (int r = 0; r < rows.size(); r++) {
            for (int f = 0; f < indexes.length; f++) {
                var cell = rows.get(r).get(indexes[f]).strip();
                try {
                    out[r][f] = Double.parseDouble(cell);
                } catch (NumberFormatException e) {
                    throw nonNumeric(what, featureColumns.get(f), r, cell);
                }
                if (!Double.isFinite(out[r][f])) throw nonNumeric(what, featureColumns.get(f), r, cell);
            }
        }
        return out;
    }

    private static InvalidSpecException nonNumeric(String what, String column, int row, String cell) {
        return new InvalidSpecException(("%s has value '%s' in feature column '%s' at data row %d, which is not a finite number; "
                + "built-in trainers need numeric features, so drop or encode that column").formatted(what, cell, column, row + 1));
    }
}
