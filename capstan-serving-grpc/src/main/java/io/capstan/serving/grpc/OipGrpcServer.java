package io.capstan.serving.grpc;

import io.capstan.serving.api.InferenceEndpoint;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.function.BiPredicate;
import java.util.function.Function;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The Open Inference Protocol's gRPC service ({@code inference.GRPCInferenceService}) in front of an
 * {@link InferenceEndpoint}, wire-compatible with KServe and Triton clients.
 *
 * <pre>{@code
 * try (OipGrpcServer grpc = OipGrpcServer.start(endpoint, "0.0.0.0", OipGrpcServer.DEFAULT_PORT,
 *         OipGrpcServer.Options.defaults())) {
 *     ... grpc.port() ...
 * }
 * }</pre>
 *
 * <p>Each call runs on its own virtual thread, so endpoint calls may block. Calls address the
 * {@code default} namespace unless they carry a {@code capstan-namespace} header. Errors are gRPC
 * statuses: INVALID_ARGUMENT for malformed input, NOT_FOUND for an unknown model, UNAVAILABLE for a
 * model that is not ready, RESOURCE_EXHAUSTED for an overloaded model or a message larger than
 * {@link Options#maxMessageBytes()}, INTERNAL for a model failure.
 *
 * <p>Thread-safe; {@link #close()} is idempotent.
 */
public final class OipGrpcServer implements AutoCloseable {

    /** The port KServe and Capstan serve OIP gRPC on. */
    public static final int DEFAULT_PORT = 8081;

    private final Server server;
    private final ExecutorService executor;
    private final InetSocketAddress address;
    private final Duration shutdownGrace;

    private OipGrpcServer(Server server, ExecutorService executor, InetSocketAddress address, Duration shutdownGrace) {
        this.server = server;
        this.executor = executor;
        this.address = address;
        this.shutdownGrace = shutdownGrace;
    }

    /**
     * Binds {@code host:port} and starts serving.
     *
     * @param host the address to bind, e.g. "0.0.0.0" or "127.0.0.1"
     * @param port the port, or 0 for an ephemeral one (see {@link #port()})
     * @throws UncheckedIOException when the address cannot be bound
     */
    public static OipGrpcServer start(InferenceEndpoint endpoint, String host, int port, Options options) {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(options, "options");
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("OIP gRPC port must be 0..65535, got " + port);
        }
        ExecutorService executor = Executors.newThreadPerTaskExecutor(
                Thread.ofVirtual().name("oip-grpc-", 0).factory());
        // gRPC's callbacks stay on Netty's threads; the service moves each call's work to a virtual thread.
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
                .directExecutor()
                .maxInboundMessageSize(options.maxMessageBytes())
                .addService(options.authentication().isPresent()
                        // Interceptors run last-added first: authentication before the namespace is read.
                        ? ServerInterceptors.intercept(new InferenceGrpcService(endpoint, executor, options.tracer()),
                                new NamespaceInterceptor(), new TraceparentInterceptor(), new AuthInterceptor(options.authentication().get()))
                        : ServerInterceptors.intercept(new InferenceGrpcService(endpoint, executor, options.tracer()),
                                new NamespaceInterceptor(), new TraceparentInterceptor()))
                .build();
        try {
            server.start();
        } catch (IOException e) {
            executor.close();
            throw new UncheckedIOException("cannot serve OIP gRPC on " + host + ":" + port + ": " + e.getMessage()
                    + "; free the port or choose another", e);
        }
        InetSocketAddress bound = (InetSocketAddress) server.getListenSockets().getFirst();
        return new OipGrpcServer(server, executor, bound, options.shutdownGrace());
    }

    /** The bound port; the actual one when started with port 0. */
    public int port() {
        return address.getPort();
    }

    public InetSocketAddress address() {
        return address;
    }

    /**
     * Stops accepting calls, lets calls in flight finish for up to {@link Options#shutdownGrace()},
     * then cancels the rest. Blocks until the server has stopped or the grace has passed twice.
     */
    @Override
    public void close() {
        server.shutdown();
        try {
            if (!server.awaitTermination(shutdownGrace.toMillis(), TimeUnit.MILLISECONDS)) {
                server.shutdownNow();
                server.awaitTermination(shutdownGrace.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.shutdownNow();
        } finally {
            executor.shutdownNow();
        }
    }

    /**
     * How calls authenticate: {@code authenticator} turns a bearer token from the {@code authorization} metadata into
     * the caller's name (empty when unknown); {@code anonymousModel} says whether a model (namespace, name) answers
     * calls without a token; {@code onDenied} hears of every refused call, for the audit log and metrics.
     */
    public record Authentication(Function<String, Optional<String>> authenticator, BiPredicate<String, String> anonymousModel,
                                 DenialListener onDenied) {
        public Authentication {
            Objects.requireNonNull(authenticator, "authenticator");
            Objects.requireNonNull(anonymousModel, "anonymousModel");
            Objects.requireNonNull(onDenied, "onDenied");
        }
    }

    /** Hears of a call refused for want of a valid token. */
    @FunctionalInterface
    public interface DenialListener {
        /**
         * @param method the gRPC method, such as {@code inference.GRPCInferenceService/ModelInfer}
         * @param model  the model the call named, or empty
         * @param reason missing (no token) or invalid (a token not accepted)
         */
        void denied(String method, String model, String reason);
    }

    /**
     * Server settings.
     *
     * @param maxMessageBytes the largest request message accepted; larger ones get RESOURCE_EXHAUSTED
     * @param shutdownGrace how long {@link #close()} lets calls in flight finish
     * @param authentication how calls authenticate; empty to take every call (embedded use and tests)
     * @param tracer          traces each ModelInfer call as a {@code capstan.inference} span (no-op: none)
     */
    public record Options(int maxMessageBytes, Duration shutdownGrace, Optional<Authentication> authentication,
                          io.opentelemetry.api.trace.Tracer tracer) {

        public Options {
            if (maxMessageBytes <= 0) {
                throw new IllegalArgumentException("OIP gRPC max message size must be > 0 bytes, got " + maxMessageBytes);
            }
            Objects.requireNonNull(shutdownGrace, "shutdownGrace");
            if (shutdownGrace.isNegative()) {
                throw new IllegalArgumentException("OIP gRPC shutdown grace must be >= 0, got " + shutdownGrace);
            }
            Objects.requireNonNull(authentication, "authentication");
            Objects.requireNonNull(tracer, "tracer");
        }

        public Options(int maxMessageBytes, Duration shutdownGrace, Optional<Authentication> authentication) {
            this(maxMessageBytes, shutdownGrace, authentication, io.capstan.core.tracing.Traces.off());
        }

        public Options(int maxMessageBytes, Duration shutdownGrace) {
            this(maxMessageBytes, shutdownGrace, Optional.empty());
        }

        /** 64 MiB messages and a 5 second shutdown grace. */
        public static Options defaults() {
            return new Options(64 * 1024 * 1024, Duration.ofSeconds(5));
        }

        public Options withMaxMessageBytes(int bytes) {
            return new Options(bytes, shutdownGrace, authentication, tracer);
        }

        public Options withShutdownGrace(Duration grace) {
            return new Options(maxMessageBytes, grace, authentication, tracer);
        }

        public Options withAuthentication(Authentication auth) {
            return new Options(maxMessageBytes, shutdownGrace, Optional.of(auth), tracer);
        }

        public Options withTracer(io.opentelemetry.api.trace.Tracer newTracer) {
            return new Options(maxMessageBytes, shutdownGrace, authentication, newTracer);
        }
    }
}
