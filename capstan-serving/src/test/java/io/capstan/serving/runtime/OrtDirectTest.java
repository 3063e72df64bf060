package io.capstan.serving.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnx.proto.OnnxMl.TensorProto;
import io.capstan.serving.TestModels;
import io.capstan.serving.api.DataType;
import io.capstan.serving.api.ModelFailedException;
import io.capstan.serving.api.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** ONNX models called through ONNX Runtime's C API answer exactly as through its Java API. */
class OrtDirectTest {
    @TempDir
    Path dir;

    private OnnxModelRuntime.OnnxModel load(Path file, boolean direct) throws ModelLoadException {
        return (OnnxModelRuntime.OnnxModel) new OnnxModelRuntime(direct).load(new ModelSource("m", file, "onnx", Map.of()));
    }

    @Test
    void numericModelsGoDirectOnJava22AndLater() throws Exception {
        try (var model = load(TestModels.irisOnnx(dir), true); var viaJava = load(TestModels.irisOnnx(dir), false)) {
            assertThat(model.direct()).isEqualTo(Runtime.version().feature() >= 22);
            assertThat(viaJava.direct()).isFalse();
        }
    }

    @Test
    void irisAnswersMatchTheJavaApiIncludingOutputSelection() throws Exception {
        var file = TestModels.irisOnnx(dir);
        try (var direct = load(file, true); var viaJava = load(file, false)) {
            var rows = new float[] {5.1f, 3.5f, 1.4f, 0.2f, 6.7f, 3.0f, 5.2f, 2.3f, 5.9f, 3.0f, 4.2f, 1.5f};
            var input = List.of(Tensor.ofFloats("input", new long[] {3, 4}, rows));
            var expected = viaJava.predict(input, Set.of(), Map.of());
            var actual = direct.predict(input, Set.of(), Map.of());
            assertThat(actual).isEqualTo(expected);
            assertThat(actual.get(0).shape()).containsExactly(3, 3);
            assertThat(actual.get(0).floats()).containsExactly(expected.get(0).floats());
            assertThat(actual.get(1).longs()).containsExactly(expected.get(1).longs());

            var labelOnly = direct.predict(input, Set.of("label"), Map.of());
            assertThat(labelOnly).extracting(Tensor::name).containsExactly("label");
            assertThat(labelOnly.getFirst().longs()).containsExactly(expected.get(1).longs());
        }
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = "BYTES", mode = EnumSource.Mode.EXCLUDE)
    void everyFixedSizeDatatypeRoundTrips(DataType type) throws Exception {
        var file = TestModels.identityOnnx(dir.resolve("identity.onnx"), onnxType(type));
        var data = sample(type);
        try (var model = load(file, true)) {
            var out = model.predict(List.of(new Tensor("x", type, new long[] {3, 2}, data)), Set.of(), Map.of());
            assertThat(out).hasSize(1);
            assertThat(out.getFirst()).isEqualTo(new Tensor("y", type, new long[] {3, 2}, data));
        }
    }

    @Test
    void aFailingRunReportsOnnxRuntimesMessageAndLeavesTheSessionUsable() throws Exception {
        var file = TestModels.irisOnnx(dir);
        try (var model = load(file, true)) {
            var wrongWidth = List.of(Tensor.ofFloats("input", new long[] {1, 5}, new float[5]));
            for (int i = 0; i < 3; i++) {
                assertThatThrownBy(() -> model.predict(wrongWidth, Set.of(), Map.of()))
                        .isInstanceOf(ModelFailedException.class)
                        .hasMessageContaining("ONNX Runtime failed").hasMessageContaining("input");
            }
            var answer = model.predict(List.of(Tensor.ofFloats("input", new long[] {1, 4}, new float[] {5.1f, 3.5f, 1.4f, 0.2f})),
                    Set.of(), Map.of());
            assertThat(answer.getFirst().floats()).containsExactly(TestModels.irisProbabilities(new float[] {5.1f, 3.5f, 1.4f, 0.2f}),
                    org.assertj.core.data.Offset.offset(1e-5f));
        }
    }

