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

/**
 * A custom Java model for SLO tests: FP32 {@code x} [rows, columns] in, each row's sum as {@code y} out; it fails
 * (a model error, answered 500) when the first value is negative, so that a test chooses which requests fail.
 */
public final class FailsOnNegativeModelFactory implements JavaModelFactory {
    @Override
    public String format() {
        return "test-fails-on-negative";
    }

    @Override
    public LoadedModel create(ModelSource source) {
        var sum = new RowSumModelFactory().create(source);
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
                return sum.outputs();
            }

            @Override
            public List<Tensor> predict(List<Tensor> inputs, Set<String> outputNames, Map<String, Object> parameters) {
                if (inputs.getFirst().floats()[0] < 0) throw new IllegalStateException("negative input: this test model fails on purpose");
                return sum.predict(inputs, outputNames, parameters);
            }

            @Override
            public void close() {
            }
        };
    }
}
