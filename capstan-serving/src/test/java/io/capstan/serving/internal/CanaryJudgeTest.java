package io.capstan.serving.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.capstan.core.Problems;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The step's statistics, against scipy's on the same data (values in the comments were computed with scipy 1.x). */
class CanaryJudgeTest {
    static final double[] SLOW = {12.1, 13.4, 11.8, 15.2, 14.9, 13.3, 12.7, 16.1, 14.4, 13.9};
    static final double[] FAST = {10.2, 11.1, 10.8, 12.0, 9.9, 11.5, 10.7, 11.9, 10.1, 12.3};

    private static RolloutSpec spec(String json) {
        var problems = new Problems();
        var spec = RolloutSpec.parse(json, problems);
        assertThat(problems.errors()).isEmpty();
        return spec.orElseThrow();
    }

    private static CanaryCohorts.Samples samples(double[] latency, List<Object> predictions) {
        return new CanaryCohorts.Samples(latency.length, 0, latency, predictions);
    }

    @Test
    void latencyShiftIsMannWhitneyWithTheHodgesLehmannShift() {
        var verdict = CanaryJudge.judge(spec("{\"stepWeights\":[10],\"minSamples\":10,\"checks\":{\"latencyShift\":{\"maxMs\":1}}}"),
                samples(SLOW, List.of()), samples(FAST, List.of()));
        var check = verdict.checks().getFirst();
        // scipy.stats.mannwhitneyu(SLOW, FAST, alternative='two-sided', method='asymptotic', use_continuity=False)
        assertThat(check.path("u").asDouble()).isEqualTo(96.0);
        assertThat(check.path("pValue").asDouble()).isCloseTo(0.00050654148469229, within(1e-9));
        // numpy.median([a - b for a in SLOW for b in FAST])
        assertThat(check.path("hodgesLehmannShiftMs").asDouble()).isCloseTo(2.65, within(1e-9));
        assertThat(verdict.outcome()).isEqualTo(CanaryJudge.Outcome.FAIL);
        assertThat(verdict.critical()).isFalse();

        // significant, but within the allowed shift: passes
        var allowed = CanaryJudge.judge(spec("{\"stepWeights\":[10],\"minSamples\":10,\"checks\":{\"latencyShift\":{\"maxMs\":3}}}"),
                samples(SLOW, List.of()), samples(FAST, List.of()));
        assertThat(allowed.outcome()).isEqualTo(CanaryJudge.Outcome.PASS);
    }

    @Test
    void numericPredictionsAreComparedByKolmogorovSmirnov() {
        var a = new ArrayList<Object>();
        var b = new ArrayList<Object>();
        for (double v : SLOW) a.add(v);
        for (double v : FAST) b.add(v);
        var verdict = CanaryJudge.judge(spec("{\"stepWeights\":[10],\"minSamples\":10,\"checks\":{\"predictions\":{\"alpha\":0.01}}}"),
                samples(FAST, a), samples(FAST, b));
        var check = verdict.checks().getFirst();
        assertThat(check.path("test").asText()).isEqualTo("Kolmogorov-Smirnov");
        // scipy.stats.ks_2samp(SLOW, FAST): statistic 0.8, exact p 0.002056766762649115
        assertThat(check.path("statistic").asDouble()).isCloseTo(0.8, within(1e-12));
        assertThat(check.path("pValue").asDouble()).isCloseTo(0.002056766762649115, within(1e-9));
        assertThat(verdict.outcome()).isEqualTo(CanaryJudge.Outcome.FAIL);
        assertThat(verdict.critical()).isTrue();
    }

    @Test
    void classPredictionsAreComparedByChiSquare() {
        var a = new ArrayList<Object>();
        var b = new ArrayList<Object>();
        for (int i = 0; i < 45; i++) a.add(i < 30 ? "0" : i < 40 ? "1" : "2");
        for (int i = 0; i < 45; i++) b.add(String.valueOf(i % 3));
        var latency = new double[45];
        var verdict = CanaryJudge.judge(spec("{\"stepWeights\":[10],\"minSamples\":45,\"checks\":{\"predictions\":{\"alpha\":0.01}}}"),
                samples(latency, a), samples(latency, b));
        var check = verdict.checks().getFirst();
        // scipy.stats.chi2_contingency([[30,10,5],[15,15,15]], correction=False): 11.0, dof 2, p 0.0040867714384640675
        assertThat(check.path("statistic").asDouble()).isCloseTo(11.0, within(1e-9));
        assertThat(check.path("degreesOfFreedom").asInt()).isEqualTo(2);
        assertThat(check.path("pValue").asDouble()).isCloseTo(0.0040867714384640675, within(1e-9));
        assertThat(verdict.outcome()).isEqualTo(CanaryJudge.Outcome.FAIL);
    }

    @Test
    void tooFewSamplesIsInconclusiveNeverPass() {
        var verdict = CanaryJudge.judge(spec("{\"stepWeights\":[10],\"minSamples\":11}"),
                samples(FAST, List.of()), samples(FAST, List.of()));
        assertThat(verdict.outcome()).isEqualTo(CanaryJudge.Outcome.INCONCLUSIVE);
        assertThat(verdict.message()).isEqualTo("too few samples: canary 10, baseline 10, at least 11 each needed");
    }

