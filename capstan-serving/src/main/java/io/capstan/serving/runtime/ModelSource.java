package io.capstan.serving.runtime;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * What to load.
 *
 * @param modelName the InferenceService's name
 * @param path the downloaded model: a file, or a directory holding one
 * @param format the model format's name, e.g. "onnx"
 * @param parameters runtime-specific settings (from annotations or the runtime's env); may be empty
 */
public record ModelSource(String modelName, Path path, String format, Map<String, String> parameters) {
    public ModelSource {
        Objects.requireNonNull(modelName, "modelName");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(format, "format");
        parameters = parameters == null ? Map.of() : Map.copyOf(parameters);
    }
}
