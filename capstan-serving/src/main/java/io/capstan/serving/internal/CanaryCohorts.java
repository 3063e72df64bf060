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

    /** One cohort's samples, copied out for analysis. */
    record Samples(long requests, long errors, double[] latencyMs, List<Object> predictions) {
    }

    private final Cohort[] cohorts = Cohort.values();
    private final long[] requests = new long[2];
    private final long[] errors = new long[2];
    private final double[][] latency = {new double[CAP], new double[CAP]};
    private final int[] kept = new int[2];
    private final List<List<Object>> predictions = List.of(new ArrayList<>(), new ArrayList<>());

    /** A server-side failure (not the caller's bad input) counts as an error. */
    synchronized void error(Cohort cohort, long nanos) {
        int c = cohort.ordinal();
        requests[c]++;
        errors[c]++;
        if (kept[c] < CAP) latency[c][kept[c]++] = nanos / 1e6;
    }

    void answered(Cohort cohort, long nanos, InferenceResponse response) {
        var values = response.outputs().isEmpty() ? List.of() : values(response.outputs().getFirst());
        synchronized (this) {
            int c = cohort.ordinal();
            requests[c]++;
            if (kept[c] < CAP) {
                latency[c][kept[c]++] = nanos / 1e6;
                var list = predictions.get(c);
                for (var v : values) if (list.size() < CAP * 4) list.add(v);
            }
        }
    }

    synchronized Samples samples(Cohort cohort) {
        int c = cohort.ordinal();
        return new Samples(requests[c], errors[c], java.util.Arrays.copyOf(latency[c], kept[c]), List.copyOf(predictions.get(c)));
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
