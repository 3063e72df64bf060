package io.capstan.serving.api;

/** The model exists but cannot answer yet (loading, failed, activation timed out): 503 / UNAVAILABLE. */
public final class ModelNotReadyException extends InferenceException {
    public ModelNotReadyException(String message) {
        super(message, null);
    }

    @Override
    public InferenceError error() {
        return InferenceError.NOT_READY;
    }
}
