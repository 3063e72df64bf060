package io.capstan.serving.api;

/** No such model (or version) in the namespace: 404 / NOT_FOUND. */
public final class ModelNotFoundException extends InferenceException {
    public ModelNotFoundException(String message) {
        super(message, null);
    }

    @Override
    public InferenceError error() {
        return InferenceError.MODEL_NOT_FOUND;
    }
}
