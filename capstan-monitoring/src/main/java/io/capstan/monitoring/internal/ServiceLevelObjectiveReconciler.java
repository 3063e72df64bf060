package io.capstan.monitoring.internal;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.capstan.core.Condition;
import io.capstan.core.Problems;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceStatus;
import io.capstan.monitoring.slo.BurnRateAlert;
import io.capstan.monitoring.slo.ServiceLevelObjectiveSpec;
import io.capstan.monitoring.slo.SliHistory;
import io.capstan.store.LabelSelector;
import io.capstan.store.ListQuery;
import io.capstan.store.Reconciler;
import io.capstan.store.ResourceStore;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Reconciles {@code ServiceLevelObjective}s: every {@code spec.interval} it samples the SLI's cumulative good and
 * total events (serving's own request counters and latency histogram, or the namespace's finished PipelineRuns and
 * training jobs), and computes the burn rate of each workbook window and which of the four multiwindow alerts fire,
 * into status and into {@code capstan_slo_*} metrics.
 *
 * <p>The sampled history lives in memory: after a restart the windows fill again from the new samples (a window
 * longer than the history is computed over the history).
 */
public final class ServiceLevelObjectiveReconciler implements Reconciler {
    public static final String KIND = "ServiceLevelObjective";
    static final Set<String> SERVER_ERRORS = Set.of("model_failed", "not_ready");
    static final List<String> TRAINING_KINDS = List.of("TrainJob", "PyTorchJob", "XGBoostJob", "TFJob", "MPIJob", "PaddleJob", "JAXJob");

    private final ResourceStore store;
    private final MeterRegistry meters;
    private final Clock clock;
    /** Per objective; only its own key's reconcile touches an entry, one at a time. */
    private final Map<ResourceKey, Tracked> tracked = new ConcurrentHashMap<>();

    private static final class Tracked {
        ServiceLevelObjectiveSpec spec;
        SliHistory history;
        final Set<String> goodUids = new HashSet<>();
        final Set<String> badUids = new HashSet<>();
        final AtomicReference<double[]> counts = new AtomicReference<>(new double[] {0, 0});
        final Map<String, AtomicReference<Double>> values = new ConcurrentHashMap<>();
        final List<Meter> meters = new ArrayList<>();
    }