    @Test
    void errorRateAndP99AreAbsolute() {
        var latency = new double[100];
        for (int i = 0; i < 100; i++) latency[i] = i + 1;
        var canary = new CanaryCohorts.Samples(100, 3, latency, List.of());
        var verdict = CanaryJudge.judge(spec("{\"stepWeights\":[10],\"minSamples\":100,\"checks\":{\"errorRate\":{\"max\":0.02},\"p99Latency\":{\"maxMs\":200}}}"),
                canary, samples(latency, List.of()));
        assertThat(verdict.checks().get(0).path("errorRate").asDouble()).isEqualTo(0.03);
        assertThat(verdict.checks().get(0).path("result").asText()).isEqualTo("Fail");
        assertThat(verdict.checks().get(1).path("result").asText()).isEqualTo("Pass");
        assertThat(verdict.critical()).as("the error-rate check is critical by default").isTrue();
    }

    @Test
    void withoutAReferenceTheCanarysInputsAreComparedWithTheBaselinesColumnByColumn() {
        var spec = spec("{\"stepWeights\":[10],\"minSamples\":10,\"checks\":{\"inputDrift\":{\"alpha\":0.01}}}");
        var shifted = new double[SLOW.length];
        for (int i = 0; i < SLOW.length; i++) shifted[i] = SLOW[i] + 10;
        var canary = new CanaryCohorts.Samples(10, 0, SLOW, List.of(), new double[][] {SLOW, shifted}, 0, 0);
        var alike = new CanaryCohorts.Samples(10, 0, FAST, List.of(), new double[][] {SLOW.clone(), shifted.clone()}, 0, 0);
        var pass = CanaryJudge.judge(spec, canary, alike);
        assertThat(pass.outcome()).isEqualTo(CanaryJudge.Outcome.PASS);
        assertThat(pass.checks().getFirst().path("against").asText()).isEqualTo("baseline");
        // the second column is ten apart: fully separated samples of 10, KS p = 1.08e-5 (scipy's ks_2samp, exact)
        var apart = new CanaryCohorts.Samples(10, 0, FAST, List.of(), new double[][] {SLOW.clone(), SLOW.clone()}, 0, 0);
        var fail = CanaryJudge.judge(spec, canary, apart);
        assertThat(fail.outcome()).isEqualTo(CanaryJudge.Outcome.FAIL);
        assertThat(fail.critical()).isTrue();
        var check = fail.checks().getFirst();
        assertThat(check.path("driftedColumns").asInt()).isEqualTo(1);
        assertThat(check.path("columns").get(1).path("statistic").asDouble()).isEqualTo(1.0);
        assertThat(check.path("columns").get(1).path("pValue").asDouble()).isCloseTo(1.0825088224469026e-05, within(1e-12));
    }

    @Test
    void theAgreementCheckNeedsEnoughMirroredRequestsAndAShareOfThemAlike() {
        var spec = spec("{\"stepWeights\":[10],\"minSamples\":10,\"checks\":{\"agreement\":{\"min\":0.9,\"mirrorPercent\":20}}}");
        var baseline = samples(FAST, List.of());
        var few = CanaryJudge.judge(spec, new CanaryCohorts.Samples(10, 0, SLOW, List.of(), new double[0][], 9, 9), baseline);
        assertThat(few.outcome()).isEqualTo(CanaryJudge.Outcome.INCONCLUSIVE);
        assertThat(few.message()).contains("too few mirrored requests for the agreement check: 9, at least 10 needed");
        var good = CanaryJudge.judge(spec, new CanaryCohorts.Samples(10, 0, SLOW, List.of(), new double[0][], 20, 18), baseline);
        assertThat(good.outcome()).isEqualTo(CanaryJudge.Outcome.PASS);
        var bad = CanaryJudge.judge(spec, new CanaryCohorts.Samples(10, 0, SLOW, List.of(), new double[0][], 20, 17), baseline);
        assertThat(bad.outcome()).isEqualTo(CanaryJudge.Outcome.FAIL);
        assertThat(bad.checks().getFirst().path("agreement").asDouble()).isEqualTo(0.85);
        assertThat(bad.checks().getFirst().path("mirrorPercent").asInt()).isEqualTo(20);
    }

    @Test
    void badInputDriftAndAgreementFieldsAreNamed() {
        var problems = new Problems();
        assertThat(RolloutSpec.parse("{\"stepWeights\":[10],\"checks\":{\"inputDrift\":{\"alpha\":2,\"max\":1},"
                + "\"agreement\":{\"min\":1.5,\"mirrorPercent\":0}}}", problems)).isEmpty();
        var at = "metadata.annotations[serving.capstan.io/rollout].checks.";
        assertThat(problems.errors()).extracting(io.capstan.core.FieldError::path).containsExactlyInAnyOrder(at + "inputDrift.alpha",
                at + "inputDrift.max", at + "agreement.min", at + "agreement.mirrorPercent");
    }
}
