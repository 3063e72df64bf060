package io.capstan.serving.internal;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** What to do instead, for model formats that need a Python or C++ server Capstan does not run. */
final class UnservableFormats {
    private static final Map<String, String> ADVICE = Map.ofEntries(
            Map.entry("sklearn", "Capstan cannot load scikit-learn pickles (joblib/pickle); convert with skl2onnx and use modelFormat onnx"),
            Map.entry("tensorflow", "Capstan cannot load TensorFlow SavedModels; convert with tf2onnx and use modelFormat onnx"),
            Map.entry("pytorch", "Capstan cannot load TorchScript or .pt/.mar files; export with torch.onnx.export and use modelFormat onnx"),
            Map.entry("pmml", "Capstan cannot load PMML; convert the source model to ONNX (e.g. skl2onnx) and use modelFormat onnx"),
            Map.entry("triton", "Capstan does not run Triton; serve the repository's model.onnx with modelFormat onnx"),
            Map.entry("huggingface", "Capstan does not run Hugging Face transformers; export with optimum (ONNX) and use modelFormat onnx"),
            Map.entry("paddle", "Capstan cannot load PaddlePaddle models; convert with paddle2onnx and use modelFormat onnx"),
            Map.entry("mlflow", "Capstan cannot load MLflow pyfunc models; log the model as ONNX (mlflow.onnx) and use modelFormat onnx"),
            Map.entry("keras", "Capstan cannot load Keras models; convert with tf2onnx and use modelFormat onnx"),
            Map.entry("catboost", "Capstan cannot load CatBoost models; save with model.save_model(format='onnx') and use modelFormat onnx"));

    private UnservableFormats() {
    }

    static Optional<String> advice(String format) {
        return Optional.ofNullable(ADVICE.get(format.toLowerCase(Locale.ROOT)));
    }

    static String customContainer(String image) {
        return "Capstan does not run containers (" + image + "); implement the model as a JavaModelFactory and name its "
                + "modelFormat, or convert it to ONNX and use modelFormat onnx";
    }
}
