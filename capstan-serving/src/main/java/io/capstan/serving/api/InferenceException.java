package io.capstan.serving.api;

/**
 * A failure of an {@link InferenceEndpoint} call that the protocol reports to the caller.
 * {@link #error()} says which status to answer with; {@link #getMessage()} is the sentence for the
 * error body and is safe to show to clients.
 */
public abstract sealed class InferenceException extends RuntimeException
        permits InvalidInputException, ModelNotFoundException, ModelNotReadyException, OverloadedException,
        ModelFailedException {

    protected InferenceException(String message, Throwable cause) {
        super(message, cause);
    }

    public abstract InferenceError error();
}
