package io.capstan.serving.grpc;

import java.util.concurrent.CountDownLatch;

/**
 * Serves {@link TestModels} (echo, iris, ...) over OIP gRPC until killed, for
 * {@code bench/grpc-bench.sh --self}. Prints {@code listening on PORT} once bound.
 *
 * <pre>TestModelServer [port]</pre>
 */
public final class TestModelServer {

    public static void main(String[] args) throws InterruptedException {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 0;
        OipGrpcServer server = OipGrpcServer.start(new TestModels(), "127.0.0.1", port,
                OipGrpcServer.Options.defaults());
        Runtime.getRuntime().addShutdownHook(new Thread(server::close));
        System.out.println("listening on " + server.port());
        System.out.flush();
        new CountDownLatch(1).await();
    }
}
