package io.capstan.server.serving;

import io.capstan.serving.api.DataType;
import io.capstan.serving.api.Tensor;
import io.capstan.serving.api.TensorMetadata;
import io.capstan.serving.runtime.JavaModelFactory;
import io.capstan.serving.runtime.LoadedModel;
import io.capstan.serving.runtime.ModelSource;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A custom Java model for the server's tests: FP32 {@code x} [rows, columns] in, each row's sum as {@code y} [rows] out. */
public final class RowSumModelFactory implements JavaModelFactory {
    @Override
    public String format() {
        return "test-row-sum";
    }

    @Override
    public LoadedModel create(ModelSource source) {
        return new LoadedModel() {
            @Override
            public String platform() {
                return "java";
            }

            @Override
            public List<TensorMetadata> inputs() {
                return List.of(new TensorMetadata("x", DataType.FP32, List.of(-1L, -1L)));
            }

            @Override
            public List<TensorMetadata> outputs() {
                return List.of(new TensorMetadata("y", DataType.FP32, List.of(-1L)));
            }

            @Override
            public List<Tensor> predict(List<Tensor> inputs, Set<String> outputNames, Map<String, Object> parameters) {
                var x = inputs.getFirst();
                int rows = (int) x.shape()[0];
                int columns = (int) x.shape()[1];
                var y = new float[rows];
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < columns; c++) y[r] += x.floats()[r * columns + c];
                }
                return List.of(Tensor.ofFloats("y", new long[] {rows}, y));
            }

            @Override
            public void close() {
            }
        };
    }
}
