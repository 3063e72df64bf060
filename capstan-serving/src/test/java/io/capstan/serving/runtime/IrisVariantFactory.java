package io.capstan.serving.runtime;

import io.capstan.serving.TestModels;
import io.capstan.serving.api.DataType;
import io.capstan.serving.api.Tensor;
import io.capstan.serving.api.TensorMetadata;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The iris-like linear classifier of {@link TestModels#IRIS_WEIGHTS} as a custom Java model, in the variant that
 * {@code mode.txt} under its storageUri names: {@code good}; {@code constant}, which always predicts class 0; or
 * {@code slow}, which answers as {@code good} 20 ms later. Input {@code input} FP32 [batch, 4], output {@code label}
 * INT64 [batch].
 */
public final class IrisVariantFactory implements JavaModelFactory {
    @Override
    public String format() {
        return "test-iris";
    }

    @Override
    public LoadedModel create(ModelSource source) throws ModelLoadException {
        String mode;
        try {
            mode = Files.readString(source.path().resolve("mode.txt")).strip();
        } catch (IOException e) {
            throw new ModelLoadException("mode.txt is missing: " + e.getMessage());
        }
        if (!List.of("good", "constant", "slow").contains(mode)) throw new ModelLoadException("unknown mode " + mode);
        return new LoadedModel() {
            @Override
            public String platform() {
                return "java";
            }

            @Override
            public List<TensorMetadata> inputs() {
                return List.of(new TensorMetadata("input", DataType.FP32, List.of(-1L, 4L)));
            }

            @Override
            public List<TensorMetadata> outputs() {
                return List.of(new TensorMetadata("label", DataType.INT64, List.of(-1L)));
            }

            @Override
            public List<Tensor> predict(List<Tensor> inputs, Set<String> outputNames, Map<String, Object> parameters) {
                var x = inputs.getFirst().floats();
                int rows = x.length / 4;
                var labels = new long[rows];
                for (int r = 0; r < rows; r++) {
                    if (mode.equals("constant")) continue;
                    int best = 0;
                    double bestLogit = Double.NEGATIVE_INFINITY;
                    for (int c = 0; c < 3; c++) {
                        double logit = TestModels.IRIS_BIAS[c];
                        for (int f = 0; f < 4; f++) logit += x[r * 4 + f] * TestModels.IRIS_WEIGHTS[f][c];
                        if (logit > bestLogit) {
                            bestLogit = logit;
                            best = c;
                        }
                    }
                    labels[r] = best;
                }
                if (mode.equals("slow")) {
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return List.of(Tensor.ofLongs("label", new long[] {rows}, labels));
            }

            @Override
            public void close() {
            }
        };
    }
}