    public ServiceLevelObjectiveReconciler(ResourceStore store, MeterRegistry meters, Clock clock) {
        this.store = store;
        this.meters = meters;
        this.clock = clock;
    }

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public Result reconcile(ResourceKey key) {
        var found = store.find(key);
        if (found.isEmpty()) {
            forget(key);
            return Result.done();
        }
        var slo = found.get();
        var now = clock.instant();
        var status = slo.status().withObservedGeneration(slo.metadata().generation());
        var problems = new Problems();
        var spec = ServiceLevelObjectiveSpec.parse(slo.spec(), problems);
        if (spec == null) {
            forget(key);
            var why = problems.errors().stream().map(Object::toString).reduce((a, b) -> a + "; " + b).orElse("");
            return write(slo, status.withPhase("Failed").withCondition("Ready", false, "InvalidSpec", why, now), Result.done());
        }
        var t = tracked.get(key);
        // Each status write wakes this reconciler again: sample at most once per interval, whatever woke us.
        var sampled = slo.status().field("sampledAt").filter(n -> n.isTextual()).map(n -> java.time.Instant.parse(n.asText()));
        if (t != null && t.spec.equals(spec) && sampled.isPresent() && now.isBefore(sampled.get().plus(spec.interval()))) {
            return Result.requeueAfter(Duration.between(now, sampled.get().plus(spec.interval())));
        }
        status = status.withField("sampledAt", JsonNodeFactory.instance.textNode(now.toString()));
        if (t == null || !t.spec.equals(spec)) {
            forget(key);
            t = new Tracked();
            t.spec = spec;
            var keep = BurnRateAlert.WINDOWS.getLast().compareTo(spec.period()) > 0 ? BurnRateAlert.WINDOWS.getLast() : spec.period();
            t.history = new SliHistory(keep);
            register(key, t);
            tracked.put(key, t);
        }
        var counts = read(key, spec, t);
        t.counts.set(counts);
        t.history.record(now, counts[0], counts[1]);
        var budget = spec.errorBudget();
        var burn = JsonNodeFactory.instance.objectNode();
        for (var w : BurnRateAlert.WINDOWS) {
            double rate = t.history.burnRate(w, budget);
            burn.put(BurnRateAlert.promDuration(w), rate);
            value(key, t, "burn:" + BurnRateAlert.promDuration(w), "capstan.slo.burn.rate", Tags.of("window", BurnRateAlert.promDuration(w)))
                    .set(rate);
        }
        var alerts = JsonNodeFactory.instance.arrayNode();
        boolean page = false;
        boolean ticket = false;
        for (var a : BurnRateAlert.WORKBOOK) {
            boolean fires = t.history.fires(a, budget);
            if (fires && a.severity() == BurnRateAlert.Severity.PAGE) page = true;
            if (fires && a.severity() == BurnRateAlert.Severity.TICKET) ticket = true;
            alerts.add(JsonNodeFactory.instance.objectNode().put("severity", a.severity().wireName())
                    .put("longWindow", BurnRateAlert.promDuration(a.longWindow())).put("shortWindow", BurnRateAlert.promDuration(a.shortWindow()))
                    .put("burnRate", a.burnRate()).put("firing", fires));
        }
        value(key, t, "alert:page", "capstan.slo.alert", Tags.of("severity", "page")).set(page ? 1.0 : 0.0);
        value(key, t, "alert:ticket", "capstan.slo.alert", Tags.of("severity", "ticket")).set(ticket ? 1.0 : 0.0);
        var period = t.history.counts(spec.period());
        double sli = period[1] <= 0 ? 1 : period[0] / period[1];
        double remaining = 1 - t.history.errorRatio(spec.period()) / budget;
        value(key, t, "sli", "capstan.slo.sli", Tags.empty()).set(sli);
        value(key, t, "budget", "capstan.slo.error.budget.remaining", Tags.empty()).set(remaining);
        status = status.withPhase(page ? "Paging" : ticket ? "Ticket" : "Met")
                .withField("sli", JsonNodeFactory.instance.numberNode(sli))
                .withField("objective", JsonNodeFactory.instance.numberNode(spec.objective()))
                .withField("events", JsonNodeFactory.instance.objectNode().put("good", period[0]).put("total", period[1]))
                .withField("errorBudgetRemaining", JsonNodeFactory.instance.numberNode(remaining))
                .withField("burnRates", burn)
                .withField("alerts", alerts)
                .withCondition(new Condition("PageAlert", page ? Condition.Status.True : Condition.Status.False,
                        page ? "BudgetBurningFast" : "BudgetBurnNormal", "", now))
                .withCondition(new Condition("TicketAlert", ticket ? Condition.Status.True : Condition.Status.False,
                        ticket ? "BudgetBurning" : "BudgetBurnNormal", "", now))
                .withCondition("Ready", true, "Sampling", "", now);
        if (spec.sli() instanceof ServiceLevelObjectiveSpec.Latency l) {
            status = status.withField("latencyBucket", JsonNodeFactory.instance.textNode(bucketUsed(key, l).map(Duration::toString).orElse("none")));
        }
        return write(slo, status, Result.requeueAfter(spec.interval()));
    }

    /** Cumulative good and total events of the SLI now. */
    private double[] read(ResourceKey key, ServiceLevelObjectiveSpec spec, Tracked t) {
        return switch (spec.sli()) {
            case ServiceLevelObjectiveSpec.Availability a -> {
                double total = 0;
                double bad = 0;
                for (var c : meters.find("capstan.serving.requests").tag("namespace", key.namespace()).tag("model", a.inferenceService()).counters()) {
                    total += c.count();
                    if (SERVER_ERRORS.contains(c.getId().getTag("outcome"))) bad += c.count();
                }
                yield new double[] {total - bad, total};
            }
            case ServiceLevelObjectiveSpec.Latency l -> {
                double total = 0;
                double good = 0;
                long threshold = l.threshold().toNanos();
                for (var timer : meters.find("capstan.serving.request.duration").tag("namespace", key.namespace()).tag("model", l.inferenceService()).timers()) {
                    var snapshot = timer.takeSnapshot();
                    total += snapshot.count();
                    double within = 0;
                    for (var bucket : snapshot.histogramCounts()) {
                        if (bucket.bucket(TimeUnit.NANOSECONDS) <= threshold) within = bucket.count();
                    }
                    good += within;
                }
                yield new double[] {good, total};
            }
            case ServiceLevelObjectiveSpec.DriftRate d -> {
                double total = 0;
                double bad = 0;
                for (var c : meters.find("capstan.drift.windows").tag("namespace", key.namespace()).tag("monitor", d.monitor()).counters()) {
                    total += c.count();
                    if ("drifted".equals(c.getId().getTag("outcome"))) bad += c.count();
                }
                yield new double[] {total - bad, total};
            }
            case ServiceLevelObjectiveSpec.ArtifactIntegrity i -> {
                double total = 0;
                double bad = 0;
                for (var c : meters.find(io.capstan.monitoring.PlatformMetrics.INTEGRITY_CHECKS).counters()) {
                    total += c.count();
                    if ("failed".equals(c.getId().getTag("outcome"))) bad += c.count();
                }
                yield new double[] {total - bad, total};
            }
            case ServiceLevelObjectiveSpec.PipelineRuns p -> finished(key.namespace(), List.of("PipelineRun"), t,
                    r -> r.status().phase().equals("Succeeded"), r -> r.status().phase().equals("Failed"));
            case ServiceLevelObjectiveSpec.TrainingJobs j -> finished(key.namespace(), TRAINING_KINDS, t,
                    r -> isTrue(r, "Complete") || isTrue(r, "Succeeded"), r -> isTrue(r, "Failed"));
        };
    }

