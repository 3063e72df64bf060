package io.capstan.serving.grpc;

import io.capstan.serving.grpc.proto.GRPCInferenceServiceGrpc;
import io.capstan.serving.grpc.proto.GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.concurrent.TimeUnit;

/** A real grpc-java client over loopback, as KServe's and Triton's Java users would build one. */
final class GrpcClient implements AutoCloseable {

    private final ManagedChannel channel;

    GrpcClient(int port) {
        channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    }

    /** A stub with a generous deadline: the tests run on a loaded two-core machine. */
    GRPCInferenceServiceBlockingStub stub() {
        return GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    ManagedChannel channel() {
        return channel;
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow();
        channel.awaitTermination(10, TimeUnit.SECONDS);
    }
}
