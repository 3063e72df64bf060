package io.capstan.serving.runtime;

import java.util.List;

/**
 * A way to load models of some formats into the JVM: Capstan's counterpart of a KServe
 * ServingRuntime's container. Built-in runtimes are ONNX Runtime, XGBoost, LightGBM and custom
 * Java models ({@link JavaModelFactory}).
 */
public interface ModelRuntime {

    /** The runtime's name as a ServingRuntime or {@code spec.predictor.model.runtime} names it, e.g. "capstan-onnx". */
    String name();

    /** The model formats this runtime can load. */
    List<SupportedFormat> supportedFormats();

    /**
     * Loads a model from a local file or directory.
     *
     * @throws ModelLoadException with a sentence for the InferenceService status when it cannot
     */
    LoadedModel load(ModelSource source) throws ModelLoadException;
}
