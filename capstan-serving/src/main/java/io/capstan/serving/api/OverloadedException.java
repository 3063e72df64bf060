package io.capstan.serving.api;

/** The model's bounded queue is full; retry later: 429 / RESOURCE_EXHAUSTED. */
public final class OverloadedException extends InferenceException {
    public OverloadedException(String message) {
        super(message, null);
    }

    @Override
    public InferenceError error() {
        return InferenceError.OVERLOADED;
    }
}
