package io.capstan.serving.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

/** Carries a call's W3C {@code traceparent} (and {@code tracestate}) metadata to the worker that answers it. */
final class TraceparentInterceptor implements ServerInterceptor {

    static final Context.Key<String> TRACEPARENT = Context.key("traceparent");
    static final Context.Key<String> TRACESTATE = Context.key("tracestate");

    private static final Metadata.Key<String> PARENT = Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<String> STATE = Metadata.Key.of("tracestate", Metadata.ASCII_STRING_MARSHALLER);

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String parent = headers.get(PARENT);
        if (parent == null) return next.startCall(call, headers);
        var context = Context.current().withValue(TRACEPARENT, parent);
        String state = headers.get(STATE);
        if (state != null) context = context.withValue(TRACESTATE, state);
        return Contexts.interceptCall(context, call, headers, next);
    }
}
