package io.capstan.serving.internal;

import io.capstan.serving.api.InferenceResponse;
import io.capstan.serving.api.Tensor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * What one analysis step saw of the canary and of the stable revision's baseline cohort (the share of the stable
 * revision's traffic equal to the canary's): per-request latency, errors, and the predicted values of the first
 * output. Each cohort keeps at most {@value #CAP} requests; later ones count only towards errors and totals.
 */
final class CanaryCohorts {
    static final int CAP = 1000;

    enum Cohort { CANARY, BASELINE }

    /**
     * One cohort's samples, copied out for analysis: per-request latency, the first output's values, the first input's
     * rows (when numeric and two-dimensional, as {@code [column][row]}; empty otherwise), and for the canary, how many
     * mirrored baseline requests it answered ({@code compared}) and how many of those alike ({@code agreed}).
     */
    record Samples(long requests, long errors, double[] latencyMs, List<Object> predictions, double[][] inputs, long compared, long agreed) {
        Samples(long requests, long errors, double[] latencyMs, List<Object> predictions) {
            this(requests, errors, latencyMs, predictions, new double[0][], 0, 0);
        }
    }

    private final Cohort[] cohorts = Cohort.values();
    private final long[] requests = new long[2];
    private final long[] errors = new long[2];
    private final double[][] latency = {new double[CAP], new double[CAP]};
    private final int[] kept = new int[2];
    private final List<List<Object>> predictions = List.of(new ArrayList<>(), new ArrayList<>());
    /** Input rows kept per cohort, and the width of the first one (later rows of another width are left out). */
    private final List<List<double[]>> inputs = List.of(new ArrayList<>(), new ArrayList<>());
    private long compared;
    private long agreed;
    private volatile int mirrorPercent;

    /** The percentage of the baseline cohort's requests to mirror to the canary for the agreement check. */
    void mirrorPercent(int percent) {
        this.mirrorPercent = percent;
    }

    int mirrorPercent() {
        return mirrorPercent;
    }

    /** Whether the canary's answer to a mirrored baseline request was alike (see {@link #alike}). */
    synchronized void compared(boolean alike) {
        compared++;
        if (alike) agreed++;
    }

    /** The same first-output values: class labels equal, floating-point values within 1e-6 relative. */
    static boolean alike(InferenceResponse a, InferenceResponse b) {
        if (a.outputs().isEmpty() || b.outputs().isEmpty()) return a.outputs().isEmpty() == b.outputs().isEmpty();
        var x = values(a.outputs().getFirst());
        var y = values(b.outputs().getFirst());
        if (x.size() != y.size()) return false;
        for (int i = 0; i < x.size(); i++) {
            if (x.get(i) instanceof Double p && y.get(i) instanceof Double q) {
                if (Math.abs(p - q) > 1e-6 * Math.max(1, Math.max(Math.abs(p), Math.abs(q)))) return false;
            } else if (!x.get(i).equals(y.get(i))) {
                return false;
            }
        }
        return true;
    }

    /** A server-side failure (not the caller's bad input) counts as an error. */
    synchronized void error(Cohort cohort, long nanos) {
        int c = cohort.ordinal();
        requests[c]++;
        errors[c]++;
        if (kept[c] < CAP) latency[c][kept[c]++] = nanos / 1e6;
    }

    void answered(Cohort cohort, long nanos, InferenceResponse response) {
        answered(cohort, nanos, null, response);
    }

    void answered(Cohort cohort, long nanos, io.capstan.serving.api.InferenceRequest request, InferenceResponse response) {
        var values = response.outputs().isEmpty() ? List.of() : values(response.outputs().getFirst());
        // a racy read of kept: at worst a request's rows are converted and then left out
        var rows = request == null || request.inputs().isEmpty() || kept[cohort.ordinal()] >= CAP ? List.<double[]>of() : rows(request.inputs().getFirst());
        synchronized (this) {
            int c = cohort.ordinal();
            requests[c]++;
            if (kept[c] < CAP) {
                latency[c][kept[c]++] = nanos / 1e6;
                var list = predictions.get(c);
                for (var v : values) if (list.size() < CAP * 4) list.add(v);
                var in = inputs.get(c);
                for (var row : rows) if (in.size() < CAP * 4 && (in.isEmpty() || in.getFirst().length == row.length)) in.add(row);
            }
        }
    }

    synchronized Samples samples(Cohort cohort) {
        int c = cohort.ordinal();
        var rows = inputs.get(c);
        int width = rows.isEmpty() ? 0 : rows.getFirst().length;
        var columns = new double[width][rows.size()];
        for (int r = 0; r < rows.size(); r++) for (int f = 0; f < width; f++) columns[f][r] = rows.get(r)[f];
        boolean canary = cohort == Cohort.CANARY;
        return new Samples(requests[c], errors[c], java.util.Arrays.copyOf(latency[c], kept[c]), List.copyOf(predictions.get(c)), columns,
                canary ? compared : 0, canary ? agreed : 0);
    }

    /** A numeric two-dimensional tensor's rows; none for any other. */
    private static List<double[]> rows(Tensor t) {
        var shape = t.shape();
        var type = t.datatype();
        if (shape.length != 2 || shape[1] < 1 || shape[1] > 10_000 || type == io.capstan.serving.api.DataType.BYTES
                || type == io.capstan.serving.api.DataType.BOOL) {
            return List.of();
        }
        int width = (int) shape[1];
        int n = t.size() / width;
        var out = new ArrayList<double[]>(n);
        for (int r = 0; r < n; r++) {
            var row = new double[width];
            for (int f = 0; f < width; f++) row[f] = ((Number) java.lang.reflect.Array.get(t.data(), r * width + f)).doubleValue();
            out.add(row);
        }
        return out;
    }

    /** A prediction as compared: a Double for floating-point outputs, a String class label for every other type. */
    private static List<Object> values(Tensor t) {
        var out = new ArrayList<Object>();
        int n = t.size();
        if (t.datatype() == io.capstan.serving.api.DataType.BYTES) {
            for (byte[] b : t.bytes()) out.add(new String(b, StandardCharsets.UTF_8));
        } else if (t.datatype() == io.capstan.serving.api.DataType.FP32 || t.datatype() == io.capstan.serving.api.DataType.FP64) {
            for (int i = 0; i < n; i++) out.add(((Number) java.lang.reflect.Array.get(t.data(), i)).doubleValue());
        } else {
            for (int i = 0; i < n; i++) out.add(String.valueOf(java.lang.reflect.Array.get(t.data(), i)));
        }
        return out;
    }

    @Override
    public synchronized String toString() {
        return cohorts[0] + "=" + requests[0] + " " + cohorts[1] + "=" + requests[1];
    }
}
