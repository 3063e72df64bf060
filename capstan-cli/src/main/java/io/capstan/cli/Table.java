package io.capstan.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A plain-text table in kubectl's style: upper-case headers, left-aligned columns three spaces apart, and no
 * trailing blanks. Cells are escaped so that a hostile name cannot move the cursor or break a row.
 */
final class Table {
    private static final String GAP = "   ";

    private final List<String> headers;
    private final List<List<String>> rows = new ArrayList<>();

    Table(List<String> headers) {
        this.headers = List.copyOf(headers);
    }

    Table add(List<String> cells) {
        Objects.requireNonNull(cells, "cells");
        if (cells.size() != headers.size()) {
            throw new IllegalArgumentException("row has " + cells.size() + " cells, table has " + headers.size() + " columns");
        }
        rows.add(cells.stream().map(Table::clean).toList());
        return this;
    }

    /** Column widths wide enough for the headers and every row added so far. */
    int[] widths() {
        var widths = new int[headers.size()];
        for (int i = 0; i < widths.length; i++) widths[i] = headers.get(i).length();
        for (var row : rows) {
            for (int i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i], row.get(i).length());
        }
        return widths;
    }

    /** The header line and all rows, each ending with a line separator. */
    String render() {
        var widths = widths();
        var sb = new StringBuilder(line(headers, widths)).append(System.lineSeparator());
        for (var row : rows) sb.append(line(row, widths)).append(System.lineSeparator());
        return sb.toString();
    }

    /** One row laid out with given widths, as a watch prints rows that arrive after the table. */
    static String line(List<String> cells, int[] widths) {
        var sb = new StringBuilder();
        for (int i = 0; i < cells.size(); i++) {
            var cell = clean(cells.get(i));
            if (i > 0) sb.append(GAP);
            sb.append(cell);
            int width = i < widths.length ? widths[i] : 0;
            if (i < cells.size() - 1) sb.append(" ".repeat(Math.max(0, width - cell.length())));
        }
        return sb.toString().stripTrailing();
    }

    private static String clean(String cell) {
        var sb = new StringBuilder();
        cell.codePoints().forEach(cp -> {
            if (cp == '\n' || cp == '\r' || cp == '\t') sb.append(' ');
            else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) sb.append(String.format("\\u%04x", cp));
            else sb.appendCodePoint(cp);
        });
        return sb.toString();
    }
}
