package io.capstan.serving.api;

/** The runtime failed on input that passed validation: 500 / INTERNAL. */
public final class ModelFailedException extends InferenceException {
    public ModelFailedException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public InferenceError error() {
        return InferenceError.MODEL_FAILED;
    }
}
