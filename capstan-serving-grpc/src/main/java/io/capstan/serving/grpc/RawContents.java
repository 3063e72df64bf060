package io.capstan.serving.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.capstan.serving.api.DataType;
import io.capstan.serving.api.InvalidInputException;
import io.capstan.serving.api.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The protocol's raw tensor form ({@code raw_input_contents}, {@code raw_output_contents}): flat,
 * row-major, little-endian, no padding. A BYTES element is its length as a 4-byte little-endian
 * unsigned integer followed by that many bytes, as Triton and KServe clients write it.
 */
final class RawContents {

    private RawContents() {
    }

    /**
     * Decodes {@code count} elements of {@code type} into the datatype's carrier array.
     *
     * @throws InvalidInputException when the byte length does not fit the element count
     */
    static Object decode(DataType type, int count, ByteString raw) {
        if (type == DataType.BYTES) {
            return decodeBytes(count, raw);
        }
        long expected = (long) count * type.byteSize();
        if (raw.size() != expected) {
            throw new InvalidInputException("raw content has " + raw.size() + " bytes but " + count + " " + type
                    + " elements need " + expected);
        }
        ByteBuffer in = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        return switch (type) {
            case BOOL -> decodeBools(count, in);
            case UINT8, INT8 -> {
                byte[] out = new byte[count];
                in.get(out);
                yield out;
            }
            case UINT16, INT16, FP16 -> {
                short[] out = new short[count];
                in.asShortBuffer().get(out);
                yield out;
            }
            case UINT32, INT32 -> {
                int[] out = new int[count];
                in.asIntBuffer().get(out);
                yield out;
            }
            case UINT64, INT64 -> {
                long[] out = new long[count];
                in.asLongBuffer().get(out);
                yield out;
            }
            case FP32 -> {
                float[] out = new float[count];
                in.asFloatBuffer().get(out);
                yield out;
            }
            case FP64 -> {
                double[] out = new double[count];
                in.asDoubleBuffer().get(out);
                yield out;
            }
            case BYTES -> throw new IllegalStateException("BYTES is decoded above");
        };
    }

    private static boolean[] decodeBools(int count, ByteBuffer in) {
        boolean[] out = new boolean[count];
        for (int i = 0; i < count; i++) {
            byte b = in.get();
            if (b != 0 && b != 1) {
                throw new InvalidInputException("raw BOOL element " + i + " is " + Byte.toUnsignedInt(b)
                        + "; BOOL elements are one byte, 0 or 1");
            }
            out[i] = b == 1;
        }
        return out;
    }

    private static byte[][] decodeBytes(int count, ByteString raw) {
        // Each element carries at least its 4-byte length, so a shape that claims more elements than
        // that is rejected before anything is allocated for it.
        if ((long) count * Integer.BYTES > raw.size()) {
            throw new InvalidInputException("raw content has " + raw.size() + " bytes, too few for " + count
                    + " BYTES elements of at least 4 bytes (the length prefix) each");
        }
        ByteBuffer in = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        byte[][] out = new byte[count][];
        for (int i = 0; i < count; i++) {
            if (in.remaining() < Integer.BYTES) {
                throw new InvalidInputException("raw BYTES content ends inside the length prefix of element " + i);
            }
            long length = Integer.toUnsignedLong(in.getInt());
            if (length > in.remaining()) {
                throw new InvalidInputException("raw BYTES element " + i + " declares " + length
                        + " bytes but only " + in.remaining() + " remain");
            }
            out[i] = new byte[(int) length];
            in.get(out[i]);
        }
        if (in.hasRemaining()) {
            throw new InvalidInputException("raw BYTES content has " + in.remaining() + " bytes left over after "
                    + count + " elements; the shape and the data disagree");
        }
        return out;
    }

    /** Encodes a tensor's data in the raw form. */
    static ByteString encode(Tensor tensor) {
        DataType type = tensor.datatype();
        if (type == DataType.BYTES) {
            return encodeBytes(tensor.bytes());
        }
        ByteBuffer out = ByteBuffer.allocate(Math.multiplyExact(tensor.size(), type.byteSize()))
                .order(ByteOrder.LITTLE_ENDIAN);
        switch (type) {
            case BOOL -> {
                for (boolean b : (boolean[]) tensor.data()) {
                    out.put((byte) (b ? 1 : 0));
                }
            }
            case UINT8, INT8 -> out.put((byte[]) tensor.data());
            case UINT16, INT16, FP16 -> out.asShortBuffer().put((short[]) tensor.data());
            case UINT32, INT32 -> out.asIntBuffer().put((int[]) tensor.data());
            case UINT64, INT64 -> out.asLongBuffer().put((long[]) tensor.data());
            case FP32 -> out.asFloatBuffer().put((float[]) tensor.data());
            case FP64 -> out.asDoubleBuffer().put((double[]) tensor.data());
            case BYTES -> throw new IllegalStateException("BYTES is encoded above");
        }
        // The array is never touched again, so protobuf may keep it without a copy.
        return UnsafeByteOperations.unsafeWrap(out.array());
    }

    private static ByteString encodeBytes(byte[][] elements) {
        long total = 0;
        for (byte[] element : elements) {
            total += Integer.BYTES + element.length;
        }
        if (total > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("BYTES tensor of " + total + " bytes is too large for one message");
        }
        ByteBuffer out = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
        for (byte[] element : elements) {
            out.putInt(element.length).put(element);
        }
        return UnsafeByteOperations.unsafeWrap(out.array());
    }
}
