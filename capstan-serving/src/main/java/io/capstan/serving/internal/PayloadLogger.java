package io.capstan.serving.internal;

import io.capstan.serving.api.InferenceRequest;
import io.capstan.serving.api.InferenceResponse;

/** Receives request and response payloads of a model (KServe's logger), shadow answers included. */
public interface PayloadLogger extends AutoCloseable {

    PayloadLogger NONE = new PayloadLogger() {
        @Override
        public void log(String namespace, String model, Revision revision, InferenceRequest request, InferenceResponse response, boolean shadow) {
        }

        @Override
        public boolean enabled() {
            return false;
        }
    };

    /** Called after each answered request; must not block the caller for long. */
    void log(String namespace, String model, Revision revision, InferenceRequest request, InferenceResponse response, boolean shadow);

    default boolean enabled() {
        return true;
    }

    @Override
    default void close() {
    }
}