    /** Finished resources counted once each by uid, so that deleting one does not take it out of the history. */
    private double[] finished(String namespace, List<String> kinds, Tracked t, java.util.function.Predicate<Resource> good,
                              java.util.function.Predicate<Resource> bad) {
        for (var kind : kinds) {
            Optional<String> token = Optional.empty();
            do {
                var page = store.list(new ListQuery(kind, Optional.of(namespace), LabelSelector.EVERYTHING, ListQuery.MAX_LIMIT, token));
                for (var r : page.items()) {
                    var uid = r.metadata().uid();
                    if (t.goodUids.contains(uid) || t.badUids.contains(uid)) continue;
                    if (good.test(r)) t.goodUids.add(uid);
                    else if (bad.test(r)) t.badUids.add(uid);
                }
                token = page.continueToken();
            } while (token.isPresent());
        }
        return new double[] {t.goodUids.size(), t.goodUids.size() + t.badUids.size()};
    }

    private static boolean isTrue(Resource r, String type) {
        return r.status().condition(type).filter(c -> c.status() == Condition.Status.True).isPresent();
    }

    /** The histogram bucket the latency threshold is read at: the largest not above it. */
    private Optional<Duration> bucketUsed(ResourceKey key, ServiceLevelObjectiveSpec.Latency l) {
        long threshold = l.threshold().toNanos();
        Optional<Duration> used = Optional.empty();
        for (var timer : meters.find("capstan.serving.request.duration").tag("namespace", key.namespace()).tag("model", l.inferenceService()).timers()) {
            for (var bucket : timer.takeSnapshot().histogramCounts()) {
                long b = (long) bucket.bucket(TimeUnit.NANOSECONDS);
                if (b <= threshold) used = Optional.of(Duration.ofNanos(b));
            }
            break;
        }
        return used;
    }

    private void register(ResourceKey key, Tracked t) {
        var tags = Tags.of("namespace", key.namespace(), "slo", key.name());
        t.meters.add(FunctionCounter.builder("capstan.slo.events", t.counts, c -> c.get()[0])
                .description("Good events of an SLO's SLI, as Capstan counts them").tags(tags).tag("outcome", "good").register(meters));
        t.meters.add(FunctionCounter.builder("capstan.slo.events", t.counts, c -> c.get()[1] - c.get()[0])
                .description("Good events of an SLO's SLI, as Capstan counts them").tags(tags).tag("outcome", "bad").register(meters));
    }

    private AtomicReference<Double> value(ResourceKey key, Tracked t, String id, String name, Tags extra) {
        return t.values.computeIfAbsent(id, i -> {
            var holder = new AtomicReference<>(0.0);
            t.meters.add(Gauge.builder(name, holder, AtomicReference::get).tags(Tags.of("namespace", key.namespace(), "slo", key.name()).and(extra))
                    .register(meters));
            return holder;
        });
    }

    private void forget(ResourceKey key) {
        var t = tracked.remove(key);
        if (t != null) t.meters.forEach(meters::remove);
    }

    private Result write(Resource slo, ResourceStatus status, Result result) {
        if (!Objects.equals(status, slo.status())) store.updateStatus(slo.key(), "", status);
        return result;
    }
}
