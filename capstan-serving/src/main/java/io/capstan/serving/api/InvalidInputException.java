package io.capstan.serving.api;

/** The request is malformed or does not fit the model: 400 / INVALID_ARGUMENT. */
public final class InvalidInputException extends InferenceException {
    public InvalidInputException(String message) {
        super(message, null);
    }

    public InvalidInputException(String message, Throwable cause) {
        super(message, cause);
    }

    /** This error with a location such as "inputs[0]" put in front of the message. */
    public InvalidInputException at(String location) {
        return new InvalidInputException(location + ": " + getMessage(), this);
    }

    @Override
    public InferenceError error() {
        return InferenceError.INVALID_INPUT;
    }
}
