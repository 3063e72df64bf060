package io.capstan.serving.runtime;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.capstan.serving.api.DataType;
import io.capstan.serving.api.InferenceException;
import io.capstan.serving.api.ModelFailedException;
import io.capstan.serving.api.Tensor;
import io.capstan.serving.api.TensorMetadata;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link OrtDirect} on ONNX Runtime's C API ({@code OrtApi}, a table of function pointers), for
 * sessions created by ONNX Runtime's Java API, which has loaded the library. Inputs are copied into
 * native memory owned by the call; outputs are allocated by ONNX Runtime, copied out and released.
 */
final class OrtNativeSession implements OrtDirect {

    private static final Api API = Api.load();

    private final MemorySegment session;
    private final Arena names = Arena.ofShared();
    private final Map<String, MemorySegment> inputNames = new HashMap<>();
    private final Map<String, MemorySegment> outputNames = new HashMap<>();
    private volatile boolean closed;

    private OrtNativeSession(long session, List<TensorMetadata> inputs, List<TensorMetadata> outputs) {
        this.session = MemorySegment.ofAddress(session);
        for (var input : inputs) inputNames.put(input.name(), names.allocateFrom(input.name()));
        for (var output : outputs) outputNames.put(output.name(), names.allocateFrom(output.name()));
    }

    /** Called reflectively by {@link OrtDirect#open}; throws when the library's C API cannot be reached. */
    static OrtDirect open(long session, List<TensorMetadata> inputs, List<TensorMetadata> outputs) {
        if (API == null) throw new IllegalStateException("ONNX Runtime's C API is not reachable from this class loader");
        return new OrtNativeSession(session, inputs, outputs);
    }

    @Override
    public List<Tensor> run(List<Tensor> inputs, List<String> wanted) {
        // The session's native memory is gone once closed: fail here rather than inside ONNX Runtime.
        if (closed) throw new ModelFailedException("the model's ONNX Runtime session is closed", null);
        int in = inputs.size();
        int out = wanted.size();
        long slab = 8L * (2 * in + 2 * out + 1);
        for (var input : inputs) slab += align(dataBytes(input)) + 64 + 8L * Math.max(1, input.shape().length);
        try (var arena = Arena.ofConfined()) {
            var memory = SegmentAllocator.slicingAllocator(arena.allocate(slab, 64));
            var inNames = memory.allocate(ADDRESS, Math.max(1, in));
            var inValues = memory.allocate(ADDRESS, Math.max(1, in));
            var outNames = memory.allocate(ADDRESS, Math.max(1, out));
            var outValues = memory.allocate(ADDRESS, Math.max(1, out));
            var pointer = memory.allocate(ADDRESS);
            try {
                for (int i = 0; i < in; i++) {
                    var input = inputs.get(i);
                    var name = inputNames.get(input.name());
                    if (name == null) throw new ModelFailedException("the model has no input '" + input.name() + "'", null);
                    inNames.setAtIndex(ADDRESS, i, name);
                    inValues.setAtIndex(ADDRESS, i, toOrtValue(input, memory, pointer));
                }
                for (int i = 0; i < out; i++) {
                    var name = outputNames.get(wanted.get(i));
                    if (name == null) throw new ModelFailedException("the model has no tensor output '" + wanted.get(i) + "'", null);
                    outNames.setAtIndex(ADDRESS, i, name);
                }
                check((MemorySegment) API.run.invokeExact(session, MemorySegment.NULL, inNames, inValues, (long) in,
                        outNames, (long) out, outValues));
                var results = new ArrayList<Tensor>(out);
                for (int i = 0; i < out; i++) {
                    results.add(fromOrtValue(wanted.get(i), outValues.getAtIndex(ADDRESS, i), arena, pointer));
                }
                return results;
            } finally {
                release(inValues, in);
                release(outValues, out);
            }
        } catch (InferenceException e) {
            throw e;
        } catch (Throwable e) {
            throw new ModelFailedException("ONNX Runtime failed: " + e, e);
        }
    }

    private static MemorySegment toOrtValue(Tensor tensor, SegmentAllocator memory, MemorySegment pointer) throws Throwable {
        long bytes = dataBytes(tensor);
        var data = memory.allocate(align(bytes), 64);
        int count = Array.getLength(tensor.data());
        if (tensor.datatype() == DataType.BOOL) {
            boolean[] values = (boolean[]) tensor.data();
            for (int i = 0; i < count; i++) data.set(JAVA_BYTE, i, (byte) (values[i] ? 1 : 0));
        } else {
            MemorySegment.copy(tensor.data(), 0, data, layout(tensor.datatype()), 0, count);
        }
        long[] dims = tensor.shape();
        var shape = memory.allocate(JAVA_LONG, Math.max(1, dims.length));
        MemorySegment.copy(dims, 0, shape, JAVA_LONG, 0, dims.length);
        check((MemorySegment) API.createTensor.invokeExact(API.cpuMemory, data, bytes, shape, (long) dims.length,
                elementType(tensor.datatype()), pointer));
        return pointer.get(ADDRESS, 0);
    }

