package io.capstan.ui;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Resource;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.net.URI;
import java.util.Comparator;

/** KServe InferenceServices: the list, and one with its revisions, traffic split and a predict console. */
final class EndpointPages {
    static final String KIND = "InferenceService";

    static final String MONITOR_KIND = "ModelMonitor";
    static final String SLO_KIND = "ServiceLevelObjective";

    private final UiContext ui;
    private final EndpointMeters meters;

    EndpointPages(UiContext ui, EndpointMeters meters) {
        this.ui = ui;
        this.meters = meters;
    }

    void list(ServerRequest req, ServerResponse res) {
        var services = ui.visible(req, KIND);
        services.sort(Comparator.comparing((Resource r) -> r.metadata().namespace()).thenComparing(r -> r.metadata().name()));
        var sb = new StringBuilder("<h1>Endpoints</h1>");
        if (services.isEmpty()) {
            sb.append(Layout.empty("No InferenceServices yet.", "Serve a model with <code>capstan serve model.onnx</code> or apply a KServe InferenceService."));
        } else {
            sb.append("<table><thead><tr><th scope=\"col\">InferenceService</th><th scope=\"col\">State</th><th scope=\"col\">Latest revision</th>")
                    .append("<th scope=\"col\">Traffic</th><th scope=\"col\">URL</th></tr></thead><tbody>");
            for (var s : services) {
                var predictor = s.status().field("components").map(c -> c.path("predictor")).orElse(io.capstan.core.Json.json().createObjectNode());
                sb.append("<tr><td><a href=\"").append(href(s)).append("\">").append(Html.esc(s.metadata().name())).append("</a>")
                        .append(s.metadata().namespace().equals("default") ? "" : " <small>" + Html.esc(s.metadata().namespace()) + "</small>")
                        .append("</td><td>").append(Html.badge(s.status().phase())).append("</td><td>").append(Html.esc(predictor.path("latestCreatedRevision").asText("")))
                        .append("</td><td>").append(trafficText(predictor)).append("</td><td><code>").append(Html.esc(predictor.path("url").asText(""))).append("</code></td></tr>");
            }
            sb.append("</tbody></table>");
        }
        res.send(Layout.page(req, "Endpoints", "/endpoints", sb.toString()));
    }

    static String href(Resource s) {
        return "/endpoints/" + Html.url(s.metadata().namespace()) + "/" + Html.url(s.metadata().name());
    }

    private static String trafficText(JsonNode predictor) {
        var sb = new StringBuilder();
        for (var t : predictor.path("traffic")) {
            if (!sb.isEmpty()) sb.append(", ");
            sb.append(Html.esc(t.path("revisionName").asText())).append(' ').append(t.path("percent").asInt()).append('%');
        }
        return sb.toString();
    }

