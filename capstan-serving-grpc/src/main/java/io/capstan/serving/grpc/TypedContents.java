package io.capstan.serving.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.capstan.serving.api.DataType;
import io.capstan.serving.api.InvalidInputException;
import io.capstan.serving.api.Tensor;
import io.capstan.serving.grpc.proto.InferTensorContents;
import java.util.ArrayList;
import java.util.List;

/**
 * The protocol's typed tensor form, {@link InferTensorContents}: one repeated field per family of
 * datatypes. INT8 and INT16 travel in {@code int_contents}, UINT8 and UINT16 in
 * {@code uint_contents}; FP16 has no typed form and must be sent raw.
 */
final class TypedContents {

    private TypedContents() {
    }

    /** The field of {@link InferTensorContents} that carries {@code type}, as the protocol names it. */
    static String fieldFor(DataType type) {
        return switch (type) {
            case BOOL -> "bool_contents";
            case INT8, INT16, INT32 -> "int_contents";
            case INT64 -> "int64_contents";
            case UINT8, UINT16, UINT32 -> "uint_contents";
            case UINT64 -> "uint64_contents";
            case FP32 -> "fp32_contents";
            case FP64 -> "fp64_contents";
            case BYTES -> "bytes_contents";
            case FP16 -> "raw_input_contents";
        };
    }

    /**
     * Decodes {@code count} elements of {@code type} into the datatype's carrier array.
     *
     * @throws InvalidInputException when the data is in another type's field, has the wrong count,
     *     or holds a value out of the datatype's range
     */
    static Object decode(DataType type, int count, InferTensorContents contents) {
        if (type == DataType.FP16) {
            throw new InvalidInputException("FP16 has no typed contents; send FP16 tensors in raw_input_contents");
        }
        String field = fieldFor(type);
        List<String> foreign = populatedFields(contents);
        foreign.remove(field);
        if (!foreign.isEmpty()) {
            throw new InvalidInputException("contents of a " + type + " tensor go in " + field + ", but "
                    + String.join(" and ", foreign) + (foreign.size() == 1 ? " is" : " are") + " set");
        }
        int actual = countIn(type, contents);
        if (actual != count) {
            throw new InvalidInputException("the shape needs " + count + " elements but " + field + " has " + actual);
        }
        return switch (type) {
            case BOOL -> {
                boolean[] out = new boolean[count];
                for (int i = 0; i < count; i++) {
                    out[i] = contents.getBoolContents(i);
                }
                yield out;
            }
            case INT8 -> {
                byte[] out = new byte[count];
                for (int i = 0; i < count; i++) {
                    out[i] = (byte) inRange(contents.getIntContents(i), Byte.MIN_VALUE, Byte.MAX_VALUE, type, i);
                }
                yield out;
            }
            case INT16 -> {
                short[] out = new short[count];
                for (int i = 0; i < count; i++) {
                    out[i] = (short) inRange(contents.getIntContents(i), Short.MIN_VALUE, Short.MAX_VALUE, type, i);
                }
                yield out;
            }
            case INT32 -> {
                int[] out = new int[count];
                for (int i = 0; i < count; i++) {
                    out[i] = contents.getIntContents(i);
                }
                yield out;
            }
            case INT64 -> {
                long[] out = new long[count];
                for (int i = 0; i < count; i++) {
                    out[i] = contents.getInt64Contents(i);
                }
                yield out;
            }
            case UINT8 -> {
                byte[] out = new byte[count];
                for (int i = 0; i < count; i++) {
                    out[i] = (byte) inRange(Integer.toUnsignedLong(contents.getUintContents(i)), 0, 0xFF, type, i);
                }
                yield out;
            }
            case UINT16 -> {
                short[] out = new short[count];
                for (int i = 0; i < count; i++) {
                    out[i] = (short) inRange(Integer.toUnsignedLong(contents.getUintContents(i)), 0, 0xFFFF, type, i);
                }
                yield out;
            }
            case UINT32 -> {
                int[] out = new int[count];
                for (int i = 0; i < count; i++) {
                    out[i] = contents.getUintContents(i);
                }
                yield out;
            }
            case UINT64 -> {
                long[] out = new long[count];
                for (int i = 0; i < count; i++) {
                    out[i] = contents.getUint64Contents(i);
                }
                yield out;
            }
            case FP32 -> {
                float[] out = new float[count];
                for (int i = 0; i < count; i++) {
                    out[i] = contents.getFp32Contents(i);
                }
                yield out;
            }
            case FP64 -> {
                double[] out = new double[count];
                for (int i = 0; i < count; i++) {
                    out[i] = contents.getFp64Contents(i);
                }
                yield out;
            }
            case BYTES -> {
                byte[][] out = new byte[count][];
                for (int i = 0; i < count; i++) {
                    out[i] = contents.getBytesContents(i).toByteArray();
                }
                yield out;
            }
            case FP16 -> throw new IllegalStateException("FP16 is rejected above");
        };
    }

