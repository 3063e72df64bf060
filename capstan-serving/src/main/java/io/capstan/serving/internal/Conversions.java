package io.capstan.serving.internal;

import io.capstan.serving.api.DataType;
import io.capstan.serving.api.Tensor;

/** Numeric conversions between datatypes, for models that convert their inputs. */
final class Conversions {
    private Conversions() {
    }

    static Tensor convert(Tensor tensor, DataType target) {
        int n = tensor.size();
        Object out = switch (target) {
            case FP32 -> {
                var values = new float[n];
                for (int i = 0; i < n; i++) values[i] = (float) doubleAt(tensor, i);
                yield values;
            }
            case FP64 -> {
                var values = new double[n];
                for (int i = 0; i < n; i++) values[i] = doubleAt(tensor, i);
                yield values;
            }
            default -> throw new IllegalArgumentException("no conversion to " + target);
        };
        return new Tensor(tensor.name(), target, tensor.shape(), out, tensor.parameters());
    }

    /** Element {@code i} of a numeric tensor as a double. */
    static double doubleAt(Tensor tensor, int i) {
        return switch (tensor.datatype()) {
            case FP32 -> ((float[]) tensor.data())[i];
            case FP64 -> ((double[]) tensor.data())[i];
            case FP16 -> Float.float16ToFloat(((short[]) tensor.data())[i]);
            case INT8 -> ((byte[]) tensor.data())[i];
            case UINT8 -> Byte.toUnsignedInt(((byte[]) tensor.data())[i]);
            case INT16 -> ((short[]) tensor.data())[i];
            case UINT16 -> Short.toUnsignedInt(((short[]) tensor.data())[i]);
            case INT32 -> ((int[]) tensor.data())[i];
            case UINT32 -> Integer.toUnsignedLong(((int[]) tensor.data())[i]);
            case INT64 -> ((long[]) tensor.data())[i];
            case UINT64 -> unsignedToDouble(((long[]) tensor.data())[i]);
            case BOOL -> ((boolean[]) tensor.data())[i] ? 1 : 0;
            case BYTES -> throw new IllegalArgumentException("BYTES is not numeric");
        };
    }

    private static double unsignedToDouble(long value) {
        double d = (double) (value >>> 1) * 2.0;
        return d + (value & 1);
    }
}
