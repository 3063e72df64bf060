package io.capstan.serving.runtime;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.capstan.serving.api.DataType;
import io.capstan.serving.api.ModelFailedException;
import io.capstan.serving.api.Tensor;
import io.capstan.serving.api.TensorMetadata;
import java.lang.reflect.Array;
import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** ONNX models with ONNX Runtime, one single-threaded session per loaded instance. */
public final class OnnxModelRuntime implements ModelRuntime {

    public static final String NAME = "capstan-onnx";

    private final boolean direct;

    public OnnxModelRuntime() {
        this(true);
    }

    /** @param direct whether sessions may be called through ONNX Runtime's C API ({@link OrtDirect}) */
    OnnxModelRuntime(boolean direct) {
        this.direct = direct;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<SupportedFormat> supportedFormats() {
        return List.of(new SupportedFormat("onnx", null, true, 2));
    }

    @Override
    public LoadedModel load(ModelSource source) throws ModelLoadException {
        Path file = ModelFiles.single(source.path(), ".onnx", "model.onnx");
        try {
            var env = OrtEnvironment.getEnvironment();
            var options = new OrtSession.SessionOptions();
            options.setIntraOpNumThreads(1);
            options.setInterOpNumThreads(1);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            var session = env.createSession(Files.readAllBytes(file), options);
            return new OnnxModel(env, session, direct);
        } catch (OrtException e) {
            throw new ModelLoadException("ONNX Runtime cannot load " + file.getFileName() + ": " + e.getMessage(), e);
        } catch (java.io.IOException e) {
            throw new ModelLoadException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** Inputs up to this many bytes go through a reused direct buffer. */
    static final int POOLED_BUFFER_BYTES = 4096;
    private static final int SPARE_BUFFERS = 16;

    static final class OnnxModel implements LoadedModel {
        private final OrtEnvironment env;
        private final OrtSession session;
        private final List<TensorMetadata> inputs;
        private final List<TensorMetadata> outputs;
        private final Map<String, TensorInfo> inputInfo = new HashMap<>();
        private final Set<String> allOutputNames;
        private final List<String> allOutputList;
        /** The C API route where it is available; null means ONNX Runtime's Java API serves. */
        private final OrtDirect direct;
        /**
         * Direct buffers for small inputs, reused across calls: ONNX Runtime takes a direct buffer as the
         * tensor's memory, where a heap array would be copied into a newly allocated direct buffer each call.
         */
        private final java.util.concurrent.atomic.AtomicReferenceArray<ByteBuffer> spareBuffers =
                new java.util.concurrent.atomic.AtomicReferenceArray<>(SPARE_BUFFERS);

        OnnxModel(OrtEnvironment env, OrtSession session, boolean direct) throws OrtException, ModelLoadException {
            this.env = env;
            this.session = session;
            this.inputs = describe(session.getInputInfo(), true);
            this.outputs = describe(session.getOutputInfo(), false);
            for (var entry : session.getInputInfo().entrySet()) {
                inputInfo.put(entry.getKey(), (TensorInfo) entry.getValue().getInfo());
            }
            var names = new java.util.LinkedHashSet<String>();
            for (var output : outputs) names.add(output.name());
            this.allOutputNames = java.util.Collections.unmodifiableSet(names);
            this.allOutputList = List.copyOf(names);
            this.direct = direct ? OrtDirect.open(session, inputs, outputs) : null;
        }

        /** Whether calls go through ONNX Runtime's C API rather than its Java API. */
        boolean direct() {
            return direct != null;
        }

        private static List<TensorMetadata> describe(Map<String, NodeInfo> nodes, boolean inputs) throws ModelLoadException {
            var described = new ArrayList<TensorMetadata>();
            for (var node : nodes.values()) {
                if (!(node.getInfo() instanceof TensorInfo info)) {
                    if (inputs) {
                        throw new ModelLoadException("input '" + node.getName() + "' is not a tensor (" + node.getInfo()
                                + "); Capstan serves ONNX models whose inputs are tensors");
                    }
                    continue; // e.g. sklearn's ZipMap probabilities: only tensor outputs are served
                }
                var type = dataType(info.onnxType);
                if (type == null) {
                    if (inputs) {
                        throw new ModelLoadException("input '" + node.getName() + "' has ONNX type " + info.onnxType
                                + ", which the protocol cannot carry");
                    }
                    continue;
                }
                var shape = new ArrayList<Long>();
                for (long d : info.getShape()) {
                    shape.add(d < 0 ? -1L : d);
                }
                described.add(new TensorMetadata(node.getName(), type, shape));
            }
            return List.copyOf(described);
        }

        private static DataType dataType(TensorInfo.OnnxTensorType type) {
            return switch (type) {
                case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL -> DataType.BOOL;
                case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 -> DataType.UINT8;
                case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16 -> DataType.UINT16;
                case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32 -> DataType.UINT32;
                case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64 -> DataType.UINT64;
                case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8 -> DataType.INT8;
                case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16 -> DataType.INT16;
                case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 -> DataType.INT32;
                case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 -> DataType.INT64;
                case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16 -> DataType.FP16;
                case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT -> DataType.FP32;
                case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE -> DataType.FP64;
                case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING -> DataType.BYTES;
                default -> null;
            };
        }

        @Override
        public String platform() {
            return "onnxruntime_onnx";
        }

        @Override
        public List<TensorMetadata> inputs() {
            return inputs;
        }

        @Override
        public List<TensorMetadata> outputs() {
            return outputs;
        }

        @Override
        public List<Tensor> predict(List<Tensor> in, Set<String> outputNames, Map<String, Object> parameters) {
            if (direct != null) {
                List<String> wanted = allOutputList;
                if (!outputNames.isEmpty()) {
                    wanted = new ArrayList<>(outputNames.size());
                    for (var output : allOutputList) {
                        if (outputNames.contains(output)) wanted.add(output);
                    }
                }
                return direct.run(in, wanted);
            }
            var feeds = new LinkedHashMap<String, OnnxTensor>();
            var borrowed = new ByteBuffer[in.size()];
            try {
                for (int i = 0; i < in.size(); i++) {
                    var tensor = in.get(i);
                    feeds.put(tensor.name(), toOnnx(tensor, borrowed, i));
                }
                Set<String> wanted = allOutputNames;
                if (!outputNames.isEmpty()) {
                    wanted = new java.util.LinkedHashSet<>();
                    for (var output : outputs) {
                        if (outputNames.contains(output.name())) wanted.add(output.name());
                    }
                }
                try (var result = session.run(feeds, wanted)) {
                    var out = new ArrayList<Tensor>(wanted.size());
                    for (var entry : result) {
                        if (entry.getValue() instanceof OnnxTensor tensor) {
                            out.add(fromOnnx(entry.getKey(), tensor));
                        }
                    }
                    return out;
                }
            } catch (OrtException e) {
                throw new ModelFailedException("ONNX Runtime failed: " + e.getMessage(), e);
            } finally {
                feeds.values().forEach(OnnxValue::close);
                for (var buffer : borrowed) {
                    if (buffer != null) giveBack(buffer);
                }
            }
        }

        /** A cleared direct buffer of {@link #POOLED_BUFFER_BYTES} in native order, reused when one is spare. */
        private ByteBuffer borrow() {
            int start = (int) (Thread.currentThread().threadId() & (SPARE_BUFFERS - 1));
            for (int k = 0; k < SPARE_BUFFERS; k++) {
                int i = (start + k) & (SPARE_BUFFERS - 1);
                var buffer = spareBuffers.get(i);
                if (buffer != null && spareBuffers.compareAndSet(i, buffer, null)) return buffer.clear();
            }
            return ByteBuffer.allocateDirect(POOLED_BUFFER_BYTES).order(java.nio.ByteOrder.nativeOrder());
        }

        private void giveBack(ByteBuffer buffer) {
            int start = (int) (Thread.currentThread().threadId() & (SPARE_BUFFERS - 1));
            for (int k = 0; k < SPARE_BUFFERS; k++) {
                int i = (start + k) & (SPARE_BUFFERS - 1);
                if (spareBuffers.get(i) == null && spareBuffers.compareAndSet(i, null, buffer)) return;
            }
        }

        /** Small FP32, FP64, INT64 and INT32 inputs are copied into a reused direct buffer; others go the usual way. */
        private OnnxTensor toOnnx(Tensor tensor, ByteBuffer[] borrowed, int index) throws OrtException {
            long[] shape = tensor.shape();
            Object data = tensor.data();
            int bytes = switch (tensor.datatype()) {
                case FP32, INT32 -> 4 * java.lang.reflect.Array.getLength(data);
                case FP64, INT64 -> 8 * java.lang.reflect.Array.getLength(data);
                default -> Integer.MAX_VALUE;
            };
            if (bytes > 0 && bytes <= POOLED_BUFFER_BYTES) {
                var buffer = borrow();
                borrowed[index] = buffer;
                return switch (tensor.datatype()) {
                    case FP32 -> OnnxTensor.createTensor(env, buffer.asFloatBuffer().put((float[]) data).flip(), shape);
                    case INT32 -> OnnxTensor.createTensor(env, buffer.asIntBuffer().put((int[]) data).flip(), shape);
                    case FP64 -> OnnxTensor.createTensor(env, buffer.asDoubleBuffer().put((double[]) data).flip(), shape);
                    case INT64 -> OnnxTensor.createTensor(env, buffer.asLongBuffer().put((long[]) data).flip(), shape);
                    default -> throw new IllegalStateException();
                };
            }
            return toOnnx(tensor);
        }

        private OnnxTensor toOnnx(Tensor tensor) throws OrtException {
            long[] shape = tensor.shape();
            Object data = tensor.data();
            return switch (tensor.datatype()) {
                case FP32 -> OnnxTensor.createTensor(env, FloatBuffer.wrap((float[]) data), shape);
                case FP64 -> OnnxTensor.createTensor(env, DoubleBuffer.wrap((double[]) data), shape);
                case INT64 -> OnnxTensor.createTensor(env, LongBuffer.wrap((long[]) data), shape);
                case INT32 -> OnnxTensor.createTensor(env, IntBuffer.wrap((int[]) data), shape);
                case INT16 -> OnnxTensor.createTensor(env, ShortBuffer.wrap((short[]) data), shape);
                case INT8 -> OnnxTensor.createTensor(env, ByteBuffer.wrap((byte[]) data), shape, OnnxJavaType.INT8);
                case UINT8 -> OnnxTensor.createTensor(env, ByteBuffer.wrap((byte[]) data), shape, OnnxJavaType.UINT8);
                case FP16 -> OnnxTensor.createTensor(env, ShortBuffer.wrap((short[]) data), shape, OnnxJavaType.FLOAT16);
                case BOOL -> {
                    boolean[] values = (boolean[]) data;
                    var bytes = new byte[values.length];
                    for (int i = 0; i < values.length; i++) {
                        bytes[i] = (byte) (values[i] ? 1 : 0);
                    }
                    yield OnnxTensor.createTensor(env, ByteBuffer.wrap(bytes), shape, OnnxJavaType.BOOL);
                }
                case BYTES -> {
                    byte[][] values = (byte[][]) data;
                    var strings = new String[values.length];
                    for (int i = 0; i < values.length; i++) {
                        strings[i] = new String(values[i], StandardCharsets.UTF_8);
                    }
                    yield OnnxTensor.createTensor(env, strings, shape);
                }
                case UINT16, UINT32, UINT64 -> throw new io.capstan.serving.api.InvalidInputException(
                        "input '" + tensor.name() + "': ONNX Runtime for Java cannot take " + tensor.datatype() + " tensors");
            };
        }

        private static Tensor fromOnnx(String name, OnnxTensor tensor) throws OrtException {
            var info = tensor.getInfo();
            long[] shape = info.getShape();
            var type = dataType(info.onnxType);
            if (type == null) {
                throw new ModelFailedException("output '" + name + "' has ONNX type " + info.onnxType
                        + ", which the protocol cannot carry", null);
            }
            Object data = switch (type) {
                case FP32 -> toArray(tensor.getFloatBuffer());
                case FP64 -> toArray(tensor.getDoubleBuffer());
                case INT64, UINT64 -> toArray(tensor.getLongBuffer());
                case INT32, UINT32 -> toArray(tensor.getIntBuffer());
                case INT16, UINT16, FP16 -> toArray(tensor.getShortBuffer());
                case INT8, UINT8 -> toArray(tensor.getByteBuffer());
                case BOOL -> {
                    byte[] bytes = toArray(tensor.getByteBuffer());
                    var values = new boolean[bytes.length];
                    for (int i = 0; i < bytes.length; i++) {
                        values[i] = bytes[i] != 0;
                    }
                    yield values;
                }
                case BYTES -> {
                    var strings = new ArrayList<String>();
                    flattenStrings(tensor.getValue(), strings);
                    var bytes = new byte[strings.size()][];
                    for (int i = 0; i < bytes.length; i++) {
                        bytes[i] = strings.get(i).getBytes(StandardCharsets.UTF_8);
                    }
                    yield bytes;
                }
            };
            return new Tensor(name, type, shape, data);
        }

        private static void flattenStrings(Object value, List<String> into) {
            if (value instanceof String s) {
                into.add(s);
            } else if (value != null && value.getClass().isArray()) {
                for (int i = 0; i < Array.getLength(value); i++) {
                    flattenStrings(Array.get(value, i), into);
                }
            }
        }

        private static float[] toArray(FloatBuffer buffer) {
            var out = new float[buffer.remaining()];
            buffer.get(out);
            return out;
        }

        private static double[] toArray(DoubleBuffer buffer) {
            var out = new double[buffer.remaining()];
            buffer.get(out);
            return out;
        }

        private static long[] toArray(LongBuffer buffer) {
            var out = new long[buffer.remaining()];
            buffer.get(out);
            return out;
        }

        private static int[] toArray(IntBuffer buffer) {
            var out = new int[buffer.remaining()];
            buffer.get(out);
            return out;
        }

        private static short[] toArray(ShortBuffer buffer) {
            var out = new short[buffer.remaining()];
            buffer.get(out);
            return out;
        }

        private static byte[] toArray(ByteBuffer buffer) {
            var out = new byte[buffer.remaining()];
            buffer.get(out);
            return out;
        }

        @Override
        public void close() {
            if (direct != null) direct.close();
            try {
                session.close();
            } catch (OrtException e) {
                // closing a session only frees native memory; nothing to recover
            }
        }
    }
}
