package io.capstan.serving.runtime;

import io.capstan.serving.api.DataType;
import io.capstan.serving.api.Tensor;
import io.capstan.serving.api.TensorMetadata;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A custom Java model for tests: multiplies FP64 input by the factor in {@code factor.txt} under its storageUri. */
public final class ScaleModelFactory implements JavaModelFactory {
    @Override
    public String format() {
        return "test-scale";
    }

    @Override
    public LoadedModel create(ModelSource source) throws ModelLoadException {
        double factor;
        try {
            factor = Double.parseDouble(Files.readString(source.path().resolve("factor.txt")).strip());
        } catch (IOException | NumberFormatException e) {
            throw new ModelLoadException("factor.txt is missing or not a number: " + e.getMessage());
        }
        return new LoadedModel() {
            @Override
            public String platform() {
                return "java";
            }

            @Override
            public List<TensorMetadata> inputs() {
                return List.of(new TensorMetadata("x", DataType.FP64, List.of(-1L)));
            }

            @Override
            public List<TensorMetadata> outputs() {
                return List.of(new TensorMetadata("y", DataType.FP64, List.of(-1L)));
            }

            @Override
            public List<Tensor> predict(List<Tensor> inputs, Set<String> outputNames, Map<String, Object> parameters) {
                var x = inputs.getFirst().doubles();
                var y = new double[x.length];
                for (int i = 0; i < x.length; i++) y[i] = x[i] * factor;
                return List.of(Tensor.ofDoubles("y", inputs.getFirst().shape(), y));
            }

            @Override
            public void close() {
            }
        };
    }
}
