package io.capstan.serving.runtime;

import io.capstan.serving.api.Tensor;
import io.capstan.serving.api.TensorMetadata;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A model in memory, ready to predict. Implementations must be safe for concurrent calls to
 * {@link #predict}; Capstan bounds the concurrency per instance.
 */
public interface LoadedModel extends AutoCloseable {

    /**
     * The name of the one BYTES input that carries a V1 request body, as is, to a model that {@link #acceptsAnyInputs()}
     * (a model server process answers V1 itself); its one output of the same name carries the V1 answer.
     */
    String V1_BODY = "capstan.v1.body";

    /** E.g. "onnxruntime_onnx", "xgboost", "lightgbm", "java". */
    String platform();

    /** The inputs the model takes; a -1 dimension accepts any size. Requests are checked against these. */
    List<TensorMetadata> inputs();

    List<TensorMetadata> outputs();

    /**
     * Runs the model on inputs that were already checked against {@link #inputs()}.
     *
     * @param outputNames the outputs to compute; empty means all
     * @param parameters the request's parameters
     * @return the outputs, named as in {@link #outputs()}
     */
    List<Tensor> predict(List<Tensor> inputs, Set<String> outputNames, Map<String, Object> parameters);

    /** Whether the first dimension of every input and output is the batch, so that requests can be merged. */
    default boolean batchable() {
        return inputs().stream().allMatch(t -> !t.shape().isEmpty() && t.shape().getFirst() == -1)
                && outputs().stream().allMatch(t -> !t.shape().isEmpty() && t.shape().getFirst() == -1);
    }

    /**
     * Whether numeric inputs of another datatype are converted to the declared one (as tree models
     * do) rather than refused.
     */
    default boolean convertsNumericInputs() {
        return false;
    }

    /**
     * Whether the model takes whatever tensors a request has, unchecked, with {@link #inputs()} empty: a model server
     * process whose inputs are not declared (a scikit-learn pickle, a custom predictor) checks them itself.
     */
    default boolean acceptsAnyInputs() {
        return false;
    }

    /**
     * Whether a call waits on another process (a model server over HTTP) rather than computing here: such calls run
     * on the request's virtual thread, which parks while it waits, instead of on the replica's platform-thread lane
     * that keeps native calls off the carriers (and would hold the process to as many calls as this machine has cores).
     */
    default boolean callsOutOfProcess() {
        return false;
    }

    @Override
    void close();
}
