package io.capstan.tuning;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.re2j.Pattern;
import io.capstan.core.Json;
import io.capstan.core.Problems;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
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

    /** Filters as an Experiment gives them, read by the collector reader: none may be refused. */
    private static List<Pattern> filters(String... regexes) throws Exception {
        var node = Json.json().createObjectNode();
        var list = node.putObject("source").putObject("filter").putArray("metricsFormat");
        for (var regex : regexes) list.add(regex);
        var problems = new Problems();
        var spec = CollectorReader.collector(node, problems);
        assertThat(problems.errors()).isEmpty();
        return spec.filters();
    }

    @Test
    void theDefaultFilterIsKatibsAndReadsTheExamplesKatibDocumentsForIt() {
        // Katib's DefaultFilter (pkg/metricscollector/v1beta1/common/const.go) and the lines its comment says it reads
        assertThat(MetricsCollectorSpec.DEFAULT_FILTER.pattern()).isEqualTo("([\\w|-]+)\\s*=\\s*([+-]?\\d*(\\.\\d+)?([Ee][+-]?\\d+)?)");
        var out = MetricsParser.parseText(lines("loss=0.3", "accuracy=.98", "Score=-7.53e-05", "Score=-7.53e+05", "Score=1E0", "Score=1.23E10"),
                List.of(MetricsCollectorSpec.DEFAULT_FILTER), Set.of("loss", "accuracy", "Score"));
        assertThat(out).extracting(Observation::value).containsExactly(0.3, 0.98, -7.53e-05, -7.53e+05, 1.0, 1.23e10);
    }

    @Test
    void readsTheFiltersOfKatibsExamples() throws Exception {
        // examples/v1beta1/kubeflow-training-operator/xgboostjob-lightgbm.yaml: LightGBM's "[1]	training's auc : 0.9" style
        var out = MetricsParser.parseText(lines("2026-01-01T00:00:00Z valid_1 auc : 0.91 valid_1 binary_logloss : 0.3", "training auc : 0.95"),
                filters("(\\w+\\s\\w+)\\s:\\s((-?\\d+)(\\.\\d+)?)"), Set.of("valid_1 auc", "valid_1 binary_logloss", "training auc"));
        assertThat(out).extracting(Observation::metric).containsExactly("valid_1 auc", "valid_1 binary_logloss", "training auc");
        assertThat(out).extracting(Observation::value).containsExactly(0.91, 0.3, 0.95);
        // examples/v1beta1/nas/darts-cpu.yaml: the value is a genotype, no number, so there is no observation to keep
        assertThat(MetricsParser.parseText(lines("Best-Genotype=Genotype(normal=[[('sep_conv_3x3', 0)]])"), filters("([\\w-]+)=(Genotype.*)"),
                Set.of("Best-Genotype"))).isEmpty();
    }

    /**
     * Katib compiles filters with Go's regexp (RE2). These use syntax java.util.regex refuses ((?P<name>...)) or reads
     * otherwise ([[:digit:]] is a set of the characters ':', 'd', 'i', 'g', 't' there; (?U) is "ungreedy" in RE2 but
     * "Unicode classes" in Java; $ does not match before a final '\r' in RE2).
     */
    @Test
    void filtersHaveGoRegexpSyntaxAndSemantics() throws Exception {
        var named = "(?P<name>[[:alpha:]_]+)\\s*:\\s*(?P<value>[[:digit:].]+)";
        assertThat(MetricsParser.parseText(lines("epoch 3: loss: 0.25 acc: 0.75"), filters(named), Set.of("loss", "acc")))
                .extracting(Observation::value).containsExactly(0.25, 0.75);
        assertThatThrownByJava(named);

        var posix = "([[:alpha:]]+)=([[:digit:]]+\\.[[:digit:]]+)";
        assertThat(MetricsParser.parseText(lines("loss=0.5"), filters(posix), Set.of("loss"))).extracting(Observation::value).containsExactly(0.5);
        assertThat(java.util.regex.Pattern.compile(posix).matcher("loss=0.5").find()).isFalse();

        // (?U): ungreedy in RE2, so the value is the shortest run of digits; Java's (?U) leaves \d+ greedy
        var ungreedy = "(?U)(\\w+)=(\\d+)";
        assertThat(MetricsParser.parseText(lines("loss=123"), filters(ungreedy), Set.of("loss"))).extracting(Observation::value).containsExactly(1.0);
        var javaMatcher = java.util.regex.Pattern.compile(ungreedy).matcher("loss=123");
        assertThat(javaMatcher.find()).isTrue();
        assertThat(javaMatcher.group(2)).isEqualTo("123");

        // Unicode number class and end of text
        assertThat(MetricsParser.parseText(lines("loss=0.5", "loss=0.75 (best)"), filters("(\\w+)=(\\pN+\\.\\pN+)\\z"), Set.of("loss")))
                .extracting(Observation::value).containsExactly(0.5);
        // $ is the end of the text, not also before a final \r as in Java: a CRLF line's value is not taken
        assertThat(MetricsParser.parseText(lines("loss=0.5\r"), filters("(loss)=([0-9.]+)$"), Set.of("loss"))).isEmpty();
        assertThat(java.util.regex.Pattern.compile("(loss)=([0-9.]+)$").matcher("loss=0.5\r").find()).isTrue();
    }

    private static void assertThatThrownByJava(String regex) {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> java.util.regex.Pattern.compile(regex))
                .isInstanceOf(java.util.regex.PatternSyntaxException.class);
    }
}
