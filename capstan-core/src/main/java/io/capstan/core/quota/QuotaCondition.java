package io.capstan.core.quota;

import io.capstan.core.Condition;
import io.capstan.core.ResourceStatus;
import java.time.Instant;
import java.util.Objects;

/**
 * The {@code QuotaExceeded} condition every engine writes on the resource the user applied while some of its work
 * waits for its namespace's quota: True with reason {@code ExceededQuota} and the message naming the quota, such as
 * {@code namespace team-a: requests.cpu 3.5 of 4 in use, this workload asks 1}; False with reason
 * {@code QuotaAvailable} once nothing waits. A resource that never waited gets no such condition.
 */
public final class QuotaCondition {
    public static final String TYPE = "QuotaExceeded";
    public static final String EXCEEDED = "ExceededQuota";
    public static final String AVAILABLE = "QuotaAvailable";

    private QuotaCondition() {
    }

    /** {@code status} saying that work waits for quota, and why. */
    public static ResourceStatus waiting(ResourceStatus status, String why, Instant now) {
        Objects.requireNonNull(why, "why");
        return status.withCondition(TYPE, true, EXCEEDED, why, now);
    }

    /** {@code status} saying that nothing waits for quota any more; unchanged when nothing ever did. */
    public static ResourceStatus cleared(ResourceStatus status, Instant now) {
        var current = status.condition(TYPE);
        if (current.isEmpty() || current.get().status() != Condition.Status.True) return status;
        return status.withCondition(TYPE, false, AVAILABLE, "", now);
    }
}
