package io.capstan.serving.runtime;

import io.capstan.serving.api.DataType;
import io.capstan.serving.api.ModelFailedException;
import io.capstan.serving.api.Tensor;
import io.capstan.serving.api.TensorMetadata;
import java.util.List;
import java.util.Map;
import java.util.Set;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.XGBoost;
import ml.dmlc.xgboost4j.java.XGBoostError;

/**
 * XGBoost models saved as JSON ({@code .json}), UBJSON ({@code .ubj}) or the legacy binary format
 * (any other name, e.g. {@code model.bst}). Predicts with one thread: with two, single-row
 * predictions are about 50 times slower.
 *
 * <p>Input: one FP32 tensor [rows, features] (other numeric types are converted). Output
 * {@code predict}: FP32 [rows] for one value per row, else [rows, values].
 */
public final class XGBoostModelRuntime implements ModelRuntime {

    public static final String NAME = "capstan-xgboost";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<SupportedFormat> supportedFormats() {
        return List.of(new SupportedFormat("xgboost", null, true, 2));
    }

    @Override
    public LoadedModel load(ModelSource source) throws ModelLoadException {
        var file = ModelFiles.single(source.path(), ".json,.ubj,.bst,.model,.bin", null);
        try {
            var booster = XGBoost.loadModel(file.toString());
            booster.setParam("nthread", 1);
            return new XGBoostModel(booster, (int) booster.getNumFeature());
        } catch (XGBoostError e) {
            throw new ModelLoadException("XGBoost cannot load " + file.getFileName() + ": " + firstLine(e.getMessage())
                    + "; save the model with Booster.save_model as .json or .ubj", e);
        }
    }

    static String firstLine(String message) {
        if (message == null) {
            return "unknown error";
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }

    static final class XGBoostModel implements LoadedModel {
        private final Booster booster;
        private final int features;

        XGBoostModel(Booster booster, int features) {
            this.booster = booster;
            this.features = features;
        }

        @Override
        public String platform() {
            return "xgboost";
        }

        @Override
        public List<TensorMetadata> inputs() {
            return List.of(new TensorMetadata("input-0", DataType.FP32, List.of(-1L, (long) features)));
        }

        @Override
        public List<TensorMetadata> outputs() {
            return List.of(new TensorMetadata("predict", DataType.FP32, List.of(-1L)));
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
            try {
                float[][] predictions = booster.inplace_predict(input.floats(), rows, features, Float.NaN);
                return List.of(Rows.toTensor("predict", predictions, rows));
            } catch (XGBoostError e) {
                throw new ModelFailedException("XGBoost failed: " + firstLine(e.getMessage()), e);
            }
        }

        @Override
        public void close() {
            booster.dispose();
        }
    }
}
