package io.capstan.serving.runtime;

/**
 * Service-provider interface for custom models written in Java, KServe's custom predictor
 * counterpart. Implementations are found with {@link java.util.ServiceLoader}: list the class in
 * {@code META-INF/services/io.capstan.serving.runtime.JavaModelFactory}, put the jar on Capstan's
 * class path, and name the format in the InferenceService:
 * <pre>
 * spec:
 *   predictor:
 *     model:
 *       modelFormat: {name: my-format}
 *       storageUri: file:///models/my-model   # handed to create() as ModelSource.path
 * </pre>
 */
public interface JavaModelFactory {

    /** The model format name this factory serves, e.g. "my-format". */
    String format();

    LoadedModel create(ModelSource source) throws ModelLoadException;
}