    void detail(ServerRequest req, ServerResponse res) {
        var ns = req.path().pathParameters().get("ns");
        var name = req.path().pathParameters().get("name");
        var s = ui.get(req, KIND, ns, name);
        var predictor = s.status().field("components").map(c -> c.path("predictor")).orElse(io.capstan.core.Json.json().createObjectNode());
        var sb = new StringBuilder("<h1>InferenceService ").append(Html.esc(name)).append(' ').append(Html.badge(s.status().phase())).append("</h1>");
        sb.append("<dl class=\"facts\"><dt>Namespace</dt><dd>").append(Html.esc(ns)).append("</dd><dt>URL</dt><dd><code>")
                .append(Html.esc(predictor.path("url").asText(""))).append("</code></dd><dt>Model format</dt><dd>")
                .append(Html.esc(s.spec().path("predictor").path("model").path("modelFormat").path("name").asText(""))).append("</dd><dt>Storage</dt><dd><code>")
                .append(Html.esc(s.spec().path("predictor").path("model").path("storageUri").asText(""))).append("</code></dd></dl>");
        for (var c : s.status().conditions()) {
            if (c.status() != io.capstan.core.Condition.Status.True && !c.message().isEmpty()) {
                sb.append("<p class=\"banner failed\" role=\"alert\">").append(Html.esc(c.type())).append(": ").append(Html.esc(c.message())).append("</p>");
                break;
            }
        }
        sb.append("<h2>Traffic</h2>");
        if (predictor.path("traffic").isEmpty()) sb.append(Layout.empty("No revision serves traffic.", "The latest revision is still loading or failed."));
        else {
            sb.append("<div class=\"traffic\" role=\"img\" aria-label=\"Traffic split: ").append(Html.esc(trafficText(predictor).replace("&#39;", "'"))).append("\">");
            int i = 0;
            for (var t : predictor.path("traffic")) {
                sb.append("<span class=\"series-").append(i++ % 6).append("\" style=\"width:").append(t.path("percent").asInt()).append("%\">")
                        .append(Html.esc(t.path("revisionName").asText())).append(' ').append(t.path("percent").asInt()).append("%</span>");
            }
            sb.append("</div>");
            if (predictor.has("shadow")) {
                sb.append("<p>Shadow: ").append(Html.esc(predictor.path("shadow").path("revisionName").asText())).append(" mirrors ")
                        .append(predictor.path("shadow").path("percent").asInt()).append("% of requests.</p>");
            }
        }
        sb.append("<h2>Revisions</h2><table><thead><tr><th scope=\"col\">Revision</th><th scope=\"col\">State</th><th scope=\"col\">Generation</th><th scope=\"col\">Reason</th></tr></thead><tbody>");
        var revisions = s.status().field("revisions").orElse(io.capstan.core.Json.json().createArrayNode());
        for (var r : revisions) {
            sb.append("<tr><td>").append(Html.esc(r.path("name").asText())).append("</td><td>").append(Html.badge(r.path("state").asText()))
                    .append("</td><td class=\"num\">").append(r.path("generation").asLong()).append("</td><td>").append(Html.esc(r.path("reason").asText(""))).append("</td></tr>");
        }
        sb.append("</tbody></table>");
        sb.append("<h2>Traffic</h2><div id=\"traffic\" class=\"charts\">").append(meters.render(ns, name)).append("</div>");
        monitors(sb, ns, name);
        objectives(sb, ns, name);
        var path = modelPath(predictor.path("url").asText(""));
        sb.append("<h2 id=\"console-title\">Predict console</h2>");
        if (path.isEmpty()) {
            sb.append(Layout.empty("No URL yet.", "The console works once the InferenceService reports its URL."));
        } else {
            sb.append("<form id=\"predict\" class=\"console\" aria-labelledby=\"console-title\" data-model-url=\"").append(Html.esc(path)).append("\">")
                    .append("<label for=\"predict-body\">Open Inference Protocol request (POST ").append(Html.esc(path)).append("/infer)</label>")
                    .append("<textarea id=\"predict-body\" name=\"body\" rows=\"8\" spellcheck=\"false\">{\"inputs\": []}</textarea>")
                    .append("<button type=\"submit\" id=\"predict-send\">Send</button>")
                    .append("<pre id=\"predict-result\" class=\"result\" role=\"status\" aria-live=\"polite\" tabindex=\"0\"></pre></form>");
        }
        res.send(Layout.page(req, "InferenceService " + name, "/endpoints", sb.toString()));
    }

    /** The ModelMonitors watching the service: each one's drift verdict, and which features drifted. */
    private void monitors(StringBuilder sb, String ns, String name) {
        sb.append("<h2 id=\"monitors\">Drift</h2>");
        var monitors = ui.store().list(new io.capstan.store.ListQuery(MONITOR_KIND, java.util.Optional.of(ns), io.capstan.store.LabelSelector.EVERYTHING,
                io.capstan.store.ListQuery.MAX_LIMIT, java.util.Optional.empty())).items().stream()
                .filter(m -> m.spec().path("inferenceService").asText().equals(name)).toList();
        if (monitors.isEmpty()) {
            sb.append(Layout.empty("No ModelMonitor watches this service.", "Apply a <code>ModelMonitor</code> with <code>spec.inferenceService: " + Html.esc(name) + "</code>."));
            return;
        }
        sb.append("<table class=\"monitors\"><thead><tr><th scope=\"col\">Monitor</th><th scope=\"col\">State</th><th scope=\"col\">Rows in window</th>")
                .append("<th scope=\"col\">Drifted share</th><th scope=\"col\">Drifted features</th><th scope=\"col\">Checked</th></tr></thead><tbody>");
        for (var m : monitors) {
            var st = m.status();
            var drifted = new StringBuilder();
            for (var f : st.field("features").orElse(io.capstan.core.Json.json().createArrayNode())) {
                if (!f.path("drifted").asBoolean()) continue;
                if (!drifted.isEmpty()) drifted.append(", ");
                drifted.append(Html.esc(f.path("name").asText())).append(" (").append(Html.esc(f.path("test").asText())).append(' ')
                        .append(Html.number(f.path("statistic").asDouble())).append(')');
            }
            sb.append("<tr data-monitor=\"").append(Html.esc(m.metadata().name())).append("\"><td>").append(Html.esc(m.metadata().name())).append("</td><td>")
                    .append(Html.badge(st.phase())).append(reason(st)).append("</td><td class=\"num\">").append(st.field("samples").map(n -> Html.number(n.asDouble())).orElse(""))
                    .append("</td><td class=\"num\">").append(st.field("driftShare").map(n -> Html.number(n.asDouble())).orElse(""))
                    .append("</td><td>").append(drifted.isEmpty() ? "none" : drifted).append("</td><td>")
                    .append(Html.time(st.field("windowTestedAt").map(JsonNode::asText).orElse(""))).append("</td></tr>");
        }
        sb.append("</tbody></table>");
    }

