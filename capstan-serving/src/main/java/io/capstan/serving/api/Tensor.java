package io.capstan.serving.api;

import java.lang.reflect.Array;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;

/**
 * A named tensor: the protocol's input and output tensors alike.
 *
 * <p>{@code data} is the flat, row-major content in the primitive array given by
 * {@link DataType#carrier()} (e.g. {@code float[]} for FP32, {@code byte[][]} for BYTES); its
 * length always equals the product of {@code shape}. The arrays are not copied: treat them as
 * immutable once handed over.
 *
 * @param parameters protocol parameters; values are String, Boolean, Long or Double
 */
public record Tensor(String name, DataType datatype, long[] shape, Object data, Map<String, Object> parameters) {

    public Tensor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(datatype, "datatype");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(data, "data");
        parameters = parameters == null ? Map.of() : Map.copyOf(parameters);
        if (!datatype.carrier().isInstance(data)) {
            throw new InvalidInputException("tensor '" + name + "': datatype " + datatype + " needs data as "
                    + datatype.carrier().getSimpleName() + ", got " + data.getClass().getSimpleName());
        }
        long expected = elementCount(shape);
        int actual = Array.getLength(data);
        if (expected != actual) {
            throw new InvalidInputException("tensor '" + name + "': shape " + Arrays.toString(shape) + " needs "
                    + expected + " elements but data has " + actual);
        }
    }

    public Tensor(String name, DataType datatype, long[] shape, Object data) {
        this(name, datatype, shape, data, Map.of());
    }

    public static Tensor ofFloats(String name, long[] shape, float[] data) {
        return new Tensor(name, DataType.FP32, shape, data);
    }

    public static Tensor ofDoubles(String name, long[] shape, double[] data) {
        return new Tensor(name, DataType.FP64, shape, data);
    }

    public static Tensor ofLongs(String name, long[] shape, long[] data) {
        return new Tensor(name, DataType.INT64, shape, data);
    }

    public static Tensor ofInts(String name, long[] shape, int[] data) {
        return new Tensor(name, DataType.INT32, shape, data);
    }

    public static Tensor ofStrings(String name, long[] shape, String... data) {
        byte[][] bytes = new byte[data.length][];
        for (int i = 0; i < data.length; i++) {
            bytes[i] = data[i].getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
        return new Tensor(name, DataType.BYTES, shape, bytes);
    }

    /** Number of elements a shape holds; throws {@link InvalidInputException} for negative or overflowing shapes. */
    public static long elementCount(long[] shape) {
        long count = 1;
        for (long dimension : shape) {
            if (dimension < 0) {
                throw new InvalidInputException("shape " + Arrays.toString(shape) + " has a negative dimension");
            }
            // Checked before multiplying, which could overflow a long: [3, 2^62] is too large, not an ArithmeticException.
            if (dimension > 0 && count > (Integer.MAX_VALUE - 8) / dimension) {
                throw new InvalidInputException("shape " + Arrays.toString(shape) + " is too large");
            }
            count *= dimension;
        }
        return count;
    }

    public int size() {
        return Array.getLength(data);
    }

    public float[] floats() {
        return (float[]) data;
    }

    public double[] doubles() {
        return (double[]) data;
    }

    public int[] ints() {
        return (int[]) data;
    }

    public long[] longs() {
        return (long[]) data;
    }

    public byte[][] bytes() {
        return (byte[][]) data;
    }

    /** This tensor with another name, e.g. to answer under a requested output name. */
    public Tensor withName(String newName) {
        return new Tensor(newName, datatype, shape, data, parameters);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Tensor that
                && name.equals(that.name)
                && datatype == that.datatype
                && Arrays.equals(shape, that.shape)
                && Objects.deepEquals(data, that.data)
                && parameters.equals(that.parameters);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, datatype, Arrays.hashCode(shape), parameters);
    }

    @Override
    public String toString() {
        return "Tensor[" + name + ", " + datatype + ", " + Arrays.toString(shape) + "]";
    }
}
