package io.capstan.serving.api;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An inference response (OIP {@code $inference_response}).
 *
 * @param modelVersion the revision that answered, e.g. "3"; may be null
 * @param id the request's id, or null
 */
public record InferenceResponse(String modelName, String modelVersion, String id, Map<String, Object> parameters,
                                List<Tensor> outputs) {

    public InferenceResponse {
        java.util.Objects.requireNonNull(modelName, "modelName");
        parameters = parameters == null ? Map.of() : Map.copyOf(parameters);
        outputs = outputs == null ? List.of() : List.copyOf(outputs);
    }

    public Optional<Tensor> output(String name) {
        return outputs.stream().filter(t -> t.name().equals(name)).findFirst();
    }
}
