package io.capstan.core;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.Objects;

/** A Kubernetes-style status condition: {@code status} is True, False or Unknown. */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record Condition(String type, Status status, String reason, String message, Instant lastTransitionTime) {
    public Condition {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(status, "status");
        reason = reason == null ? "" : reason;
        message = message == null ? "" : message;
    }

    public static Condition isTrue(String type, String reason, String message, Instant at) {
        return new Condition(type, Status.True, reason, message, at);
    }

    public static Condition isFalse(String type, String reason, String message, Instant at) {
        return new Condition(type, Status.False, reason, message, at);
    }

    public enum Status { True, False, Unknown }
}
