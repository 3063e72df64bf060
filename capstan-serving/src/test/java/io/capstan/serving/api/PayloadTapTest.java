package io.capstan.serving.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

class PayloadTapTest {
    static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);

    static InferenceRequest row(float v) {
        return InferenceRequest.of(Tensor.ofFloats("x", new long[] {1, 1}, new float[] {v}));
    }

    static InferenceResponse answer() {
        return new InferenceResponse("m", "1", null, Map.of(), List.of(Tensor.ofFloats("y", new long[] {1}, new float[] {0})));
    }

    @Test
    void keepsTheLastCapacityExchangesOldestFirst() {
        var tap = new PayloadTap(3, CLOCK);
        for (int i = 0; i < 5; i++) tap.record("1", row(i), answer());
        assertThat(tap.recorded()).isEqualTo(5);
        var held = tap.since(0);
        assertThat(held).extracting(PayloadTap.Exchange::sequence).containsExactly(2L, 3L, 4L);
        assertThat(held.getFirst().request().inputs().getFirst().floats()).containsExactly(2f);
        assertThat(held.getFirst().epochMillis()).isEqualTo(CLOCK.millis());
        assertThat(tap.since(4)).extracting(PayloadTap.Exchange::sequence).containsExactly(4L);
        assertThat(tap.since(5)).isEmpty();
    }

    @Test
    void concurrentWritersLoseNothingWithinCapacity() {
        var tap = new PayloadTap(10_000, CLOCK);
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int t = 0; t < 16; t++) {
                pool.submit(() -> {
                    for (int i = 0; i < 500; i++) tap.record("1", row(i), answer());
                });
            }
        }
        assertThat(tap.since(0)).hasSize(8000);
    }

    @Test
    void aTapHoldsAtLeastOneExchange() {
        assertThatIllegalArgumentException().isThrownBy(() -> new PayloadTap(0, CLOCK)).withMessageContaining("at least one");
    }
}
