package io.capstan.serving.runtime;

import ai.onnxruntime.OrtSession;
import io.capstan.serving.api.DataType;
import io.capstan.serving.api.Tensor;
import io.capstan.serving.api.TensorMetadata;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.List;

/**
 * Runs an ONNX Runtime session through ONNX Runtime's C API, called with Java's Foreign Function and
 * Memory API. ONNX Runtime's Java API (JNI) looks up classes and builds Java objects for every input
 * and output of every call; for small models that costs as much as the model itself (15 against 7
 * µs per call for the iris model). The FFM API is final from Java 22, so the implementation,
 * {@code OrtNativeSession}, lives in this module's Java 22 classes (a multi-release jar); on Java 21,
 * or for sessions with string tensors, {@link #open} returns null and the Java API serves.
 */
interface OrtDirect extends AutoCloseable {

    /** Set to false to serve every ONNX model through ONNX Runtime's Java API. */
    String ENABLED_PROPERTY = "capstan.onnx.direct";

    /**
     * Runs the session.
     *
     * @param inputs checked inputs, each named as a session input
     * @param outputNames the outputs to compute, each a tensor output of the session
     */
    List<Tensor> run(List<Tensor> inputs, List<String> outputNames);

    @Override
    void close();

    /** A direct runner for this session, or null where the JVM, the library or the model's tensors rule it out. */
    static OrtDirect open(OrtSession session, List<TensorMetadata> inputs, List<TensorMetadata> outputs) {
        if (!Boolean.parseBoolean(System.getProperty(ENABLED_PROPERTY, "true")) || Runtime.version().feature() < 22) {
            return null;
        }
        for (var tensor : inputs) if (tensor.datatype() == DataType.BYTES) return null;
        for (var tensor : outputs) if (tensor.datatype() == DataType.BYTES) return null;
        try {
            var handle = OrtSession.class.getDeclaredField("nativeHandle");
            handle.setAccessible(true);
            return (OrtDirect) Opener.OPEN.invokeExact(handle.getLong(session), inputs, outputs);
        } catch (Throwable unavailable) {
            if (unavailable instanceof Error error && !(error instanceof LinkageError)) throw error;
            System.getLogger(OrtDirect.class.getName()).log(System.Logger.Level.WARNING,
                    "ONNX Runtime's C API is unavailable (" + unavailable + "); this model runs through its Java API");
            return null;
        }
    }

    /** Finds the Java 22 implementation once. */
    final class Opener {
        private static final MethodHandle OPEN = find();

        private Opener() {
        }

        private static MethodHandle find() {
            try {
                var implementation = Class.forName(OrtDirect.class.getPackageName() + ".OrtNativeSession");
                return MethodHandles.lookup().findStatic(implementation, "open",
                        MethodType.methodType(OrtDirect.class, long.class, List.class, List.class));
            } catch (ReflectiveOperationException | LinkageError missing) {
                return MethodHandles.dropArguments(MethodHandles.constant(OrtDirect.class, null), 0,
                        long.class, List.class, List.class);
            }
        }
    }
}
