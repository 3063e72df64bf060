package io.capstan.serving.grpc;

import com.google.protobuf.ByteString;
import io.capstan.serving.api.DataType;
import io.capstan.serving.grpc.proto.InferTensorContents;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Six elements of one datatype, including its extreme values, in the three forms a test needs: the
 * serving API's carrier array, the typed {@link InferTensorContents} a KServe client sends, and the
 * little-endian raw bytes a Triton client sends. The wire forms are written out here by hand, not
 * with the code under test.
 */
record TensorSample(DataType type, Object carrier, InferTensorContents typed, ByteString raw) {

    static final long[] SHAPE = {2, 3};

    static TensorSample of(DataType type) {
        InferTensorContents.Builder typed = InferTensorContents.newBuilder();
        ByteBuffer raw = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        Object carrier;
        switch (type) {
            case BOOL -> {
                boolean[] values = {true, false, true, true, false, false};
                for (boolean v : values) {
                    typed.addBoolContents(v);
                    raw.put((byte) (v ? 1 : 0));
                }
                carrier = values;
            }
            case UINT8 -> {
                int[] values = {0, 1, 127, 128, 254, 255};
                byte[] bytes = new byte[6];
                for (int i = 0; i < 6; i++) {
                    typed.addUintContents(values[i]);
                    raw.put((byte) values[i]);
                    bytes[i] = (byte) values[i];
                }
                carrier = bytes;
            }
            case UINT16 -> {
                int[] values = {0, 1, 32767, 32768, 65534, 65535};
                short[] shorts = new short[6];
                for (int i = 0; i < 6; i++) {
                    typed.addUintContents(values[i]);
                    raw.putShort((short) values[i]);
                    shorts[i] = (short) values[i];
                }
                carrier = shorts;
            }
            case UINT32 -> {
                int[] values = {0, 1, Integer.MAX_VALUE, (int) 2_147_483_648L, (int) 4_294_967_294L, (int) 4_294_967_295L};
                for (int v : values) {
                    typed.addUintContents(v);
                    raw.putInt(v);
                }
                carrier = values;
            }
            case UINT64 -> {
                long[] values = {0, 1, Long.MAX_VALUE, Long.MIN_VALUE, -2, -1};
                for (long v : values) {
                    typed.addUint64Contents(v);
                    raw.putLong(v);
                }
                carrier = values;
            }
            case INT8 -> {
                byte[] values = {Byte.MIN_VALUE, -1, 0, 1, 2, Byte.MAX_VALUE};
                for (byte v : values) {
                    typed.addIntContents(v);
                    raw.put(v);
                }
                carrier = values;
            }
            case INT16 -> {
                short[] values = {Short.MIN_VALUE, -1, 0, 1, 2, Short.MAX_VALUE};
                for (short v : values) {
                    typed.addIntContents(v);
                    raw.putShort(v);
                }
                carrier = values;
            }
            case INT32 -> {
                int[] values = {Integer.MIN_VALUE, -1, 0, 1, 2, Integer.MAX_VALUE};
                for (int v : values) {
                    typed.addIntContents(v);
                    raw.putInt(v);
                }
                carrier = values;
            }
            case INT64 -> {
                long[] values = {Long.MIN_VALUE, -1, 0, 1, 2, Long.MAX_VALUE};
                for (long v : values) {
                    typed.addInt64Contents(v);
                    raw.putLong(v);
                }
                carrier = values;
            }
            case FP16 -> {
                float[] values = {0f, 1f, -2f, 0.5f, 65504f, -0.25f};
                short[] halves = new short[6];
                for (int i = 0; i < 6; i++) {
                    halves[i] = Float.floatToFloat16(values[i]);
                    raw.putShort(halves[i]);
                }
                carrier = halves;
                typed = null;
            }
            case FP32 -> {
                float[] values = {0f, 1.5f, -2.25f, Float.MAX_VALUE, Float.MIN_VALUE, Float.NaN};
                for (float v : values) {
                    typed.addFp32Contents(v);
                    raw.putFloat(v);
                }
                carrier = values;
            }
            case FP64 -> {
                double[] values = {0d, 1.5d, -2.25d, Double.MAX_VALUE, Double.MIN_VALUE, Double.NEGATIVE_INFINITY};
                for (double v : values) {
                    typed.addFp64Contents(v);
                    raw.putDouble(v);
                }
                carrier = values;
            }
            case BYTES -> {
                byte[][] values = {
                        new byte[0], "a".getBytes(StandardCharsets.UTF_8), "héllo".getBytes(StandardCharsets.UTF_8),
                        {0, (byte) 0xFF, 0}, "x".getBytes(StandardCharsets.UTF_8), "yz".getBytes(StandardCharsets.UTF_8)};
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                for (byte[] v : values) {
                    typed.addBytesContents(ByteString.copyFrom(v));
                    out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v.length).array());
                    out.writeBytes(v);
                }
                return new TensorSample(type, values, typed.build(), ByteString.copyFrom(out.toByteArray()));
            }
            default -> throw new IllegalArgumentException("no sample for " + type);
        }
        raw.flip();
        return new TensorSample(type, carrier, typed == null ? null : typed.build(), ByteString.copyFrom(raw));
    }
}
