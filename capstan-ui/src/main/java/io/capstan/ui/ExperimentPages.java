package io.capstan.ui;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Resource;
import io.capstan.store.LabelSelector;
import io.capstan.store.ListQuery;
import io.helidon.http.sse.SseEvent;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.helidon.webserver.sse.SseSink;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/** Katib experiments: the list, one experiment with its trials (live while it runs), and one trial with its log. */
final class ExperimentPages {
    static final String EXPERIMENT = "Experiment";
    static final String TRIAL = "Trial";
    static final String EXPERIMENT_LABEL = "katib.kubeflow.org/experiment";
    private static final Set<String> TERMINAL = Set.of("Succeeded", "Failed");
    /** A trial's phases after which neither its metrics nor its log change. */
    static final Set<String> TRIAL_DONE = Set.of("Succeeded", "Failed", "MetricsUnavailable", "EarlyStopped", "Killed");
    private static final Duration LIVE_POLL = Duration.ofMillis(500);
    private static final Duration LIVE_LIMIT = Duration.ofHours(1);

    private final UiContext ui;

    ExperimentPages(UiContext ui) {
        this.ui = ui;
    }

    void list(ServerRequest req, ServerResponse res) {
        var experiments = ui.visible(req, EXPERIMENT);
        experiments.sort(Comparator.comparing((Resource r) -> r.metadata().created().orElse(java.time.Instant.EPOCH)).reversed());
        var sb = new StringBuilder("<h1>Experiments</h1>");
        if (experiments.isEmpty()) {
            sb.append(Layout.empty("No experiments yet.", "Start one with <code>capstan tune experiment.yaml</code> or <code>capstan apply -f</code> a Katib Experiment."));
        } else {
            sb.append("<table><thead><tr><th scope=\"col\">Experiment</th><th scope=\"col\">State</th><th scope=\"col\">Trials</th>")
                    .append("<th scope=\"col\">Running</th><th scope=\"col\">Succeeded</th><th scope=\"col\">Failed</th><th scope=\"col\">Objective</th>")
                    .append("<th scope=\"col\">Best so far</th><th scope=\"col\">Created</th></tr></thead><tbody>");
            for (var e : experiments) {
                var st = e.status();
                var objective = e.spec().path("objective");
                var metric = objective.path("objectiveMetricName").asText("");
                sb.append("<tr><td><a href=\"").append(href(e)).append("\">").append(Html.esc(e.metadata().name())).append("</a>")
                        .append(ns(e)).append("</td><td>").append(Html.badge(st.phase())).append("</td>")
                        .append("<td class=\"num\">").append(count(e, "trials")).append("</td><td class=\"num\">").append(count(e, "trialsRunning"))
                        .append("</td><td class=\"num\">").append(count(e, "trialsSucceeded")).append("</td><td class=\"num\">").append(count(e, "trialsFailed"))
                        .append("</td><td>").append(Html.esc(objective.path("type").asText(""))).append(' ').append(Html.esc(metric)).append("</td><td class=\"num\">")
                        .append(Html.esc(best(e).map(Html::number).orElse(""))).append("</td><td>").append(Html.time(e.metadata().created().orElse(null))).append("</td></tr>");
            }
            sb.append("</tbody></table>");
        }
        res.send(Layout.page(req, "Experiments", "/experiments", sb.toString()));
    }

    private static String ns(Resource r) {
        return r.metadata().namespace().equals("default") ? "" : " <small>" + Html.esc(r.metadata().namespace()) + "</small>";
    }

    static String href(Resource e) {
        return "/experiments/" + Html.url(e.metadata().namespace()) + "/" + Html.url(e.metadata().name());
    }

    private static String count(Resource e, String field) {
        return e.status().field(field).map(JsonNode::asText).orElse("0");
    }

    /** The objective value of {@code status.currentOptimalTrial}. */
    static Optional<Double> best(Resource e) {
        var metric = e.spec().path("objective").path("objectiveMetricName").asText("");
        var optimal = e.status().field("currentOptimalTrial");
        if (optimal.isEmpty()) return Optional.empty();
        for (var m : optimal.get().path("observation").path("metrics")) {
            if (m.path("name").asText().equals(metric)) return parse(m.path("latest").asText(""));
        }
        return Optional.empty();
    }

