package io.capstan.tuning;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class MetricsParserTest {
    private static final Instant T0 = Instant.parse("2026-11-27T00:00:00Z");

    private static List<MetricsParser.Line> lines(String... texts) {
        return java.util.stream.IntStream.range(0, texts.length).mapToObj(i -> new MetricsParser.Line(T0.plusSeconds(i), texts[i])).toList();
    }

    @Test
    void readsKatibsDefaultFormatKeepingOnlyTheExperimentsMetrics() {
        var out = MetricsParser.parseText(lines("epoch 1: loss=0.5 accuracy = 0.7 lr=0.01", "loss=4e-1", "loss=-", "Validation-loss=0.3"),
                List.of(MetricsCollectorSpec.DEFAULT_FILTER), Set.of("loss", "accuracy", "Validation-loss"));
        assertThat(out).extracting(Observation::metric).containsExactly("loss", "accuracy", "loss", "Validation-loss");
        assertThat(out).extracting(Observation::value).containsExactly(0.5, 0.7, 0.4, 0.3);
        assertThat(out).extracting(Observation::step).containsExactly(1L, 1L, 2L, 1L);
        assertThat(out.get(2).timestamp()).isEqualTo(T0.plusSeconds(1));
    }

    @Test
    void takesALeadingTimestampAsTheObservationTime() {
        var out = MetricsParser.parseText(lines("2026-01-02T03:04:05.5+01:00 loss=0.25"), List.of(MetricsCollectorSpec.DEFAULT_FILTER), Set.of("loss"));
        assertThat(out).singleElement().satisfies(o -> assertThat(o.timestamp()).isEqualTo(Instant.parse("2026-01-02T02:04:05.5Z")));
    }

    @Test
    void appliesCustomFiltersAndSkipsValuesThatAreNoNumbers() {
        var filter = Pattern.compile("\"(\\w+)\":\\s*\"?([^\",}]+)");
        var out = MetricsParser.parseText(lines("{\"loss\": \"0.2\", \"accuracy\": NaN}", "{\"loss\": abc}", "{\"loss\": 1e309}"), List.of(filter), Set.of("loss", "accuracy"));
        assertThat(out).singleElement().satisfies(o -> assertThat(o.value()).isEqualTo(0.2));
    }

    @Test
    void readsJsonLinesWithOptionalTimestampsAndIgnoresTheRest() {
        var out = MetricsParser.parseJson(lines("{\"loss\": \"0.5\", \"timestamp\": 1700000000}", "INFO starting", "[1,2]",
                "{\"loss\": 0.25, \"accuracy\": {\"nested\": 1}, \"timestamp\": \"2026-01-01T00:00:00Z\"}", "{broken"), Set.of("loss", "accuracy"));
        assertThat(out).extracting(Observation::value).containsExactly(0.5, 0.25);
        assertThat(out.get(0).timestamp()).isEqualTo(Instant.ofEpochSecond(1_700_000_000));
        assertThat(out.get(1).timestamp()).isEqualTo(Instant.parse("2026-01-01T00:00:00Z"));
    }

    @Test
    void cutsHostileLinesSoThatMatchingStaysFast() {
        var evil = Pattern.compile("(a+)+(b)");
        var line = "a".repeat(200_000) + "loss=0.1";
        long start = System.nanoTime();
        var out = MetricsParser.parseText(lines(line, "loss=0.3"), List.of(MetricsCollectorSpec.DEFAULT_FILTER), Set.of("loss"));
        assertThat(out).extracting(Observation::value).containsExactly(0.3);
        assertThat(MetricsParser.parseText(lines("a".repeat(20) + "c"), List.of(evil), Set.of("a"))).isEmpty();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
    }
}
