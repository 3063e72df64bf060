package io.capstan.serving.api;

import java.util.List;
import java.util.Map;

/**
 * Model metadata (OIP {@code $metadata_model_response}).
 *
 * @param versions the versions (revision numbers) that can be addressed explicitly
 * @param platform e.g. "onnxruntime_onnx", "xgboost_json", "lightgbm", "java"
 */
public record ModelMetadata(String name, List<String> versions, String platform, List<TensorMetadata> inputs,
                            List<TensorMetadata> outputs, Map<String, Object> parameters) {
    public ModelMetadata {
        java.util.Objects.requireNonNull(name, "name");
        versions = versions == null ? List.of() : List.copyOf(versions);
        inputs = inputs == null ? List.of() : List.copyOf(inputs);
        outputs = outputs == null ? List.of() : List.copyOf(outputs);
        parameters = parameters == null ? Map.of() : Map.copyOf(parameters);
    }
}