    private static Tensor fromOrtValue(String name, MemorySegment value, Arena arena, MemorySegment pointer) throws Throwable {
        check((MemorySegment) API.typeAndShape.invokeExact(value, pointer));
        var info = pointer.get(ADDRESS, 0);
        int onnxType;
        long[] shape;
        try {
            check((MemorySegment) API.elementType.invokeExact(info, pointer));
            onnxType = pointer.get(JAVA_INT, 0);
            check((MemorySegment) API.dimensionsCount.invokeExact(info, pointer));
            int rank = (int) pointer.get(JAVA_LONG, 0);
            var dims = arena.allocate(JAVA_LONG, Math.max(1, rank));
            check((MemorySegment) API.dimensions.invokeExact(info, dims, (long) rank));
            shape = dims.asSlice(0, 8L * rank).toArray(JAVA_LONG);
        } finally {
            API.releaseTypeAndShape.invokeExact(info);
        }
        var type = dataType(onnxType);
        if (type == null) {
            throw new ModelFailedException("output '" + name + "' has ONNX element type " + onnxType
                    + ", which the protocol cannot carry", null);
        }
        int count = Math.toIntExact(Tensor.elementCount(shape));
        check((MemorySegment) API.mutableData.invokeExact(value, pointer));
        var data = pointer.get(ADDRESS, 0).reinterpret((long) count * type.byteSize());
        Object values;
        if (type == DataType.BOOL) {
            var flags = new boolean[count];
            for (int i = 0; i < count; i++) flags[i] = data.get(JAVA_BYTE, i) != 0;
            values = flags;
        } else {
            values = Array.newInstance(type.carrier().componentType(), count);
            MemorySegment.copy(data, layout(type), 0, values, 0, count);
        }
        return new Tensor(name, type, shape, values);
    }

    private static void release(MemorySegment values, int count) throws Throwable {
        for (int i = 0; i < count; i++) {
            var value = values.getAtIndex(ADDRESS, i);
            if (!value.equals(MemorySegment.NULL)) API.releaseValue.invokeExact(value);
        }
    }

    private static void check(MemorySegment status) throws Throwable {
        if (status.equals(MemorySegment.NULL)) return;
        String message = ((MemorySegment) API.errorMessage.invokeExact(status)).reinterpret(Long.MAX_VALUE).getString(0);
        API.releaseStatus.invokeExact(status);
        throw new ModelFailedException("ONNX Runtime failed: " + message, null);
    }

    private static long dataBytes(Tensor tensor) {
        return (long) Array.getLength(tensor.data()) * tensor.datatype().byteSize();
    }

    private static long align(long bytes) {
        return Math.max(64, (bytes + 63) & ~63L);
    }

    private static ValueLayout layout(DataType type) {
        return switch (type) {
            case BOOL, UINT8, INT8 -> JAVA_BYTE;
            case UINT16, INT16, FP16 -> JAVA_SHORT;
            case UINT32, INT32 -> JAVA_INT;
            case UINT64, INT64 -> JAVA_LONG;
            case FP32 -> JAVA_FLOAT;
            case FP64 -> JAVA_DOUBLE;
            case BYTES -> throw new IllegalArgumentException("BYTES tensors are not fixed-size");
        };
    }

    /** ONNXTensorElementDataType. */
    private static int elementType(DataType type) {
        return switch (type) {
            case FP32 -> 1;
            case UINT8 -> 2;
            case INT8 -> 3;
            case UINT16 -> 4;
            case INT16 -> 5;
            case INT32 -> 6;
            case INT64 -> 7;
            case BOOL -> 9;
            case FP16 -> 10;
            case FP64 -> 11;
            case UINT32 -> 12;
            case UINT64 -> 13;
            case BYTES -> throw new IllegalArgumentException("BYTES tensors are not fixed-size");
        };
    }

    private static DataType dataType(int elementType) {
        return switch (elementType) {
            case 1 -> DataType.FP32;
            case 2 -> DataType.UINT8;
            case 3 -> DataType.INT8;
            case 4 -> DataType.UINT16;
            case 5 -> DataType.INT16;
            case 6 -> DataType.INT32;
            case 7 -> DataType.INT64;
            case 9 -> DataType.BOOL;
            case 10 -> DataType.FP16;
            case 11 -> DataType.FP64;
            case 12 -> DataType.UINT32;
            case 13 -> DataType.UINT64;
            default -> null;
        };
    }

    @Override
    public void close() {
        closed = true;
        names.close();
    }

