package io.capstan.serving.grpc;

import io.capstan.serving.api.InferenceException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.lang.System.Logger.Level;

/**
 * Maps failures of the serving API to gRPC statuses: each {@link InferenceException} carries its
 * code ({@code InferenceError.grpcCode()}) and a message written for the client; anything else is a
 * bug, logged here and answered INTERNAL without internals.
 */
final class GrpcErrors {

    private static final System.Logger LOG = System.getLogger(GrpcErrors.class.getName());

    private GrpcErrors() {
    }

    static StatusRuntimeException toStatus(RuntimeException failure) {
        if (failure instanceof InferenceException known) {
            return Status.fromCode(Status.Code.valueOf(known.error().grpcCode()))
                    .withDescription(known.getMessage())
                    .asRuntimeException();
        }
        LOG.log(Level.ERROR, "OIP gRPC call failed unexpectedly", failure);
        return Status.INTERNAL
                .withDescription("the server failed unexpectedly (" + failure.getClass().getSimpleName()
                        + "); this is a bug in Capstan")
                .withCause(failure)
                .asRuntimeException();
    }
}
