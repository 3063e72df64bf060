package io.capstan.monitoring.internal;

import io.capstan.serving.api.PayloadTap;
import io.capstan.serving.api.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The rows of a run of answered requests: the first input tensor's rows (shape [batch, features] or [features])
 * and each output tensor's columns, read from the exchanges a {@link PayloadTap} holds.
 */
final class PayloadRows {
    /** Requests a monitor sends itself (the reference's predictions) carry this id prefix and are never counted. */
    static final String OWN_REQUEST = "capstan-monitor:";

    final List<double[]> inputs = new ArrayList<>();
    /** Output columns by name ("label", or "probabilities[2]" for a column of a 2-D output), with whether they hold integers. */
    final Map<String, List<Double>> outputs = new LinkedHashMap<>();
    final Map<String, Boolean> integral = new LinkedHashMap<>();
    int skipped;
    long lastSequence = -1;
    /** The sequence of the oldest request whose rows are in the window, or -1 when none is. */
    long firstSequence = -1;
    final Map<String, Integer> rowsByRevision = new LinkedHashMap<>();

    /** The last {@code maxRows} rows of {@code exchanges} whose input has {@code width} columns; others are counted as skipped. */
    static PayloadRows of(List<PayloadTap.Exchange> exchanges, int width, int maxRows) {
        var out = new PayloadRows();
        var kept = new ArrayList<PayloadTap.Exchange>();
        int rows = 0;
        for (int i = exchanges.size() - 1; i >= 0 && rows < maxRows; i--) {
            var e = exchanges.get(i);
            if (e.request().id() != null && e.request().id().startsWith(OWN_REQUEST)) continue;
            if (e.request().inputs().isEmpty()) {
                out.skipped++;
                continue;
            }
            var input = e.request().inputs().getFirst();
            int batch = batch(input, width);
            if (batch < 0) {
                out.skipped++;
                continue;
            }
            kept.add(e);
            rows += batch;
        }
        for (int i = kept.size() - 1; i >= 0; i--) {
            var e = kept.get(i);
            var values = doubles(e.request().inputs().getFirst());
            int batch = values.length / width;
            // the oldest request kept may hold more rows than the window has room for: its first rows are left out
            int skip = i == kept.size() - 1 ? Math.max(0, rows - maxRows) : 0;
            for (int r = skip; r < batch; r++) out.inputs.add(java.util.Arrays.copyOfRange(values, r * width, (r + 1) * width));
            out.rowsByRevision.merge(e.revision(), batch - skip, Integer::sum);
            out.lastSequence = Math.max(out.lastSequence, e.sequence());
            if (out.firstSequence < 0 || e.sequence() < out.firstSequence) out.firstSequence = e.sequence();
            for (var t : e.response().outputs()) out.addOutput(t, batch, skip);
        }
        return out;
    }

    /** The rows of one input tensor, or -1 when it does not have {@code width} columns. */
    static int batch(Tensor input, int width) {
        var shape = input.shape();
        if (!numeric(input)) return -1;
        if (shape.length == 1 && shape[0] == width) return 1;
        if (shape.length == 2 && shape[1] == width) return (int) shape[0];
        return -1;
    }

    void addOutput(Tensor t, int batch, int skip) {
        if (!numeric(t)) return;
        var values = doubles(t);
        if (batch == 0 || values.length % batch != 0) return;
        int width = values.length / batch;
        boolean isInteger = t.datatype().isInteger();
        for (int c = 0; c < width; c++) {
            var name = width == 1 ? t.name() : t.name() + "[" + c + "]";
            var column = outputs.computeIfAbsent(name, n -> new ArrayList<>());
            integral.put(name, isInteger);
            for (int r = skip; r < batch; r++) column.add(values[r * width + c]);
        }
    }

    /** Whether the tensor holds numbers this class reads (FP16's raw bits, strings and booleans are not). */
    static boolean numeric(Tensor t) {
        return switch (t.datatype()) {
            case BYTES, BOOL, FP16 -> false;
            default -> true;
        };
    }

    /** A numeric tensor's data as doubles. */
    static double[] doubles(Tensor t) {
        return switch (t.data()) {
            case float[] f -> {
                var out = new double[f.length];
                for (int i = 0; i < f.length; i++) out[i] = f[i];
                yield out;
            }
            case double[] d -> d;
            case int[] v -> java.util.Arrays.stream(v).asDoubleStream().toArray();
            case long[] v -> java.util.Arrays.stream(v).asDoubleStream().toArray();
            case short[] v -> {
                var out = new double[v.length];
                for (int i = 0; i < v.length; i++) out[i] = v[i];
                yield out;
            }
            case byte[] v -> {
                var out = new double[v.length];
                for (int i = 0; i < v.length; i++) out[i] = v[i];
                yield out;
            }
            default -> new double[0];
        };
    }

    /** Column {@code c} of the input rows. */
    double[] column(int c) {
        var out = new double[inputs.size()];
        for (int r = 0; r < out.length; r++) out[r] = inputs.get(r)[c];
        return out;
    }

    /** The revision that answered most of the rows. */
    String mainRevision() {
        return rowsByRevision.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse("");
    }
}
