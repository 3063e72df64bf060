package io.capstan.serving.runtime;

import io.capstan.serving.api.DataType;
import io.capstan.serving.api.Tensor;
import io.capstan.serving.api.TensorMetadata;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * LightGBM models in LightGBM's text format ({@code Booster.save_model("model.txt")}), evaluated in
 * plain Java: no native library is needed, and prediction is thread-safe. Scores match LightGBM's
 * {@code Booster.predict} (see {@link LightGbmText} for what is evaluated); a model using anything else is
 * refused at load with the reason.
 *
 * <p>Input: one FP64 tensor [rows, features] (other numeric types are converted; FP32 is also taken as is). Output
 * {@code predict}: FP64 [rows] for single-score models, [rows, classes] for multiclass.
 */
public final class LightGbmModelRuntime implements ModelRuntime {

    public static final String NAME = "capstan-lightgbm";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<SupportedFormat> supportedFormats() {
        return List.of(new SupportedFormat("lightgbm", null, true, 2));
    }

    @Override
    public LoadedModel load(ModelSource source) throws ModelLoadException {
        var file = ModelFiles.single(source.path(), ".txt,.lgb,.model", "model.txt");
        try {
            if (Files.size(file) > 1L << 30) {
                throw new ModelLoadException("LightGBM model " + file.getFileName() + " is over 1 GiB");
            }
            return new LightGbmModel(LightGbmText.parse(Files.readString(file)));
        } catch (IOException e) {
            throw new ModelLoadException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (LightGbmText.UnsupportedModelException e) {
            throw new ModelLoadException("LightGBM model " + file.getFileName() + " cannot be served: " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException("not a LightGBM text model: " + e.getMessage()
                    + "; save it with Booster.save_model('model.txt')", e);
        }
    }

    static final class LightGbmModel implements LoadedModel {
        private final LightGbmText.Model model;

        LightGbmModel(LightGbmText.Model model) {
            this.model = model;
        }

        @Override
        public String platform() {
            return "lightgbm";
        }

        @Override
        public List<TensorMetadata> inputs() {
            // LightGBM compares features as doubles: FP64 keeps what the client sent (FP32 and integers convert exactly).
            return List.of(new TensorMetadata("input-0", DataType.FP64, List.of(-1L, (long) model.features())));
        }

        @Override
        public List<TensorMetadata> outputs() {
            int width = model.outputsPerRow();
            return List.of(new TensorMetadata("predict", DataType.FP64, width == 1 ? List.of(-1L) : List.of(-1L, (long) width)));
        }

        @Override
        public boolean convertsNumericInputs() {
            return true;
        }

        @Override
        public boolean batchable() {
            return true;
        }

        @Override
        public List<Tensor> predict(List<Tensor> inputs, Set<String> outputNames, Map<String, Object> parameters) {
            var input = inputs.getFirst();
            int rows = (int) input.shape()[0];
            int width = model.outputsPerRow();
            var out = new double[rows * width];
            var row = new double[model.features()];
            if (input.datatype() == DataType.FP64) {
                double[] data = input.doubles();
                for (int r = 0; r < rows; r++) {
                    System.arraycopy(data, r * row.length, row, 0, row.length);
                    model.predict(row, out, r * width);
                }
            } else {
                float[] data = input.floats();
                for (int r = 0; r < rows; r++) {
                    for (int f = 0; f < row.length; f++) row[f] = data[r * row.length + f];
                    model.predict(row, out, r * width);
                }
            }
            return List.of(Rows.toTensor("predict", out, rows));
        }

        @Override
        public void close() {
            // plain Java objects: nothing to free
        }
    }
}
