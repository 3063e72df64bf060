package io.capstan.monitoring.slo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Burn rates and the workbook's alerts over synthetic SLI histories, one sample a minute. */
class SliHistoryTest {
    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    static final double BUDGET = 0.001;

    /** {@code minutes} minutes of 1000 requests a minute, of which {@code bad} fail, after {@code history}. */
    static void run(SliHistory h, double[] cumulative, int fromMinute, int minutes, int bad) {
        for (int m = fromMinute; m < fromMinute + minutes; m++) {
            cumulative[0] += 1000 - bad;
            cumulative[1] += 1000;
            h.record(T0.plus(Duration.ofMinutes(m + 1)), cumulative[0], cumulative[1]);
        }
    }

    static SliHistory fresh() {
        var h = new SliHistory(Duration.ofDays(3));
        h.record(T0, 0, 0);
        return h;
    }

    @Test
    void twoPerCentErrorsForAnHourPageAtBurnRate20() {
        var h = fresh();
        var c = new double[2];
        run(h, c, 0, 60, 20);
        assertThat(h.burnRate(Duration.ofMinutes(5), BUDGET)).isCloseTo(20, within(1e-9));
        assertThat(h.burnRate(Duration.ofHours(1), BUDGET)).isCloseTo(20, within(1e-9));
        assertThat(h.fires(BurnRateAlert.WORKBOOK.get(0), BUDGET)).isTrue();
        assertThat(h.fires(BurnRateAlert.WORKBOOK.get(2), BUDGET)).isTrue();
    }

    @Test
    void aBurstThatStoppedStopsPagingWithTheShortWindow() {
        var h = fresh();
        var c = new double[2];
        run(h, c, 0, 50, 20);
        run(h, c, 50, 10, 0);
        // the hour still burns (50 bad minutes of 60: 16.7 > 14.4) but the last 5 minutes are clean
        assertThat(h.burnRate(Duration.ofHours(1), BUDGET)).isCloseTo(20 * 50 / 60.0, within(1e-9));
        assertThat(h.burnRate(Duration.ofMinutes(5), BUDGET)).isZero();
        assertThat(h.fires(BurnRateAlert.WORKBOOK.get(0), BUDGET)).isFalse();
    }

    @Test
    void halfAPerCentRaisesATicketButNoPage() {
        var h = fresh();
        var c = new double[2];
        run(h, c, 0, 6 * 60, 5);
        assertThat(h.burnRate(Duration.ofHours(6), BUDGET)).isCloseTo(5, within(1e-9));
        for (var a : BurnRateAlert.WORKBOOK) {
            assertThat(h.fires(a, BUDGET)).as(a.toString()).isEqualTo(a.severity() == BurnRateAlert.Severity.TICKET);
        }
    }

    @Test
    void windowsLookBackFromTheLatestSampleAndCountersThatRestartCarryOn() {
        var h = fresh();
        var c = new double[2];
        run(h, c, 0, 120, 0);
        run(h, c, 120, 60, 10);
        assertThat(h.errorRatio(Duration.ofHours(1))).isCloseTo(0.01, within(1e-12));
        assertThat(h.errorRatio(Duration.ofHours(2))).isCloseTo(0.005, within(1e-12));
        // the source restarts from zero (a revision retired): the next minute still counts as one minute
        h.record(T0.plus(Duration.ofMinutes(181)), 990, 1000);
        assertThat(h.counts(Duration.ofMinutes(1))).containsExactly(990, 1000);
        assertThat(BurnRateAlert.WINDOWS).extracting(BurnRateAlert::promDuration)
                .containsExactly("5m", "30m", "1h", "2h", "6h", "1d", "3d");
    }
}
