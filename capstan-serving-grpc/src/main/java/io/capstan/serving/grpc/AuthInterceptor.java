package io.capstan.serving.grpc;

import io.capstan.serving.grpc.proto.ModelInferRequest;
import io.capstan.serving.grpc.proto.ModelMetadataRequest;
import io.capstan.serving.grpc.proto.ModelReadyRequest;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.Optional;

/**
 * Lets a call through with {@code authorization: Bearer <token>} metadata that {@link OipGrpcServer.Authentication}
 * accepts, as the HTTP API does. A call without a token reaches only a model whose InferenceService opted out of
 * authentication: ModelInfer, ModelReady and ModelMetadata are checked once their request names the model. The
 * server-wide calls (ServerLive, ServerReady, ServerMetadata) need a token, as {@code /v2} and {@code /v2/health/*}
 * do over HTTP; a health check without one uses the HTTP server's {@code /healthz}. Refused calls end with
 * UNAUTHENTICATED.
 */
final class AuthInterceptor implements ServerInterceptor {
    private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final String BEARER = "bearer ";

    private final OipGrpcServer.Authentication auth;

    AuthInterceptor(OipGrpcServer.Authentication auth) {
        this.auth = auth;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        var method = call.getMethodDescriptor().getFullMethodName();
        var header = headers.get(AUTHORIZATION);
        if (header != null) {
            if (header.length() <= BEARER.length() || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
                return refuse(call, method, "", "invalid", "the authorization metadata must be 'Bearer <token>'");
            }
            Optional<String> user;
            try {
                user = auth.authenticator().apply(header.substring(BEARER.length()).strip());
            } catch (RuntimeException e) {
                call.close(Status.UNAVAILABLE.withDescription("the server cannot check tokens at the moment; try again shortly"), new Metadata());
                return new ServerCall.Listener<>() { };
            }
            if (user.isEmpty()) return refuse(call, method, "", "invalid", "the token is unknown, expired or revoked");
            return next.startCall(call, headers);
        }
        var namespace = Optional.ofNullable(headers.get(Metadata.Key.of(NamespaceInterceptor.HEADER, Metadata.ASCII_STRING_MARSHALLER)))
                .filter(s -> !s.isEmpty()).orElse(io.capstan.serving.api.InferenceEndpoint.DEFAULT_NAMESPACE);
        var listener = next.startCall(call, headers);
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
            private boolean refused;

            @Override
            public void onMessage(Q message) {
                if (refused) return;
                var model = switch (message) {
                    case ModelInferRequest r -> r.getModelName();
                    case ModelReadyRequest r -> r.getName();
                    case ModelMetadataRequest r -> r.getName();
                    default -> null;
                };
                if (model == null || model.isEmpty() || !auth.anonymousModel().test(namespace, model)) {
                    refused = true;
                    deny(call, method, model == null ? "" : model, "missing", "this call needs a token: send 'authorization: Bearer <token>' metadata");
                    return;
                }
                super.onMessage(message);
            }

            @Override
            public void onHalfClose() {
                if (!refused) super.onHalfClose();
            }

            @Override
            public void onReady() {
                if (!refused) super.onReady();
            }
        };
    }

    private <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, String method, String model, String reason, String detail) {
        deny(call, method, model, reason, detail);
        return new ServerCall.Listener<>() { };
    }

    private void deny(ServerCall<?, ?> call, String method, String model, String reason, String detail) {
        try {
            auth.onDenied().denied(method, model, reason);
        } finally {
            call.close(Status.UNAUTHENTICATED.withDescription(detail), new Metadata());
        }
    }
}
