package io.capstan.serving.runtime;

/** A model could not be loaded; the message is the reason shown in the InferenceService's status. */
public class ModelLoadException extends Exception {
    public ModelLoadException(String message) {
        super(message);
    }

    public ModelLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
