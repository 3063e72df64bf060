package io.capstan.serving.api;

import java.util.Optional;

/**
 * The Open Inference Protocol's tensor datatypes.
 *
 * <p>Each datatype has a fixed Java array that carries its flat data in a {@link Tensor}
 * (see {@link #carrier()}); unsigned types share the array of the signed type with the same
 * width and are read unsigned.
 */
public enum DataType {
    BOOL(1, boolean[].class),
    UINT8(1, byte[].class),
    UINT16(2, short[].class),
    UINT32(4, int[].class),
    UINT64(8, long[].class),
    INT8(1, byte[].class),
    INT16(2, short[].class),
    INT32(4, int[].class),
    INT64(8, long[].class),
    /** Carried as IEEE 754 half-precision bit patterns ({@link Float#floatToFloat16}). */
    FP16(2, short[].class),
    FP32(4, float[].class),
    FP64(8, double[].class),
    /** Carried as one {@code byte[]} per element. */
    BYTES(-1, byte[][].class);

    private final int byteSize;
    private final Class<?> carrier;

    DataType(int byteSize, Class<?> carrier) {
        this.byteSize = byteSize;
        this.carrier = carrier;
    }

    /** Bytes per element in the protocol's raw little-endian encoding; -1 for BYTES. */
    public int byteSize() {
        return byteSize;
    }

    /** The Java array type that holds this datatype's flat data. */
    public Class<?> carrier() {
        return carrier;
    }

    public boolean isUnsigned() {
        return this == UINT8 || this == UINT16 || this == UINT32 || this == UINT64;
    }

    public boolean isFloatingPoint() {
        return this == FP16 || this == FP32 || this == FP64;
    }

    public boolean isInteger() {
        return !isFloatingPoint() && this != BOOL && this != BYTES;
    }

    /** The datatype with this protocol name (e.g. "FP32"), if any. */
    public static Optional<DataType> fromWireName(String name) {
        if (name == null) {
            return Optional.empty();
        }
        for (DataType type : values()) {
            if (type.name().equals(name)) {
                return Optional.of(type);
            }
        }
        return Optional.empty();
    }
}
