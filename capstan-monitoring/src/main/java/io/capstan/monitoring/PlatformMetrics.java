package io.capstan.monitoring;

import io.capstan.artifacts.ArtifactInfo;
import io.capstan.artifacts.ArtifactStore;
import io.capstan.artifacts.CorruptArtifactException;
import io.capstan.core.Condition;
import io.capstan.core.Resource;
import io.capstan.store.LabelSelector;
import io.capstan.store.ListQuery;
import io.capstan.store.ResourceStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The platform's health on {@code /metrics}, computed when scraped (at most once a second): pipeline run success,
 * training job completion, drift rate, metadata coverage, CPU-seconds per inference; and, through
 * {@link #countingIntegrityFailures}, artifacts whose bytes no longer match their recorded SHA-256.
 */
public final class PlatformMetrics {
    /** The counter of integrity checks, by {@code check} and {@code outcome} (ok, failed). */
    public static final String INTEGRITY_CHECKS = "capstan.artifact.integrity.checks";
    static final List<String> TRAINING_KINDS = List.of("TrainJob", "PyTorchJob", "XGBoostJob", "TFJob", "MPIJob", "PaddleJob", "JAXJob");

    private final ResourceStore store;
    private final MeterRegistry meters;
    private final Predicate<String> runHasLineage;
    private final Counter integrityFailures;
    private volatile Snapshot snapshot = new Snapshot(0, 0, 0, 0, 0, 0, 0);

    /** What the store held at one scrape. */
    private record Snapshot(long at, double runsSucceeded, double runsFailed, double runsWithLineage, double jobsComplete,
                            double jobsFailed, double runsFinished) {
    }

    /** @param runHasLineage whether the pipeline run with this uid was recorded in lineage (ML Metadata) */
    public PlatformMetrics(ResourceStore store, MeterRegistry meters, Predicate<String> runHasLineage) {
        this.store = store;
        this.meters = meters;
        this.runHasLineage = runHasLineage;
        this.integrityFailures = Counter.builder("capstan.artifact.integrity.failures")
                .description("Artifact reads refused, and cached pipeline outputs discarded, because the bytes did not match the digest recorded for them")
                .register(meters);
        Gauge.builder("capstan.pipeline.run.success.ratio", this, m -> ratio(m.fresh().runsSucceeded, m.fresh().runsSucceeded + m.fresh().runsFailed))
                .description("Share of finished PipelineRuns (all namespaces) that succeeded; NaN before any finished").register(meters);
        Gauge.builder("capstan.pipeline.runs.finished", this, m -> m.fresh().runsSucceeded).tag("outcome", "succeeded")
                .description("Finished PipelineRuns in the store, by outcome").register(meters);
        Gauge.builder("capstan.pipeline.runs.finished", this, m -> m.fresh().runsFailed).tag("outcome", "failed")
                .description("Finished PipelineRuns in the store, by outcome").register(meters);
        Gauge.builder("capstan.training.job.completion.ratio", this, m -> ratio(m.fresh().jobsComplete, m.fresh().jobsComplete + m.fresh().jobsFailed))
                .description("Share of finished training jobs (all namespaces, all kinds) that completed; NaN before any finished").register(meters);
        Gauge.builder("capstan.metadata.coverage.ratio", this, m -> ratio(m.fresh().runsWithLineage, m.fresh().runsFinished))
                .description("Share of finished PipelineRuns with a lineage context in ML Metadata; NaN before any finished").register(meters);
        Gauge.builder("capstan.drift.rate", meters, PlatformMetrics::driftRate)
                .description("Share of all ModelMonitor windows tested since start that drifted; NaN before any").register(meters);
        var os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean cpu) {
            Gauge.builder("capstan.inference.cpu.seconds.per.request", meters, r -> {
                double requests = r.find("capstan.serving.requests").counters().stream().mapToDouble(Counter::count).sum();
                return requests == 0 ? Double.NaN : cpu.getProcessCpuTime() / 1e9 / requests;
            }).description("The whole process's CPU time since start over inference requests answered: an upper bound of the CPU cost of one")
                    .register(meters);
        }
    }

    /**
     * Counts one verification of stored bytes against their recorded digest in
     * {@code capstan_artifact_integrity_checks_total{check,outcome}}, and a failed one in
     * {@code capstan_artifact_integrity_failures_total}: the events of the artifact-integrity SLI.
     */
    public void integrityChecked(String check, boolean ok) {
        Counter.builder(INTEGRITY_CHECKS).description("Verifications of stored bytes against the digest recorded for them, by what was checked and outcome")
                .tags("check", check, "outcome", ok ? "ok" : "failed").register(meters).increment();
        if (!ok) integrityFailures.increment();
    }

    /**
     * {@code artifacts}, counting each read it refuses as corrupt in {@code capstan_artifact_integrity_failures_total},
     * and each read (a stream read to its end, where the digest is verified, or refused) as an integrity check.
     */
    public ArtifactStore countingIntegrityFailures(ArtifactStore artifacts) {
        return new ArtifactStore() {
            @Override
            public ArtifactInfo put(String key, InputStream content) {
                return artifacts.put(key, content);
            }

            @Override
            public InputStream get(String key) {
                InputStream in;
                try {
                    in = artifacts.get(key);
                } catch (CorruptArtifactException e) {
                    integrityChecked("read", false);
                    throw e;
                }
                return new FilterInputStream(in) {
                    private boolean reported;

                    private int counted(int n) {
                        if (n < 0 && !reported) {
                            reported = true;
                            integrityChecked("read", true);
                        }
                        return n;
                    }

                    private CorruptArtifactException corrupt(CorruptArtifactException e) {
                        if (!reported) {
                            reported = true;
                            integrityChecked("read", false);
                        }
                        return e;
                    }

                    @Override
                    public int read() throws IOException {
                        try {
                            return counted(super.read());
                        } catch (CorruptArtifactException e) {
                            throw corrupt(e);
                        }
                    }

                    @Override
                    public int read(byte[] b, int off, int len) throws IOException {
                        try {
                            return counted(super.read(b, off, len));
                        } catch (CorruptArtifactException e) {
                            throw corrupt(e);
                        }
                    }
                };
            }

            @Override
            public Optional<ArtifactInfo> stat(String key) {
                return artifacts.stat(key);
            }

            @Override
            public List<ArtifactInfo> list(String prefix) {
                return artifacts.list(prefix);
            }

            @Override
            public String uriOf(String key) {
                return artifacts.uriOf(key);
            }
        };
    }

    private static double ratio(double part, double whole) {
        return whole == 0 ? Double.NaN : part / whole;
    }

    private static double driftRate(MeterRegistry meters) {
        double all = 0;
        double drifted = 0;
        for (var c : meters.find("capstan.drift.windows").counters()) {
            all += c.count();
            if ("drifted".equals(c.getId().getTag("outcome"))) drifted += c.count();
        }
        return ratio(drifted, all);
    }

    private Snapshot fresh() {
        var s = snapshot;
        long now = System.nanoTime();
        if (s.at != 0 && now - s.at < 1_000_000_000L) return s;
        double succeeded = 0;
        double failed = 0;
        double lineage = 0;
        for (var r : all("PipelineRun")) {
            var phase = r.status().phase();
            boolean ok = "Succeeded".equals(phase);
            if (!ok && !"Failed".equals(phase)) continue;
            if (ok) succeeded++;
            else failed++;
            if (runHasLineage.test(r.metadata().uid())) lineage++;
        }
        double complete = 0;
        double jobFailed = 0;
        for (var kind : TRAINING_KINDS) {
            for (var r : all(kind)) {
                if (isTrue(r, "Complete") || isTrue(r, "Succeeded")) complete++;
                else if (isTrue(r, "Failed")) jobFailed++;
            }
        }
        s = new Snapshot(now, succeeded, failed, lineage, complete, jobFailed, succeeded + failed);
        snapshot = s;
        return s;
    }

    private List<Resource> all(String kind) {
        var out = new java.util.ArrayList<Resource>();
        Optional<String> token = Optional.empty();
        do {
            var page = store.list(new ListQuery(kind, Optional.empty(), LabelSelector.EVERYTHING, ListQuery.MAX_LIMIT, token));
            out.addAll(page.items());
            token = page.continueToken();
        } while (token.isPresent());
        return out;
    }

    private static boolean isTrue(Resource r, String type) {
        return r.status().condition(type).filter(c -> c.status() == Condition.Status.True).isPresent();
    }
}