    /** The message of the first condition that is not True, as a short hint after a state badge. */
    private static String reason(io.capstan.core.ResourceStatus st) {
        for (var c : st.conditions()) {
            if (c.status() != io.capstan.core.Condition.Status.True && !c.message().isEmpty()) return " <small>" + Html.esc(c.message()) + "</small>";
        }
        return "";
    }

    /** The ServiceLevelObjectives over the service's availability or latency: SLI, error budget and alert state. */
    private void objectives(StringBuilder sb, String ns, String name) {
        sb.append("<h2 id=\"slos\">Service level objectives</h2>");
        var slos = ui.store().list(new io.capstan.store.ListQuery(SLO_KIND, java.util.Optional.of(ns), io.capstan.store.LabelSelector.EVERYTHING,
                io.capstan.store.ListQuery.MAX_LIMIT, java.util.Optional.empty())).items().stream()
                .filter(o -> sliKind(o.spec(), name) != null).toList();
        if (slos.isEmpty()) {
            sb.append(Layout.empty("No ServiceLevelObjective covers this service.", "Apply one with <code>spec.sli.availability.inferenceService: " + Html.esc(name) + "</code>."));
            return;
        }
        sb.append("<table class=\"slos\"><thead><tr><th scope=\"col\">Objective</th><th scope=\"col\">SLI</th><th scope=\"col\">Target</th>")
                .append("<th scope=\"col\">Current</th><th scope=\"col\">Error budget left</th><th scope=\"col\">Alerts</th></tr></thead><tbody>");
        for (var o : slos) {
            var st = o.status();
            var firing = new StringBuilder();
            for (var a : st.field("alerts").orElse(io.capstan.core.Json.json().createArrayNode())) {
                if (!a.path("firing").asBoolean()) continue;
                if (!firing.isEmpty()) firing.append(", ");
                firing.append(Html.esc(a.path("severity").asText())).append(' ').append(Html.esc(a.path("longWindow").asText())).append('/')
                        .append(Html.esc(a.path("shortWindow").asText()));
            }
            sb.append("<tr data-slo=\"").append(Html.esc(o.metadata().name())).append("\"><td>").append(Html.esc(o.metadata().name())).append("</td><td>")
                    .append(Html.esc(sliKind(o.spec(), name))).append("</td><td class=\"num\">").append(java.math.BigDecimal.valueOf(o.spec().path("objective").asDouble()).stripTrailingZeros().toPlainString()).append("%</td><td class=\"num\">")
                    .append(st.field("sli").map(n -> percent(n.asDouble())).orElse("")).append("</td><td class=\"num\">")
                    .append(st.field("errorBudgetRemaining").map(n -> percent(n.asDouble())).orElse("")).append("</td><td>")
                    .append(Html.badge(st.phase())).append(firing.isEmpty() ? "" : " firing: " + firing).append("</td></tr>");
        }
        sb.append("</tbody></table>");
    }

    /** {@code availability} or {@code latency} where the objective's SLI reads InferenceService {@code name}, else null. */
    private static String sliKind(JsonNode spec, String name) {
        for (var kind : java.util.List.of("availability", "latency")) {
            if (spec.path("sli").path(kind).path("inferenceService").asText().equals(name)) return kind;
        }
        return null;
    }

    private static String percent(double fraction) {
        return String.format(java.util.Locale.ROOT, "%.3f%%", fraction * 100);
    }

    /** The path of the model's OIP URL on this server, such as {@code /serving/default/v2/models/iris}. */
    static String modelPath(String url) {
        if (url.isEmpty()) return "";
        try {
            var p = URI.create(url).getRawPath();
            return p == null ? "" : p;
        } catch (IllegalArgumentException e) {
            return "";
        }
    }
}
