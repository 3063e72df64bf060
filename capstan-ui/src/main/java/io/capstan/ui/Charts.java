package io.capstan.ui;

import java.util.List;
import java.util.Locale;

/** Small charts drawn on the server as SVG: a line with markers, grouped bars and parallel coordinates. */
final class Charts {
    private static final int W = 640;
    private static final int H = 240;
    private static final int PAD = 40;

    interface Cell {
        Double value(int row, String column);
    }

    private Charts() {
    }

    /** A step line through {@code ys} (x is the index), labelled {@code label}; points that are null are skipped. */
    static String line(String label, List<Double> values, List<Double> best) {
        var present = values.stream().filter(v -> v != null).toList();
        if (present.isEmpty()) return "<p class=\"none\">No observations yet.</p>";
        double min = present.stream().mapToDouble(Double::doubleValue).min().orElse(0);
        double max = present.stream().mapToDouble(Double::doubleValue).max().orElse(1);
        if (max == min) { max += 1; min -= 1; }
        int n = values.size();
        var sb = new StringBuilder("<svg class=\"chart\" role=\"img\" aria-label=\"").append(Html.esc(label)).append("\" viewBox=\"0 0 ")
                .append(W).append(' ').append(H).append("\" width=\"").append(W).append("\" height=\"").append(H).append("\">");
        axes(sb, min, max);
        for (int i = 0; i < n; i++) {
            if (values.get(i) == null) continue;
            sb.append("<circle class=\"obs\" r=\"3\" cx=\"").append(x(i, n)).append("\" cy=\"").append(y(values.get(i), min, max)).append("\"><title>trial ")
                    .append(i + 1).append(": ").append(Html.number(values.get(i))).append("</title></circle>");
        }
        sb.append("<polyline class=\"best\" points=\"");
        for (int i = 0; i < best.size(); i++) {
            if (best.get(i) == null) continue;
            sb.append(x(i, n)).append(',').append(y(best.get(i), min, max)).append(' ');
        }
        sb.append("\"/><text x=\"").append(W / 2).append("\" y=\"").append(H - 4).append("\" text-anchor=\"middle\">trial</text></svg>");
        return sb.toString();
    }

    /**
     * One line per series on shared axes, x being each value's position in its series: several runs' curves of one
     * metric overlaid, each in its own colour with a legend. Null values are skipped.
     */
    static String overlay(String label, java.util.Map<String, List<Double>> series) {
        double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
        int n = 0;
        for (var values : series.values()) {
            n = Math.max(n, values.size());
            for (var v : values) if (v != null) { min = Math.min(min, v); max = Math.max(max, v); }
        }
        if (Double.isInfinite(min)) return "<p class=\"none\">No values of " + Html.esc(label) + ".</p>";
        if (max == min) { max += 1; min -= 1; }
        var sb = new StringBuilder("<svg class=\"chart overlay\" role=\"img\" aria-label=\"").append(Html.esc(label)).append("\" viewBox=\"0 0 ")
                .append(W).append(' ').append(H).append("\" width=\"").append(W).append("\" height=\"").append(H).append("\">");
        axes(sb, min, max);
        int i = 0;
        for (var e : series.entrySet()) {
            var cls = "series-" + (i % 6);
            sb.append("<g class=\"curve ").append(cls).append("\" data-series=\"").append(Html.esc(e.getKey())).append("\"><title>").append(Html.esc(e.getKey())).append("</title>")
                    .append("<polyline points=\"");
            var values = e.getValue();
            for (int k = 0; k < values.size(); k++) {
                if (values.get(k) != null) sb.append(x(k, n)).append(',').append(y(values.get(k), min, max)).append(' ');
            }
            sb.append("\"/>");
            for (int k = 0; k < values.size(); k++) {
                if (values.get(k) == null) continue;
                sb.append("<circle r=\"3\" cx=\"").append(x(k, n)).append("\" cy=\"").append(y(values.get(k), min, max)).append("\"><title>")
                        .append(Html.esc(e.getKey())).append(" #").append(k + 1).append(": ").append(Html.number(values.get(k))).append("</title></circle>");
            }
            sb.append("<text class=\"legend\" x=\"").append(W - PAD * 4).append("\" y=\"").append(PAD / 2 + 14 * i).append("\">").append(Html.esc(e.getKey())).append("</text></g>");
            i++;
        }
        return sb.append("</svg>").toString();
    }

