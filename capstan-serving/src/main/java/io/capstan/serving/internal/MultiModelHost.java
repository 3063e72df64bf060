package io.capstan.serving.internal;

import io.capstan.serving.api.ModelNotFoundException;
import io.capstan.serving.api.Tensor;
import io.capstan.serving.api.TensorMetadata;
import io.capstan.serving.runtime.LoadedModel;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The model of a multi-model InferenceService (a predictor with a model format and no storageUri): it has no model of
 * its own, so it is ready at once and answers 404 naming where its TrainedModels are served.
 */
final class MultiModelHost implements LoadedModel {
    private final String name;
    private final String format;

    MultiModelHost(String name, String format) {
        this.name = name;
        this.format = format;
    }

    @Override
    public String platform() {
        return format;
    }

    @Override
    public List<TensorMetadata> inputs() {
        return List.of();
    }

    @Override
    public List<TensorMetadata> outputs() {
        return List.of();
    }

    @Override
    public boolean acceptsAnyInputs() {
        return true;
    }

    @Override
    public boolean batchable() {
        return false;
    }

    @Override
    public List<Tensor> predict(List<Tensor> inputs, Set<String> outputNames, Map<String, Object> parameters) {
        throw new ModelNotFoundException("InferenceService '" + name + "' serves TrainedModels (multi-model serving) and has no "
                + "model of its own: call /v2/models/{trainedmodel}/infer or /v1/models/{trainedmodel}:predict");
    }

    @Override
    public void close() {
    }
}