    /**
     * The OrtApi functions used here, by their index in the table. The table only grows between
     * releases (its ABI is stable), so these indices hold for every ONNX Runtime since API version 14.
     */
    private record Api(MethodHandle errorMessage, MethodHandle releaseStatus, MethodHandle run,
                       MethodHandle createTensor, MethodHandle mutableData, MethodHandle typeAndShape,
                       MethodHandle elementType, MethodHandle dimensionsCount, MethodHandle dimensions,
                       MethodHandle releaseTypeAndShape, MethodHandle releaseValue, MemorySegment cpuMemory) {

        private static final int API_VERSION = 14;
        private static final int GET_ERROR_MESSAGE = 2;
        private static final int RUN = 9;
        private static final int CREATE_TENSOR_WITH_DATA_AS_ORT_VALUE = 49;
        private static final int GET_TENSOR_MUTABLE_DATA = 51;
        private static final int GET_TENSOR_ELEMENT_TYPE = 60;
        private static final int GET_DIMENSIONS_COUNT = 61;
        private static final int GET_DIMENSIONS = 62;
        private static final int GET_TENSOR_TYPE_AND_SHAPE = 65;
        private static final int ALLOCATOR_GET_INFO = 77;
        private static final int GET_ALLOCATOR_WITH_DEFAULT_OPTIONS = 78;
        private static final int RELEASE_STATUS = 93;
        private static final int RELEASE_VALUE = 96;
        private static final int RELEASE_TENSOR_TYPE_AND_SHAPE_INFO = 99;

        /** The table of the ONNX Runtime that ONNX Runtime's Java API loaded, or null if it cannot be found. */
        static Api load() {
            try {
                var linker = Linker.nativeLinker();
                var getApiBase = SymbolLookup.loaderLookup().find("OrtGetApiBase").orElse(null);
                if (getApiBase == null) return null;
                var base = ((MemorySegment) linker.downcallHandle(getApiBase, FunctionDescriptor.of(ADDRESS)).invokeExact())
                        .reinterpret(2 * ADDRESS.byteSize());
                var getApi = linker.downcallHandle(base.get(ADDRESS, 0), FunctionDescriptor.of(ADDRESS, JAVA_INT));
                var table = ((MemorySegment) getApi.invokeExact(API_VERSION)).reinterpret(ADDRESS.byteSize() * 128);
                if (table.address() == 0) return null;
                var quick = Linker.Option.critical(false);
                var statusOfTwo = FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS);
                var releaseOne = FunctionDescriptor.ofVoid(ADDRESS);
                var api = new Api(
                        function(table, GET_ERROR_MESSAGE, FunctionDescriptor.of(ADDRESS, ADDRESS), quick),
                        function(table, RELEASE_STATUS, releaseOne, quick),
                        function(table, RUN, FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG,
                                ADDRESS, JAVA_LONG, ADDRESS)),
                        function(table, CREATE_TENSOR_WITH_DATA_AS_ORT_VALUE, FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS,
                                JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS), quick),
                        function(table, GET_TENSOR_MUTABLE_DATA, statusOfTwo, quick),
                        function(table, GET_TENSOR_TYPE_AND_SHAPE, statusOfTwo, quick),
                        function(table, GET_TENSOR_ELEMENT_TYPE, statusOfTwo, quick),
                        function(table, GET_DIMENSIONS_COUNT, statusOfTwo, quick),
                        function(table, GET_DIMENSIONS, FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG), quick),
                        function(table, RELEASE_TENSOR_TYPE_AND_SHAPE_INFO, releaseOne, quick),
                        function(table, RELEASE_VALUE, releaseOne, quick),
                        null);
                var pointer = Arena.global().allocate(ADDRESS);
                check(api, (MemorySegment) function(table, GET_ALLOCATOR_WITH_DEFAULT_OPTIONS,
                        FunctionDescriptor.of(ADDRESS, ADDRESS)).invokeExact(pointer));
                var allocator = pointer.get(ADDRESS, 0);
                check(api, (MemorySegment) function(table, ALLOCATOR_GET_INFO, statusOfTwo).invokeExact(allocator, pointer));
                return new Api(api.errorMessage, api.releaseStatus, api.run, api.createTensor, api.mutableData,
                        api.typeAndShape, api.elementType, api.dimensionsCount, api.dimensions, api.releaseTypeAndShape,
                        api.releaseValue, pointer.get(ADDRESS, 0));
            } catch (Throwable e) {
                return null;
            }
        }

        private static MethodHandle function(MemorySegment table, int index, FunctionDescriptor signature,
                                             Linker.Option... options) {
            return Linker.nativeLinker().downcallHandle(table.getAtIndex(ADDRESS, index), signature, options);
        }

        private static void check(Api api, MemorySegment status) throws Throwable {
            if (status.equals(MemorySegment.NULL)) return;
            String message = ((MemorySegment) api.errorMessage.invokeExact(status)).reinterpret(Long.MAX_VALUE).getString(0);
            api.releaseStatus.invokeExact(status);
            throw new IllegalStateException(message);
        }
    }
}