    private static Optional<Double> parse(String text) {
        try {
            return Optional.of(Double.parseDouble(text));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    List<Resource> trials(Resource experiment) {
        var selector = LabelSelector.parse(EXPERIMENT_LABEL + "=" + experiment.metadata().name());
        var out = new ArrayList<Resource>();
        Optional<String> token = Optional.empty();
        do {
            var page = ui.store().list(new ListQuery(TRIAL, Optional.of(experiment.metadata().namespace()), selector, ListQuery.MAX_LIMIT, token));
            out.addAll(page.items());
            token = page.continueToken();
        } while (token.isPresent());
        out.sort(Comparator.comparing((Resource r) -> r.metadata().created().orElse(java.time.Instant.EPOCH)).thenComparing(r -> r.metadata().name()));
        return out;
    }

    void detail(ServerRequest req, ServerResponse res) {
        var ns = req.path().pathParameters().get("ns");
        var name = req.path().pathParameters().get("name");
        var e = ui.get(req, EXPERIMENT, ns, name);
        var sb = new StringBuilder("<h1>Experiment ").append(Html.esc(name)).append("</h1>");
        var objective = e.spec().path("objective");
        sb.append("<dl class=\"facts\"><dt>Namespace</dt><dd>").append(Html.esc(ns)).append("</dd><dt>Objective</dt><dd>")
                .append(Html.esc(objective.path("type").asText(""))).append(' ').append(Html.esc(objective.path("objectiveMetricName").asText("")))
                .append(objective.has("goal") ? " (goal " + Html.esc(objective.path("goal").asText()) + ")" : "")
                .append("</dd><dt>Algorithm</dt><dd>").append(Html.esc(e.spec().path("algorithm").path("algorithmName").asText(""))).append("</dd>")
                .append("<dt>Budget</dt><dd>").append(Html.esc(e.spec().path("maxTrialCount").asText("?"))).append(" trials, ")
                .append(Html.esc(e.spec().path("parallelTrialCount").asText("1"))).append(" at a time</dd></dl>");
        boolean live = !TERMINAL.contains(e.status().phase());
        sb.append("<div id=\"trials-live\"");
        if (live) sb.append(" hx-ext=\"sse\" sse-connect=\"").append(href(e)).append("/events\" sse-swap=\"trials\"");
        sb.append('>').append(trialsSection(e)).append("</div>");
        res.send(Layout.page(req, "Experiment " + name, "/experiments", sb.toString()));
    }

    /** Everything that changes while trials run: phase, counts, curves and the trial table. */
    String trialsSection(Resource e) {
        var trials = trials(e);
        var metric = e.spec().path("objective").path("objectiveMetricName").asText("");
        boolean maximize = e.spec().path("objective").path("type").asText("").equalsIgnoreCase("maximize");
        var sb = new StringBuilder();
        sb.append("<p class=\"status-line\" role=\"status\">").append(Html.badge(e.status().phase())).append(' ').append(trials.size()).append(trials.size() == 1 ? " trial" : " trials")
                .append(", ").append(count(e, "trialsRunning")).append(" running, ").append(count(e, "trialsSucceeded")).append(" succeeded, ")
                .append(count(e, "trialsFailed")).append(" failed").append(best(e).map(b -> "; best " + Html.esc(metric) + " = " + Html.number(b)).orElse("")).append("</p>");
        if (trials.isEmpty()) {
            sb.append(Layout.empty("No trials yet.", TERMINAL.contains(e.status().phase()) ? "The experiment ended before any trial was created."
                    : "The first trials are being suggested; they appear here as soon as they are created."));
            return sb.toString();
        }
        var values = new ArrayList<Double>();
        var bestSoFar = new ArrayList<Double>();
        Double running = null;
        var paramNames = new TreeSet<String>();
        var rows = new ArrayList<Map<String, Double>>();
        int bestRow = -1;
        for (int i = 0; i < trials.size(); i++) {
            var t = trials.get(i);
            var v = objectiveValue(t, metric);
            values.add(v.orElse(null));
            if (v.isPresent() && (running == null || (maximize ? v.get() > running : v.get() < running))) {
                running = v.get();
                bestRow = i;
            }
            bestSoFar.add(running);
            var row = new LinkedHashMap<String, Double>();
            for (var p : t.spec().path("parameterAssignments")) {
                paramNames.add(p.path("name").asText());
                parse(p.path("value").asText("")).ifPresent(d -> row.put(p.path("name").asText(), d));
            }
            v.ifPresent(d -> row.put(metric, d));
            rows.add(row);
        }
        sb.append("<div class=\"charts\"><figure><figcaption>Best ").append(Html.esc(metric)).append(" so far</figcaption>")
                .append(Charts.line("Best " + metric + " so far by trial", values, bestSoFar)).append("</figure>");
        var columns = new ArrayList<>(paramNames);
        columns.add(metric);
        sb.append("<figure><figcaption>Parallel coordinates</figcaption>")
                .append(Charts.parallelCoordinates("Trials' parameters and " + metric, columns, rows.size(), (r, c) -> rows.get(r).get(c), bestRow))
                .append("</figure></div>");
        sb.append("<table class=\"trials\"><caption>Trials</caption><thead><tr><th scope=\"col\">Trial</th><th scope=\"col\">State</th>");
        paramNames.forEach(p -> sb.append("<th scope=\"col\">").append(Html.esc(p)).append("</th>"));
        sb.append("<th scope=\"col\">").append(Html.esc(metric)).append("</th><th scope=\"col\">Duration</th></tr></thead><tbody>");
        for (int i = 0; i < trials.size(); i++) {
            var t = trials.get(i);
            sb.append("<tr data-trial=\"").append(Html.esc(t.metadata().name())).append("\"").append(i == bestRow ? " class=\"best\"" : "").append("><td><a href=\"")
                    .append(href(e)).append("/trials/").append(Html.url(t.metadata().name())).append("\">").append(Html.esc(t.metadata().name())).append("</a></td><td>")
                    .append(Html.badge(t.status().phase())).append("</td>");
            var assigned = new LinkedHashMap<String, String>();
            for (var p : t.spec().path("parameterAssignments")) assigned.put(p.path("name").asText(), p.path("value").asText());
            paramNames.forEach(p -> sb.append("<td class=\"num\">").append(Html.esc(assigned.getOrDefault(p, ""))).append("</td>"));
            sb.append("<td class=\"num\">").append(values.get(i) == null ? "" : Html.number(values.get(i))).append("</td><td>")
                    .append(Html.duration(t.status().field("startTime").map(JsonNode::asText).orElse(""), t.status().field("completionTime").map(JsonNode::asText).orElse("")))
                    .append("</td></tr>");
        }
        return sb.append("</tbody></table>").toString();
    }

    static Optional<Double> objectiveValue(Resource trial, String metric) {
        for (var m : trial.status().field("observation").map(o -> o.path("metrics")).orElse(io.capstan.core.Json.json().createArrayNode())) {
            if (m.path("name").asText().equals(metric)) return parse(m.path("latest").asText(""));
        }
        return Optional.empty();
    }

    /** Re-renders the trials section whenever the experiment or one of its trials changes, until the experiment ends. */
    void events(ServerRequest req, ServerResponse res) {
        var ns = req.path().pathParameters().get("ns");
        var name = req.path().pathParameters().get("name");
        var e = ui.get(req, EXPERIMENT, ns, name);
        var deadline = ui.clock().instant().plus(LIVE_LIMIT);
        var seen = fingerprint(e);
        try (var sink = res.sink(SseSink.TYPE)) {
            sink.emit(SseEvent.builder().comment("following experiment " + name).build());
            while (ui.clock().instant().isBefore(deadline)) {
                java.util.concurrent.locks.LockSupport.parkNanos(LIVE_POLL.toNanos());
                var fresh = ui.store().find(e.key());
                if (fresh.isEmpty()) break;
                var now = fingerprint(fresh.get());
                if (now.equals(seen)) continue;
                seen = now;
                sink.emit(SseEvent.builder().name("trials").data(trialsSection(fresh.get()).replace("\n", "&#10;")).build());
                if (TERMINAL.contains(fresh.get().status().phase())) break;
            }
        } catch (java.io.UncheckedIOException ex) {
            // The browser went away.
        }
    }

    private String fingerprint(Resource e) {
        var sb = new StringBuilder(e.metadata().resourceVersion());
        trials(e).forEach(t -> sb.append(',').append(t.metadata().resourceVersion()));
        return sb.toString();
    }

    void trial(ServerRequest req, ServerResponse res) {
        var ns = req.path().pathParameters().get("ns");
        var name = req.path().pathParameters().get("name");
        var trialName = req.path().pathParameters().get("trial");
        var e = ui.get(req, EXPERIMENT, ns, name);
        var t = ui.get(req, TRIAL, ns, trialName);
        var sb = new StringBuilder("<p><a href=\"").append(href(e)).append("\">← Experiment ").append(Html.esc(name)).append("</a></p>")
                .append("<h1>Trial ").append(Html.esc(trialName)).append(' ').append(Html.badge(t.status().phase())).append("</h1>");
        var params = new LinkedHashMap<String, String>();
        for (var p : t.spec().path("parameterAssignments")) params.put(p.path("name").asText(), p.path("value").asText());
        sb.append("<h2>Parameters</h2>").append(RunPages.table(params));
        var workload = t.status().field("workloadId").map(JsonNode::asText).orElse("");
        if (TRIAL_DONE.contains(t.status().phase())) {
            sb.append("<h2>Metric history</h2><div id=\"trial-metrics\">").append(metricHistory(t)).append("</div><h2>Log</h2>");
            if (workload.isEmpty()) sb.append(Layout.empty("No log.", "The trial has not started a process, or runs as a training job."));
            else {
                sb.append("<pre id=\"log\" class=\"log\" tabindex=\"0\" aria-label=\"Log of ").append(Html.esc(trialName)).append("\">");
                ui.tail(workload, RunPages.LOG_TAIL).forEach(l -> sb.append(Html.esc(l.text())).append('\n'));
                sb.append("</pre>");
            }
        } else {
            // While the trial runs, its metric history and its log follow it over SSE.
            var events = "/experiments/" + Html.url(ns) + "/" + Html.url(name) + "/trials/" + Html.url(trialName) + "/events";
            sb.append("<section id=\"trial-live\" hx-ext=\"sse\" sse-connect=\"").append(Html.esc(events)).append("\" sse-close=\"end\">")
                    .append("<p>State: <span id=\"trial-phase\" sse-swap=\"phase\" aria-live=\"polite\">").append(Html.badge(t.status().phase())).append("</span></p>")
                    .append("<h2>Metric history</h2><div id=\"trial-metrics\" sse-swap=\"metrics\" aria-live=\"polite\">").append(metricHistory(t)).append("</div>")
                    .append("<h2>Log</h2><pre id=\"log\" class=\"log\" tabindex=\"0\" aria-label=\"Log of ").append(Html.esc(trialName))
                    .append(", live\" sse-swap=\"line\" hx-swap=\"beforeend\"></pre></section>");
        }
        res.send(Layout.page(req, "Trial " + trialName, "/experiments", sb.toString()));
    }

    /** One chart per metric of the trial's observations, in the order reported. */
    static String metricHistory(Resource t) {
        var byMetric = new LinkedHashMap<String, List<Double>>();
        t.status().field("observations").ifPresent(h -> {
            for (var o : h) {
                var metricName = o.path("name").asText(o.path("metric").asText(""));
                parse(o.path("value").asText("")).ifPresent(v -> byMetric.computeIfAbsent(metricName, k -> new ArrayList<>()).add(v));
            }
        });
        if (byMetric.isEmpty()) return Layout.empty("No observations yet.", "The trial reports metrics as it runs.");
        var sb = new StringBuilder();
        byMetric.forEach((m, vs) -> sb.append("<figure data-metric=\"").append(Html.esc(m)).append("\"><figcaption>").append(Html.esc(m))
                .append(" (").append(vs.size()).append(vs.size() == 1 ? " observation" : " observations").append(")</figcaption>").append(Charts.line(m, vs, vs)).append("</figure>"));
        return sb.toString();
    }

    /**
     * A running trial over SSE: {@code metrics} and {@code phase} again whenever the trial changes, {@code line} with
     * its log (its last lines first, then new ones), and {@code end} once it finished and its log is read.
     */
    void trialEvents(ServerRequest req, ServerResponse res) {
        var ns = req.path().pathParameters().get("ns");
        var name = req.path().pathParameters().get("name");
        ui.get(req, EXPERIMENT, ns, name);
        var t = ui.get(req, TRIAL, ns, req.path().pathParameters().get("trial"));
        var deadline = ui.clock().instant().plus(LIVE_LIMIT);
        var version = t.metadata().resourceVersion();
        long next = -1;
        try (var sink = res.sink(SseSink.TYPE)) {
            sink.emit(SseEvent.builder().comment("following trial " + t.metadata().name()).build());
            while (ui.clock().instant().isBefore(deadline)) {
                var fresh = ui.store().find(t.key());
                if (fresh.isEmpty()) break;
                t = fresh.get();
                if (!t.metadata().resourceVersion().equals(version)) {
                    version = t.metadata().resourceVersion();
                    sink.emit(SseEvent.builder().name("metrics").data(metricHistory(t).replace("\n", "&#10;")).build());
                    sink.emit(SseEvent.builder().name("phase").data(Html.badge(t.status().phase())).build());
                }
                boolean done = TRIAL_DONE.contains(t.status().phase());
                var workload = t.status().field("workloadId").map(JsonNode::asText).orElse("");
                List<io.capstan.backend.LogLine> lines = List.of();
                if (!workload.isEmpty() && ui.backend().find(workload).isPresent()) {
                    try {
                        lines = next < 0 ? ui.tail(workload, RunPages.LOG_TAIL) : ui.backend().follow(workload, next, LIVE_POLL);
                        if (next < 0) next = 0;
                    } catch (io.capstan.core.NotFoundException e) {
                        lines = List.of();
                    }
                    if (!lines.isEmpty()) next = lines.getLast().number() + 1;
                    RunPages.emitLines(sink, lines);
                } else {
                    java.util.concurrent.locks.LockSupport.parkNanos(LIVE_POLL.toNanos());
                }
                if (done && lines.isEmpty()) break;
            }
            sink.emit(SseEvent.builder().name("end").data("").build());
        } catch (java.io.UncheckedIOException ex) {
            // The browser went away.
        }
    }
}