    private static long inRange(long value, long min, long max, DataType type, int index) {
        if (value < min || value > max) {
            throw new InvalidInputException("element " + index + " is " + value + ", outside " + type + "'s range ["
                    + min + ", " + max + "]");
        }
        return value;
    }

    private static int countIn(DataType type, InferTensorContents contents) {
        return switch (type) {
            case BOOL -> contents.getBoolContentsCount();
            case INT8, INT16, INT32 -> contents.getIntContentsCount();
            case INT64 -> contents.getInt64ContentsCount();
            case UINT8, UINT16, UINT32 -> contents.getUintContentsCount();
            case UINT64 -> contents.getUint64ContentsCount();
            case FP32 -> contents.getFp32ContentsCount();
            case FP64 -> contents.getFp64ContentsCount();
            case BYTES -> contents.getBytesContentsCount();
            case FP16 -> 0;
        };
    }

    private static List<String> populatedFields(InferTensorContents contents) {
        List<String> fields = new ArrayList<>(2);
        if (contents.getBoolContentsCount() > 0) fields.add("bool_contents");
        if (contents.getIntContentsCount() > 0) fields.add("int_contents");
        if (contents.getInt64ContentsCount() > 0) fields.add("int64_contents");
        if (contents.getUintContentsCount() > 0) fields.add("uint_contents");
        if (contents.getUint64ContentsCount() > 0) fields.add("uint64_contents");
        if (contents.getFp32ContentsCount() > 0) fields.add("fp32_contents");
        if (contents.getFp64ContentsCount() > 0) fields.add("fp64_contents");
        if (contents.getBytesContentsCount() > 0) fields.add("bytes_contents");
        return fields;
    }

    /** Encodes a tensor's data in the typed form; FP16 tensors must be encoded raw instead. */
    static InferTensorContents encode(Tensor tensor) {
        InferTensorContents.Builder out = InferTensorContents.newBuilder();
        switch (tensor.datatype()) {
            case BOOL -> {
                for (boolean b : (boolean[]) tensor.data()) out.addBoolContents(b);
            }
            case INT8 -> {
                for (byte b : (byte[]) tensor.data()) out.addIntContents(b);
            }
            case INT16 -> {
                for (short s : (short[]) tensor.data()) out.addIntContents(s);
            }
            case INT32 -> {
                for (int i : (int[]) tensor.data()) out.addIntContents(i);
            }
            case INT64 -> {
                for (long l : (long[]) tensor.data()) out.addInt64Contents(l);
            }
            case UINT8 -> {
                for (byte b : (byte[]) tensor.data()) out.addUintContents(Byte.toUnsignedInt(b));
            }
            case UINT16 -> {
                for (short s : (short[]) tensor.data()) out.addUintContents(Short.toUnsignedInt(s));
            }
            case UINT32 -> {
                for (int i : (int[]) tensor.data()) out.addUintContents(i);
            }
            case UINT64 -> {
                for (long l : (long[]) tensor.data()) out.addUint64Contents(l);
            }
            case FP32 -> {
                for (float f : (float[]) tensor.data()) out.addFp32Contents(f);
            }
            case FP64 -> {
                for (double d : (double[]) tensor.data()) out.addFp64Contents(d);
            }
            case BYTES -> {
                for (byte[] b : (byte[][]) tensor.data()) out.addBytesContents(wrap(b));
            }
            case FP16 -> throw new IllegalArgumentException("FP16 tensor '" + tensor.name() + "' has no typed form");
        }
        return out.build();
    }

    private static ByteString wrap(byte[] bytes) {
        // Tensor data is immutable once handed over (see Tensor), so no copy is needed.
        return UnsafeByteOperations.unsafeWrap(bytes);
    }
}
