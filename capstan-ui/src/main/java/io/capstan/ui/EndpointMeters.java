package io.capstan.ui;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Each InferenceService's requests and latency over the last hour, for its page: serving's own meters
 * ({@code capstan.serving.requests}, {@code capstan.serving.request.duration}) read every {@link #INTERVAL}, summed over
 * revisions, kept as cumulative samples; a chart's points are the differences between neighbouring samples.
 */
final class EndpointMeters implements AutoCloseable {
    static final Duration INTERVAL = Duration.ofSeconds(10);
    private static final int KEEP = 360;
    private static final int W = 640;
    private static final int H = 160;
    private static final int PAD = 40;

    /** Cumulative totals at one moment: requests, failed requests, and the latency summed over the timed requests. */
    record Sample(Instant at, double requests, double errors, double timed, double latencySeconds) {
    }

    private final MeterRegistry meters;
    private final Clock clock;
    private final Map<String, ArrayDeque<Sample>> samples = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer;

    /** @param meters the server's meters, or null: then pages say there are none */
    EndpointMeters(MeterRegistry meters, Clock clock) {
        this.meters = meters;
        this.clock = clock;
        if (meters == null) {
            timer = null;
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("ui-endpoint-meters").factory());
        timer.scheduleWithFixedDelay(this::sampleAll, INTERVAL.toMillis(), INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
    }

    boolean enabled() {
        return meters != null;
    }

    private void sampleAll() {
        var keys = new HashSet<List<String>>();
        for (var c : meters.find("capstan.serving.requests").counters()) keys.add(List.of(c.getId().getTag("namespace"), c.getId().getTag("model")));
        for (var k : keys) if (k.get(0) != null && k.get(1) != null) sample(k.get(0), k.get(1), Duration.ZERO);
    }

    /** Takes a sample now unless the last is younger than {@code minAge}; answers the samples, oldest first. */
    List<Sample> sample(String ns, String model, Duration minAge) {
        var now = clock.instant();
        double requests = 0;
        double errors = 0;
        for (Counter c : meters.find("capstan.serving.requests").tag("namespace", ns).tag("model", model).counters()) {
            requests += c.count();
            if (!"success".equals(c.getId().getTag("outcome"))) errors += c.count();
        }
        double timed = 0;
        double latency = 0;
        for (Timer t : meters.find("capstan.serving.request.duration").tag("namespace", ns).tag("model", model).timers()) {
            timed += t.count();
            latency += t.totalTime(TimeUnit.SECONDS);
        }
        var s = new Sample(now, requests, errors, timed, latency);
        var deque = samples.computeIfAbsent(ns + "/" + model, k -> new ArrayDeque<>());
        synchronized (deque) {
            var last = deque.peekLast();
            if (last == null || Duration.between(last.at(), now).compareTo(minAge) >= 0) {
                deque.addLast(s);
                while (deque.size() > KEEP) deque.removeFirst();
            }
            return new ArrayList<>(deque);
        }
    }

    /** The HTML of an InferenceService's traffic: totals, and request rate and mean latency charts once there are two samples. */
    String render(String ns, String model) {
        if (meters == null) return Layout.empty("No meters.", "This server does not record serving meters.");
        var list = sample(ns, model, Duration.ofSeconds(1));
        var last = list.getLast();
        var sb = new StringBuilder("<p id=\"traffic-stats\">").append(Html.number(last.requests())).append(" requests (")
                .append(Html.number(last.errors())).append(" failed) since the server started");
        if (last.timed() > 0) sb.append(", mean latency ").append(ms(last.latencySeconds() / last.timed()));
        sb.append(".</p>");
        if (list.size() < 2) return sb.append("<p class=\"hint\">The charts start with the next sample, every ").append(INTERVAL.toSeconds()).append(" s.</p>").toString();
        var rates = new ArrayList<Double>();
        var latencies = new ArrayList<Double>();
        for (int i = 1; i < list.size(); i++) {
            var a = list.get(i - 1);
            var b = list.get(i);
            double seconds = Math.max(1e-3, Duration.between(a.at(), b.at()).toMillis() / 1000.0);
            // A revision that went away takes its meters along: treat the drop as no traffic, not negative traffic.
            rates.add(Math.max(0, b.requests() - a.requests()) / seconds);
            double n = b.timed() - a.timed();
            latencies.add(n > 0 ? Math.max(0, b.latencySeconds() - a.latencySeconds()) / n * 1000 : null);
        }
        var span = Duration.between(list.getFirst().at(), last.at());
        sb.append(chart("requests", "Requests per second over the last " + Html.duration(span), rates, "req/s"));
        sb.append(chart("latency", "Mean latency in milliseconds over the last " + Html.duration(span), latencies, "ms"));
        return sb.toString();
    }

    private static String ms(double seconds) {
        return String.format(Locale.ROOT, "%.2f ms", seconds * 1000);
    }

    /** A line through {@code values} (x is time, oldest left); null values are gaps. */
    static String chart(String cssClass, String label, List<Double> values, String unit) {
        double max = values.stream().filter(v -> v != null).mapToDouble(Double::doubleValue).max().orElse(0);
        if (max <= 0) max = 1;
        int n = values.size();
        var sb = new StringBuilder("<figure><svg class=\"chart ").append(cssClass).append("\" role=\"img\" aria-label=\"").append(Html.esc(label))
                .append("\" viewBox=\"0 0 ").append(W).append(' ').append(H).append("\" width=\"").append(W).append("\" height=\"").append(H).append("\">")
                .append("<line class=\"axis\" x1=\"").append(PAD).append("\" y1=\"").append(H - PAD / 2).append("\" x2=\"").append(W - 10).append("\" y2=\"").append(H - PAD / 2).append("\"/>")
                .append("<text x=\"").append(PAD - 4).append("\" y=\"14\" text-anchor=\"end\">").append(Html.number(max)).append("</text>")
                .append("<text x=\"").append(PAD - 4).append("\" y=\"").append(H - PAD / 2).append("\" text-anchor=\"end\">0</text>")
                .append("<polyline class=\"trace\" points=\"");
        for (int i = 0; i < n; i++) {
            if (values.get(i) == null) continue;
            double x = PAD + (n == 1 ? 0 : (W - PAD - 10) * (double) i / (n - 1));
            double y = (H - PAD / 2) - (H - PAD / 2 - 10) * values.get(i) / max;
            sb.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
        }
        sb.append("\"/></svg><figcaption>").append(Html.esc(label)).append(" (").append(Html.esc(unit)).append(")</figcaption></figure>");
        return sb.toString();
    }

    @Override
    public void close() {
        if (timer != null) timer.shutdownNow();
    }
}
