package io.capstan.core.tracing;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.TracerProvider;
import java.util.Objects;

/** The tracer that traces nothing, and the W3C trace context a child process is given. */
public final class Traces {
    /** The environment variable that carries a span's context to a child process, in W3C {@code traceparent} form. */
    public static final String TRACEPARENT_ENV = "TRACEPARENT";
    /** The instrumentation scope of every Capstan span. */
    public static final String SCOPE = "io.capstan";

    private Traces() {
    }

    /** The tracer of a server that exports no traces: its spans are no-ops. */
    public static Tracer off() {
        return OpenTelemetry.noop().getTracer(SCOPE);
    }

    /**
     * Whether {@code tracer} records anything: false for the no-op tracer, so that a hot path can skip all tracing
     * work with one check.
     */
    public static boolean isOn(Tracer tracer) {
        Objects.requireNonNull(tracer, "tracer");
        return tracer != TracerProvider.noop().get(SCOPE);
    }

    /** {@code 00-<trace id>-<span id>-<flags>}, the W3C Trace Context header value; empty for an invalid context. */
    public static String traceparent(SpanContext context) {
        if (!context.isValid()) return "";
        return "00-" + context.getTraceId() + "-" + context.getSpanId() + "-" + context.getTraceFlags().asHex();
    }
}
