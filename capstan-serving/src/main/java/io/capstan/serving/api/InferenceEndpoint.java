package io.capstan.serving.api;

import java.util.List;

/**
 * Capstan's in-process inference service, independent of any wire protocol. The OIP REST, V1 and
 * OIP gRPC adapters all call this.
 *
 * <p>Models are addressed by namespace, name and version. The name is the InferenceService's
 * name. The version is optional: null or empty routes through the service's traffic split
 * (canary, shadow); a revision number such as "3" addresses that revision directly. The overloads
 * without a namespace use {@link #DEFAULT_NAMESPACE}.
 *
 * <p>Calls block until the answer is ready and are meant to be made from virtual threads. They
 * report protocol errors as {@link InferenceException} subclasses.
 */
public interface InferenceEndpoint {

    String DEFAULT_NAMESPACE = "default";

    boolean serverLive();

    boolean serverReady();

    ServerMetadata serverMetadata();

    /**
     * Whether the model can answer now. A model scaled to zero is ready: its first request waits
     * for activation.
     *
     * @throws ModelNotFoundException when there is no such model or version
     */
    boolean modelReady(String namespace, String name, String version);

    /** The names of every model in {@code namespace}, ready or not, sorted; empty for an unknown namespace. */
    List<String> modelNames(String namespace);

    /**
     * The largest request, in bytes, that the model accepts: its own limit where it sets one, else {@code fallback}.
     *
     * @throws ModelNotFoundException when there is no such model
     */
    default int maxRequestBytes(String namespace, String name, int fallback) {
        return fallback;
    }

    /**
     * Whether the model answers callers without a token: its InferenceService set the
     * {@code serving.capstan.io/enable-auth: "false"} annotation. False for an unknown model.
     */
    default boolean allowsAnonymous(String namespace, String name) {
        return false;
    }

    /** @throws ModelNotFoundException when there is no such model or version */
    ModelMetadata modelMetadata(String namespace, String name, String version);

    /**
     * Runs inference.
     *
     * @throws InvalidInputException when the request does not fit the model
     * @throws ModelNotFoundException when there is no such model or version
     * @throws ModelNotReadyException when no revision of the model is ready
     * @throws OverloadedException when the model's queue is full
     */
    InferenceResponse infer(String namespace, String name, String version, InferenceRequest request);

    default boolean modelReady(String name, String version) {
        return modelReady(DEFAULT_NAMESPACE, name, version);
    }

    default ModelMetadata modelMetadata(String name, String version) {
        return modelMetadata(DEFAULT_NAMESPACE, name, version);
    }

    default InferenceResponse infer(String name, String version, InferenceRequest request) {
        return infer(DEFAULT_NAMESPACE, name, version, request);
    }
}
