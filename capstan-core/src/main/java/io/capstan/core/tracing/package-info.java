/**
 * Traces: the span kept for work that outlives one call (a pipeline run, a step attempt), and the W3C
 * {@code traceparent} that carries a span's context to a child process. Engines take an OpenTelemetry
 * {@link io.opentelemetry.api.trace.Tracer} by constructor; a no-op one (the default) turns all of this off.
 */
package io.capstan.core.tracing;
