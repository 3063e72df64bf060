package io.capstan.serving.api;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An inference request (OIP {@code $inference_request}).
 *
 * @param id optional request id, echoed in the response; may be null
 * @param parameters request parameters; values are String, Boolean, Long or Double
 * @param inputs the input tensors, at least one
 * @param outputs the outputs asked for; empty means every output the model produces
 */
public record InferenceRequest(String id, Map<String, Object> parameters, List<Tensor> inputs,
                               List<RequestedOutput> outputs) {

    public InferenceRequest {
        parameters = parameters == null ? Map.of() : Map.copyOf(parameters);
        inputs = inputs == null ? List.of() : List.copyOf(inputs);
        outputs = outputs == null ? List.of() : List.copyOf(outputs);
    }

    public static InferenceRequest of(Tensor... inputs) {
        return new InferenceRequest(null, Map.of(), List.of(inputs), List.of());
    }

    public Optional<Tensor> input(String name) {
        return inputs.stream().filter(t -> t.name().equals(name)).findFirst();
    }

    /** An output named in the request's {@code outputs}, with its own parameters. */
    public record RequestedOutput(String name, Map<String, Object> parameters) {
        public RequestedOutput {
            java.util.Objects.requireNonNull(name, "name");
            parameters = parameters == null ? Map.of() : Map.copyOf(parameters);
        }

        public RequestedOutput(String name) {
            this(name, Map.of());
        }
    }
}