    /** One line per row across one vertical axis per column, each axis scaled to its own range. */
    static String parallelCoordinates(String label, List<String> columns, int rows, Cell cell, int highlight) {
        if (columns.size() < 2 || rows == 0) return "<p class=\"none\">Parallel coordinates need at least two parameters or metrics and one trial.</p>";
        var sb = new StringBuilder("<svg class=\"chart parallel\" role=\"img\" aria-label=\"").append(Html.esc(label)).append("\" viewBox=\"0 0 ")
                .append(W).append(' ').append(H).append("\" width=\"").append(W).append("\" height=\"").append(H).append("\">");
        double[] min = new double[columns.size()];
        double[] max = new double[columns.size()];
        for (int c = 0; c < columns.size(); c++) {
            min[c] = Double.POSITIVE_INFINITY;
            max[c] = Double.NEGATIVE_INFINITY;
            for (int r = 0; r < rows; r++) {
                var v = cell.value(r, columns.get(c));
                if (v == null) continue;
                min[c] = Math.min(min[c], v);
                max[c] = Math.max(max[c], v);
            }
            if (min[c] == max[c]) { min[c] -= 1; max[c] += 1; }
            if (Double.isInfinite(min[c])) { min[c] = 0; max[c] = 1; }
            int ax = px(c, columns.size());
            sb.append("<line class=\"axis\" x1=\"").append(ax).append("\" x2=\"").append(ax).append("\" y1=\"").append(PAD / 2).append("\" y2=\"").append(H - PAD)
                    .append("\"/><text x=\"").append(ax).append("\" y=\"").append(H - PAD + 16).append("\" text-anchor=\"middle\">").append(Html.esc(columns.get(c)))
                    .append("</text><text class=\"tick\" x=\"").append(ax + 3).append("\" y=\"").append(PAD / 2 + 4).append("\">").append(Html.number(max[c]))
                    .append("</text><text class=\"tick\" x=\"").append(ax + 3).append("\" y=\"").append(H - PAD - 2).append("\">").append(Html.number(min[c])).append("</text>");
        }
        for (int r = 0; r < rows; r++) {
            sb.append("<polyline class=\"trial").append(r == highlight ? " best" : "").append("\" points=\"");
            for (int c = 0; c < columns.size(); c++) {
                var v = cell.value(r, columns.get(c));
                if (v == null) continue;
                double t = (v - min[c]) / (max[c] - min[c]);
                sb.append(px(c, columns.size())).append(',').append(String.format(Locale.ROOT, "%.1f", H - PAD - t * (H - 1.5 * PAD))).append(' ');
            }
            sb.append("\"/>");
        }
        return sb.append("</svg>").toString();
    }

    /** One group of bars per column (metric), one bar per row (run). */
    static String groupedBars(List<String> rows, List<String> columns, Cell cell) {
        var sb = new StringBuilder("<svg class=\"chart bars\" role=\"img\" aria-label=\"Metrics by run\" viewBox=\"0 0 ")
                .append(W).append(' ').append(H).append("\" width=\"").append(W).append("\" height=\"").append(H).append("\">");
        double max = 0;
        for (int r = 0; r < rows.size(); r++) for (var c : columns) {
            var v = cell.value(r, c);
            if (v != null) max = Math.max(max, Math.abs(v));
        }
        if (max == 0) max = 1;
        double group = (W - 2.0 * PAD) / columns.size();
        double bar = group / (rows.size() + 1);
        for (int c = 0; c < columns.size(); c++) {
            for (int r = 0; r < rows.size(); r++) {
                var v = cell.value(r, columns.get(c));
                if (v == null) continue;
                double h = Math.abs(v) / max * (H - 2.0 * PAD);
                sb.append("<rect class=\"series-").append(r % 6).append("\" x=\"").append(String.format(Locale.ROOT, "%.1f", PAD + c * group + r * bar))
                        .append("\" y=\"").append(String.format(Locale.ROOT, "%.1f", H - PAD - h)).append("\" width=\"").append(String.format(Locale.ROOT, "%.1f", bar * 0.9))
                        .append("\" height=\"").append(String.format(Locale.ROOT, "%.1f", h)).append("\"><title>").append(Html.esc(rows.get(r))).append(' ')
                        .append(Html.esc(columns.get(c))).append(": ").append(Html.number(v)).append("</title></rect>");
            }
            sb.append("<text x=\"").append(String.format(Locale.ROOT, "%.1f", PAD + c * group + group / 2)).append("\" y=\"").append(H - PAD + 16)
                    .append("\" text-anchor=\"middle\">").append(Html.esc(columns.get(c))).append("</text>");
        }
        return sb.append("</svg>").toString();
    }

    private static void axes(StringBuilder sb, double min, double max) {
        sb.append("<line class=\"axis\" x1=\"").append(PAD).append("\" y1=\"").append(H - PAD).append("\" x2=\"").append(W - PAD / 2).append("\" y2=\"").append(H - PAD).append("\"/>")
                .append("<line class=\"axis\" x1=\"").append(PAD).append("\" y1=\"").append(PAD / 2).append("\" x2=\"").append(PAD).append("\" y2=\"").append(H - PAD).append("\"/>")
                .append("<text class=\"tick\" x=\"2\" y=\"").append(PAD / 2 + 4).append("\">").append(Html.number(max)).append("</text>")
                .append("<text class=\"tick\" x=\"2\" y=\"").append(H - PAD).append("\">").append(Html.number(min)).append("</text>");
    }

    private static String x(int i, int n) {
        return String.format(Locale.ROOT, "%.1f", PAD + (n <= 1 ? 0.5 : i / (n - 1.0)) * (W - 1.5 * PAD));
    }

    private static String y(double v, double min, double max) {
        return String.format(Locale.ROOT, "%.1f", H - PAD - (v - min) / (max - min) * (H - 1.5 * PAD));
    }

    private static int px(int c, int n) {
        return (int) (PAD + c * (W - 2.0 * PAD) / (n - 1));
    }
}