    @Test
    void aClosedModelRefusesCallsRatherThanRunningAFreedSession() throws Exception {
        var model = load(TestModels.irisOnnx(dir), true);
        Assumptions.assumeTrue(model.direct(), "ONNX Runtime's C API route needs Java 22");
        model.close();
        assertThatThrownBy(() -> model.predict(List.of(Tensor.ofFloats("input", new long[] {1, 4}, new float[4])), Set.of(), Map.of()))
                .isInstanceOf(ModelFailedException.class).hasMessageContaining("closed");
    }

    @Test
    void concurrentCallsEachGetTheirOwnAnswer() throws Exception {
        var file = TestModels.irisOnnx(dir);
        try (var model = load(file, true); var pool = Executors.newFixedThreadPool(4)) {
            var calls = new ArrayList<Callable<Boolean>>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                calls.add(() -> {
                    for (int i = 0; i < 2_000; i++) {
                        var row = new float[] {thread, i % 7, (i * thread) % 5, 1};
                        var answer = model.predict(List.of(Tensor.ofFloats("input", new long[] {1, 4}, row)), Set.of(), Map.of());
                        var expected = TestModels.irisProbabilities(row);
                        for (int c = 0; c < 3; c++) {
                            if (Math.abs(answer.getFirst().floats()[c] - expected[c]) > 1e-5) return false;
                        }
                    }
                    return true;
                });
            }
            for (var result : pool.invokeAll(calls)) assertThat(result.get()).isTrue();
        }
    }

    private static int onnxType(DataType type) {
        return switch (type) {
            case BOOL -> TensorProto.DataType.BOOL_VALUE;
            case UINT8 -> TensorProto.DataType.UINT8_VALUE;
            case UINT16 -> TensorProto.DataType.UINT16_VALUE;
            case UINT32 -> TensorProto.DataType.UINT32_VALUE;
            case UINT64 -> TensorProto.DataType.UINT64_VALUE;
            case INT8 -> TensorProto.DataType.INT8_VALUE;
            case INT16 -> TensorProto.DataType.INT16_VALUE;
            case INT32 -> TensorProto.DataType.INT32_VALUE;
            case INT64 -> TensorProto.DataType.INT64_VALUE;
            case FP16 -> TensorProto.DataType.FLOAT16_VALUE;
            case FP32 -> TensorProto.DataType.FLOAT_VALUE;
            case FP64 -> TensorProto.DataType.DOUBLE_VALUE;
            case BYTES -> TensorProto.DataType.STRING_VALUE;
        };
    }

    private static Object sample(DataType type) {
        return switch (type) {
            case BOOL -> new boolean[] {true, false, false, true, true, true};
            case UINT8, INT8 -> new byte[] {-128, -1, 0, 1, 42, 127};
            case UINT16, INT16 -> new short[] {Short.MIN_VALUE, -1, 0, 1, 4242, Short.MAX_VALUE};
            case FP16 -> new short[] {Float.floatToFloat16(-2.5f), Float.floatToFloat16(0f), Float.floatToFloat16(1f),
                    Float.floatToFloat16(0.333f), Float.floatToFloat16(65504f), Float.floatToFloat16(-0.001f)};
            case UINT32, INT32 -> new int[] {Integer.MIN_VALUE, -1, 0, 1, 424242, Integer.MAX_VALUE};
            case UINT64, INT64 -> new long[] {Long.MIN_VALUE, -1, 0, 1, 42424242424L, Long.MAX_VALUE};
            case FP32 -> new float[] {-2.5f, 0f, Float.MIN_VALUE, 1e30f, Float.NaN, -0f};
            case FP64 -> new double[] {-2.5, 0, Double.MIN_VALUE, 1e300, Double.NaN, -0.0};
            case BYTES -> throw new IllegalArgumentException();
        };
    }
}
