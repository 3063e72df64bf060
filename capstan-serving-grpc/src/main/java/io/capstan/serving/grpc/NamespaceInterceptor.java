package io.capstan.serving.grpc;

import io.capstan.serving.api.InferenceEndpoint;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

/**
 * Reads the namespace a call addresses from the {@value #HEADER} request header; the protocol itself
 * has no namespace, so calls without the header address {@link InferenceEndpoint#DEFAULT_NAMESPACE}.
 */
final class NamespaceInterceptor implements ServerInterceptor {

    static final String HEADER = "capstan-namespace";

    static final Context.Key<String> NAMESPACE =
            Context.keyWithDefault("capstan-namespace", InferenceEndpoint.DEFAULT_NAMESPACE);

    private static final Metadata.Key<String> KEY = Metadata.Key.of(HEADER, Metadata.ASCII_STRING_MARSHALLER);

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                        ServerCallHandler<Q, R> next) {
        String namespace = headers.get(KEY);
        if (namespace == null || namespace.isEmpty()) {
            return next.startCall(call, headers);
        }
        return Contexts.interceptCall(Context.current().withValue(NAMESPACE, namespace), call, headers, next);
    }
}
