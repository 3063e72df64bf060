package io.capstan.serving.internal;

import io.capstan.serving.api.Tensor;
import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Concatenates tensors along the first dimension and splits them back. */
final class TensorBatches {
    private TensorBatches() {
    }

    /** Whether two tensors can be stacked: same name, datatype and trailing dimensions. */
    static boolean stackable(Tensor a, Tensor b) {
        if (!a.name().equals(b.name()) || a.datatype() != b.datatype() || a.shape().length != b.shape().length || a.shape().length == 0) {
            return false;
        }
        for (int d = 1; d < a.shape().length; d++) {
            if (a.shape()[d] != b.shape()[d]) return false;
        }
        return true;
    }

    static Tensor concat(List<Tensor> parts) {
        var first = parts.getFirst();
        if (parts.size() == 1) return first;
        long rows = 0;
        int total = 0;
        for (var p : parts) {
            rows += p.shape()[0];
            total += p.size();
        }
        Object data = Array.newInstance(first.datatype().carrier().getComponentType(), total);
        int offset = 0;
        for (var p : parts) {
            System.arraycopy(p.data(), 0, data, offset, p.size());
            offset += p.size();
        }
        long[] shape = first.shape().clone();
        shape[0] = rows;
        return new Tensor(first.name(), first.datatype(), shape, data, first.parameters());
    }

    /** Splits {@code tensor} into pieces of {@code rows[i]} rows each. */
    static List<Tensor> split(Tensor tensor, int[] rows) {
        long total = Arrays.stream(rows).sum();
        if (tensor.shape().length == 0 || tensor.shape()[0] != total) {
            throw new IllegalStateException("output '" + tensor.name() + "' has shape " + Arrays.toString(tensor.shape())
                    + ", which does not start with the batch's " + total + " rows");
        }
        int rowSize = total == 0 ? 0 : (int) (tensor.size() / total);
        var out = new ArrayList<Tensor>(rows.length);
        int offset = 0;
        for (int r : rows) {
            Object data = Array.newInstance(tensor.datatype().carrier().getComponentType(), r * rowSize);
            System.arraycopy(tensor.data(), offset, data, 0, r * rowSize);
            offset += r * rowSize;
            long[] shape = tensor.shape().clone();
            shape[0] = r;
            out.add(new Tensor(tensor.name(), tensor.datatype(), shape, data, tensor.parameters()));
        }
        return out;
    }
}
