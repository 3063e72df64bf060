package io.capstan.serving.api;

/** The protocol error an {@link InferenceException} maps to, in both REST and gRPC terms. */
public enum InferenceError {
    INVALID_INPUT(400, "INVALID_ARGUMENT"),
    MODEL_NOT_FOUND(404, "NOT_FOUND"),
    OVERLOADED(429, "RESOURCE_EXHAUSTED"),
    NOT_READY(503, "UNAVAILABLE"),
    /** The model itself failed on valid input; a bug or a broken model, never bad input. */
    MODEL_FAILED(500, "INTERNAL");

    private final int httpStatus;
    private final String grpcCode;

    InferenceError(int httpStatus, String grpcCode) {
        this.httpStatus = httpStatus;
        this.grpcCode = grpcCode;
    }

    public int httpStatus() {
        return httpStatus;
    }

    /** The name of the {@code io.grpc.Status.Code} to answer with. */
    public String grpcCode() {
        return grpcCode;
    }
}
