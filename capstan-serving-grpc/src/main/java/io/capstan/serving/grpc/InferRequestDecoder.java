package io.capstan.serving.grpc;

import io.capstan.serving.api.DataType;
import io.capstan.serving.api.InferenceRequest;
import io.capstan.serving.api.InferenceRequest.RequestedOutput;
import io.capstan.serving.api.InvalidInputException;
import io.capstan.serving.api.Tensor;
import io.capstan.serving.grpc.proto.ModelInferRequest;
import io.capstan.serving.grpc.proto.ModelInferRequest.InferInputTensor;
import io.capstan.serving.grpc.proto.ModelInferRequest.InferRequestedOutputTensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a {@link ModelInferRequest} into the serving API's {@link InferenceRequest}, checking
 * everything the protocol fixes: datatypes, shapes against data lengths, and that tensor data comes
 * either all raw or all typed. Errors name the field, e.g. {@code inputs[1] ('x')}.
 */
final class InferRequestDecoder {

    private static final String DATATYPES = Arrays.toString(DataType.values());

    private InferRequestDecoder() {
    }

    /** @throws InvalidInputException naming the first malformed field */
    static InferenceRequest decode(ModelInferRequest request) {
        if (request.getInputsCount() == 0) {
            throw new InvalidInputException("the request has no inputs; ModelInfer needs at least one input tensor");
        }
        boolean raw = request.getRawInputContentsCount() > 0;
        if (raw && request.getRawInputContentsCount() != request.getInputsCount()) {
            throw new InvalidInputException("raw_input_contents has " + request.getRawInputContentsCount()
                    + " entries but there are " + request.getInputsCount()
                    + " inputs; send one entry per input, in the order of inputs");
        }
        List<Tensor> inputs = new ArrayList<>(request.getInputsCount());
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < request.getInputsCount(); i++) {
            InferInputTensor input = request.getInputs(i);
            String where = "inputs[" + i + "]";
            Integer previous = seen.putIfAbsent(input.getName(), i);
            if (previous != null) {
                throw new InvalidInputException(where + ": name '" + input.getName() + "' is already used by inputs["
                        + previous + "]; input names must be unique");
            }
            inputs.add(decodeInput(request, i, input, raw, where));
        }
        return new InferenceRequest(
                request.getId().isEmpty() ? null : request.getId(),
                InferParameters.decode(request.getParametersMap(), ""),
                inputs,
                requestedOutputs(request));
    }

    private static Tensor decodeInput(ModelInferRequest request, int index, InferInputTensor input, boolean raw,
                                      String where) {
        if (input.getName().isEmpty()) {
            throw new InvalidInputException(where + ".name is empty; every input needs the model's input name");
        }
        String named = where + " ('" + input.getName() + "')";
        DataType type = DataType.fromWireName(input.getDatatype()).orElseThrow(() -> new InvalidInputException(
                named + ": datatype '" + input.getDatatype() + "' is not an OIP datatype; use one of " + DATATYPES));
        long[] shape = new long[input.getShapeCount()];
        for (int d = 0; d < shape.length; d++) {
            shape[d] = input.getShape(d);
        }
        int count;
        try {
            count = Math.toIntExact(Tensor.elementCount(shape));
        } catch (InvalidInputException e) {
            throw e.at(named + ".shape");
        }
        Object data;
        try {
            if (raw) {
                if (input.hasContents() && input.getContents().getSerializedSize() > 0) {
                    throw new InvalidInputException("contents is set and so is raw_input_contents; send every "
                            + "input's data in one of the two forms, not both");
                }
                data = RawContents.decode(type, count, request.getRawInputContents(index));
            } else {
                data = TypedContents.decode(type, count, input.getContents());
            }
        } catch (InvalidInputException e) {
            throw e.at(named);
        }
        return new Tensor(input.getName(), type, shape, data,
                InferParameters.decode(input.getParametersMap(), named + "."));
    }

    private static List<RequestedOutput> requestedOutputs(ModelInferRequest request) {
        if (request.getOutputsCount() == 0) {
            return List.of();
        }
        List<RequestedOutput> outputs = new ArrayList<>(request.getOutputsCount());
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < request.getOutputsCount(); i++) {
            InferRequestedOutputTensor output = request.getOutputs(i);
            String where = "outputs[" + i + "]";
            if (output.getName().isEmpty()) {
                throw new InvalidInputException(where + ".name is empty; name the model output to return");
            }
            Integer previous = seen.putIfAbsent(output.getName(), i);
            if (previous != null) {
                throw new InvalidInputException(where + ": output '" + output.getName() + "' is already requested by "
                        + "outputs[" + previous + "]");
            }
            outputs.add(new RequestedOutput(output.getName(),
                    InferParameters.decode(output.getParametersMap(), where + ".")));
        }
        return outputs;
    }
}
