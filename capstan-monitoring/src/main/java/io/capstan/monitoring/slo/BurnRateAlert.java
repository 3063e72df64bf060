package io.capstan.monitoring.slo;

import java.time.Duration;
import java.util.List;

/**
 * A multiwindow, multi-burn-rate alert of the Google SRE workbook ("Alerting on SLOs", table 5-8): it fires while
 * the error budget burns faster than {@code burnRate} times the sustainable rate over both the long and the short
 * window; the short window makes it stop soon after the burning stops.
 */
public record BurnRateAlert(Severity severity, Duration longWindow, Duration shortWindow, double burnRate) {
    /** Who is told: a page wakes someone, a ticket waits for working hours. */
    public enum Severity {
        PAGE("page"), TICKET("ticket");

        private final String wire;

        Severity(String wire) {
            this.wire = wire;
        }

        public String wireName() {
            return wire;
        }
    }

    /** The workbook's four: 2% of a 30-day budget in 1 h, 5% in 6 h, 10% in 1 d, 10% in 3 d. */
    public static final List<BurnRateAlert> WORKBOOK = List.of(
            new BurnRateAlert(Severity.PAGE, Duration.ofHours(1), Duration.ofMinutes(5), 14.4),
            new BurnRateAlert(Severity.PAGE, Duration.ofHours(6), Duration.ofMinutes(30), 6),
            new BurnRateAlert(Severity.TICKET, Duration.ofDays(1), Duration.ofHours(2), 3),
            new BurnRateAlert(Severity.TICKET, Duration.ofDays(3), Duration.ofHours(6), 1));

    /** Every window the alerts read, shortest first. */
    public static final List<Duration> WINDOWS = WORKBOOK.stream().flatMap(a -> java.util.stream.Stream.of(a.shortWindow(), a.longWindow()))
            .distinct().sorted().toList();

    /** Prometheus' spelling of a window: 5m, 1h, 1d. */
    public static String promDuration(Duration d) {
        if (d.toDays() > 0 && d.equals(Duration.ofDays(d.toDays()))) return d.toDays() + "d";
        if (d.toHours() > 0 && d.equals(Duration.ofHours(d.toHours()))) return d.toHours() + "h";
        if (d.toMinutes() > 0 && d.equals(Duration.ofMinutes(d.toMinutes()))) return d.toMinutes() + "m";
        if (d.toSeconds() > 0 && d.equals(Duration.ofSeconds(d.toSeconds()))) return d.toSeconds() + "s";
        return d.toMillis() + "ms";
    }
}
