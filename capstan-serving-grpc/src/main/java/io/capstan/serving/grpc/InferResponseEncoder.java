package io.capstan.serving.grpc;

import io.capstan.serving.api.DataType;
import io.capstan.serving.api.InferenceRequest.RequestedOutput;
import io.capstan.serving.api.InferenceResponse;
import io.capstan.serving.api.InvalidInputException;
import io.capstan.serving.api.Tensor;
import io.capstan.serving.grpc.proto.ModelInferResponse;
import io.capstan.serving.grpc.proto.ModelInferResponse.InferOutputTensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns the serving API's {@link InferenceResponse} into a {@link ModelInferResponse}, keeping only
 * the requested outputs, in the order they were requested.
 *
 * <p>Outputs go raw ({@code raw_output_contents}) when the request's inputs were raw, as Triton and
 * KServe answer, and also when an output is FP16, which has no typed form; the protocol does not
 * allow mixing the two forms in one response.
 */
final class InferResponseEncoder {

    /** Which form the response's tensor data takes. */
    enum Form { RAW, TYPED }

    private InferResponseEncoder() {
    }

    /** @throws InvalidInputException when a requested output is not among the model's outputs */
    static ModelInferResponse encode(InferenceResponse response, List<RequestedOutput> requested, Form form) {
        List<Tensor> outputs = select(response, requested);
        boolean raw = form == Form.RAW || outputs.stream().anyMatch(t -> t.datatype() == DataType.FP16);
        ModelInferResponse.Builder out = ModelInferResponse.newBuilder()
                .setModelName(response.modelName())
                .putAllParameters(InferParameters.encode(response.parameters()));
        if (response.modelVersion() != null) {
            out.setModelVersion(response.modelVersion());
        }
        if (response.id() != null) {
            out.setId(response.id());
        }
        for (Tensor tensor : outputs) {
            InferOutputTensor.Builder output = InferOutputTensor.newBuilder()
                    .setName(tensor.name())
                    .setDatatype(tensor.datatype().name())
                    .putAllParameters(InferParameters.encode(tensor.parameters()));
            for (long dimension : tensor.shape()) {
                output.addShape(dimension);
            }
            if (raw) {
                out.addRawOutputContents(RawContents.encode(tensor));
            } else {
                output.setContents(TypedContents.encode(tensor));
            }
            out.addOutputs(output);
        }
        return out.build();
    }

    private static List<Tensor> select(InferenceResponse response, List<RequestedOutput> requested) {
        if (requested.isEmpty()) {
            return response.outputs();
        }
        List<Tensor> selected = new ArrayList<>(requested.size());
        for (int i = 0; i < requested.size(); i++) {
            String name = requested.get(i).name();
            int index = i;
            selected.add(response.output(name).orElseThrow(() -> new InvalidInputException(
                    "outputs[" + index + "]: model '" + response.modelName() + "' has no output '" + name
                            + "'; its outputs are " + response.outputs().stream().map(Tensor::name).toList())));
        }
        return selected;
    }
}
