package io.capstan.serving.runtime;

import io.capstan.serving.api.Tensor;

/** Turns per-row predictions into a flat tensor. */
final class Rows {
    private Rows() {
    }

    /** FP32 [rows] when each row has one value, else [rows, values]. */
    static Tensor toTensor(String name, float[][] predictions, int rows) {
        int width = rows == 0 ? 1 : predictions[0].length;
        var flat = new float[rows * width];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(predictions[r], 0, flat, r * width, width);
        }
        long[] shape = width == 1 ? new long[] {rows} : new long[] {rows, width};
        return Tensor.ofFloats(name, shape, flat);
    }

    static Tensor toTensor(String name, double[] flat, int rows) {
        int width = rows == 0 ? 1 : flat.length / rows;
        long[] shape = width == 1 ? new long[] {rows} : new long[] {rows, width};
        return Tensor.ofDoubles(name, shape, flat);
    }
}
