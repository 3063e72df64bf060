package io.capstan.core.quota;

import java.math.BigDecimal;
import java.util.Optional;

/**
 * The ResourceQuota {@code hard} keys Capstan enforces, by wire name. CPUs are kept in millicores and memory in
 * bytes. Limits are enforced against requests: locally a workload declares requests only, and a limit is never below
 * its request, so a workload that would break {@code limits.cpu} in Kubernetes breaks it here too.
 */
public enum QuotaResource {
    REQUESTS_CPU("requests.cpu"),
    REQUESTS_MEMORY("requests.memory"),
    LIMITS_CPU("limits.cpu"),
    LIMITS_MEMORY("limits.memory"),
    REQUESTS_GPU("requests.nvidia.com/gpu"),
    PODS("pods");

    private final String wireName;

    QuotaResource(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    /** The resource a {@code hard} key names; {@code cpu} and {@code memory} are Kubernetes' short forms of the requests. */
    static Optional<QuotaResource> ofKey(String key) {
        return switch (key) {
            case "cpu" -> Optional.of(REQUESTS_CPU);
            case "memory" -> Optional.of(REQUESTS_MEMORY);
            default -> {
                for (var r : values()) if (r.wireName.equals(key)) yield Optional.of(r);
                yield Optional.empty();
            }
        };
    }

    /** A limit as written in the Profile, converted to this resource's unit (millicores for CPUs). */
    long units(BigDecimal quantity) {
        var scaled = this == REQUESTS_CPU || this == LIMITS_CPU ? quantity.movePointRight(3) : quantity;
        return scaled.setScale(0, java.math.RoundingMode.FLOOR).min(BigDecimal.valueOf(Long.MAX_VALUE)).longValueExact();
    }

    /** {@code amount} of this resource as a person reads it: {@code 3.5} CPUs, {@code 8Gi}, {@code 2}. */
    String format(long amount) {
        return switch (this) {
            case REQUESTS_CPU, LIMITS_CPU -> BigDecimal.valueOf(amount).movePointLeft(3).stripTrailingZeros().toPlainString();
            case REQUESTS_MEMORY, LIMITS_MEMORY -> bytes(amount);
            case REQUESTS_GPU, PODS -> Long.toString(amount);
        };
    }

    private static String bytes(long amount) {
        String[] suffixes = {"Ei", "Pi", "Ti", "Gi", "Mi", "Ki"};
        for (int i = 0; i < suffixes.length; i++) {
            long unit = 1L << (10 * (6 - i));
            if (amount >= unit && amount % unit == 0) return (amount / unit) + suffixes[i];
        }
        return Long.toString(amount);
    }
}
