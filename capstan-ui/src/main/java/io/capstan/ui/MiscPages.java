package io.capstan.ui;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.NotFoundException;
import io.capstan.core.Resource;
import io.capstan.core.security.Role;
import io.capstan.metadata.Context;
import io.capstan.metadata.PropertyValue;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/** Pipelines with their versions, recurring runs, training jobs and the lineage explorer. */
final class MiscPages {
    static final List<String> TRAINING_KINDS = List.of("TrainJob", "PyTorchJob", "XGBoostJob");

    private final UiContext ui;

    MiscPages(UiContext ui) {
        this.ui = ui;
    }

    void pipelines(ServerRequest req, ServerResponse res) {
        var pipelines = ui.visible(req, "Pipeline");
        var versions = ui.visible(req, "PipelineVersion");
        pipelines.sort(Comparator.comparing((Resource r) -> r.metadata().created().orElse(java.time.Instant.EPOCH)).reversed());
        var sb = new StringBuilder("<h1>Pipelines</h1>");
        if (pipelines.isEmpty()) {
            sb.append(Layout.empty("No pipelines uploaded.", "Upload one with the KFP SDK or <code>capstan pipelines upload pipeline.yaml</code>."));
        } else {
            sb.append("<table><thead><tr><th scope=\"col\">Pipeline</th><th scope=\"col\">Description</th><th scope=\"col\">Versions</th><th scope=\"col\">Created</th></tr></thead><tbody>");
            for (var p : pipelines) {
                var id = p.metadata().name();
                var mine = versions.stream().filter(v -> id.equals(v.metadata().labels().get("pipelines.capstan.io/pipeline-id"))
                        || id.equals(v.spec().path("pipelineId").asText(""))).map(v -> text(v, "displayName", text(v, "name", v.metadata().name()))).toList();
                sb.append("<tr data-pipeline=\"").append(Html.esc(id)).append("\"><td>").append(Html.esc(text(p, "displayName", text(p, "name", id)))).append("</td><td>").append(Html.esc(p.spec().path("description").asText("")))
                        .append("</td><td>").append(Html.esc(String.join(", ", mine))).append("</td><td>").append(Html.time(p.metadata().created().orElse(null))).append("</td></tr>");
            }
            sb.append("</tbody></table>");
        }
        res.send(Layout.page(req, "Pipelines", "/pipelines", sb.toString()));
    }

    private static String text(Resource r, String field, String fallback) {
        var v = r.spec().path(field).asText("");
        return v.isEmpty() ? fallback : v;
    }

    void recurring(ServerRequest req, ServerResponse res) {
        var recurring = ui.visible(req, "RecurringRun");
        recurring.sort(Comparator.comparing((Resource r) -> r.metadata().created().orElse(java.time.Instant.EPOCH)).reversed());
        var sb = new StringBuilder("<h1>Recurring runs</h1>");
        if (recurring.isEmpty()) {
            sb.append(Layout.empty("No recurring runs.", "Create one through the KFP API (<code>/apis/v2beta1/recurringruns</code>) or the KFP SDK's <code>create_recurring_run</code>."));
        } else {
            sb.append("<table class=\"recurring\"><thead><tr><th scope=\"col\">Recurring run</th><th scope=\"col\">Schedule</th><th scope=\"col\">State</th>")
                    .append("<th scope=\"col\">Next run</th><th scope=\"col\">Last run</th><th scope=\"col\">Runs</th></tr></thead><tbody>");
            for (var r : recurring) {
                var trigger = r.spec().path("trigger");
                var schedule = trigger.path("cron").asText("");
                if (schedule.isEmpty() && trigger.has("intervalSeconds")) schedule = "every " + trigger.path("intervalSeconds").asText() + " s";
                var message = r.status().field("message").map(JsonNode::asText).orElse("");
                boolean enabled = r.status().phase().equals("Enabled") || r.status().phase().isEmpty();
                sb.append("<tr data-recurring=\"").append(Html.esc(r.metadata().name())).append("\"><td>").append(Html.esc(text(r, "displayName", r.metadata().name())))
                        .append("</td><td><code>").append(Html.esc(schedule)).append("</code></td><td>").append(Html.badge(r.status().phase().isEmpty() ? "Pending" : r.status().phase()))
                        .append(message.isEmpty() ? "" : " " + Html.esc(message)).append("</td><td class=\"next\">")
                        .append(enabled ? Html.time(r.status().field("nextScheduledTime").map(JsonNode::asText).orElse("")) : "")
                        .append("</td><td>").append(Html.time(r.status().field("lastScheduledTime").map(JsonNode::asText).orElse("")))
                        .append("</td><td><a href=\"/runs?q=").append(Html.url(text(r, "displayName", r.metadata().name()))).append("\">its runs</a></td></tr>");
            }
            sb.append("</tbody></table>");
        }
        res.send(Layout.page(req, "Recurring runs", "/recurring", sb.toString()));
    }

    void jobs(ServerRequest req, ServerResponse res) {
        var sb = new StringBuilder("<h1>Training jobs</h1>");
        int total = 0;
        sb.append("<table><thead><tr><th scope=\"col\">Job</th><th scope=\"col\">Kind</th><th scope=\"col\">State</th><th scope=\"col\">Replicas</th><th scope=\"col\">Restarts</th><th scope=\"col\">Conditions</th></tr></thead><tbody>");
        for (var kind : TRAINING_KINDS) {
            for (var j : ui.visible(req, kind)) {
                total++;
                sb.append("<tr><td><a href=\"/jobs/").append(Html.url(kind)).append('/').append(Html.url(j.metadata().namespace())).append('/').append(Html.url(j.metadata().name()))
                        .append("\">").append(Html.esc(j.metadata().name())).append("</a></td><td>").append(kind).append("</td><td>").append(Html.badge(j.status().phase()))
                        .append("</td><td>").append(replicas(j)).append("</td><td class=\"num\">").append(j.status().field("restarts").map(JsonNode::asText).orElse("0"))
                        .append("</td><td>").append(conditions(j)).append("</td></tr>");
            }
        }
        sb.append("</tbody></table>");
        if (total == 0) sb = new StringBuilder("<h1>Training jobs</h1>").append(Layout.empty("No training jobs.", "Start one with <code>capstan train</code> or apply a TrainJob, PyTorchJob or XGBoostJob."));
        res.send(Layout.page(req, "Training jobs", "/jobs", sb.toString()));
    }

    private static String replicas(Resource j) {
        var sb = new StringBuilder();
        j.status().field("replicaStatuses").ifPresent(rs -> rs.fields().forEachRemaining(e -> {
            if (!sb.isEmpty()) sb.append("; ");
            sb.append(Html.esc(e.getKey())).append(": ");
            e.getValue().fields().forEachRemaining(f -> sb.append(Html.esc(f.getKey())).append(' ').append(Html.esc(f.getValue().asText())).append(' '));
        }));
        return sb.toString();
    }

    private static String conditions(Resource j) {
        var sb = new StringBuilder();
        for (var c : j.status().conditions()) {
            if (!sb.isEmpty()) sb.append(", ");
            sb.append(Html.esc(c.type())).append('=').append(c.status());
        }
        return sb.toString();
    }

    void job(ServerRequest req, ServerResponse res) {
        var kind = req.path().pathParameters().get("kind");
        if (!TRAINING_KINDS.contains(kind)) throw new NotFoundException("training job kind '" + kind + "' is unknown; use one of " + TRAINING_KINDS);
        var ns = req.path().pathParameters().get("ns");
        var name = req.path().pathParameters().get("name");
        var j = ui.get(req, kind, ns, name);
        var sb = new StringBuilder("<h1>").append(kind).append(' ').append(Html.esc(name)).append(' ').append(Html.badge(j.status().phase())).append("</h1>");
        sb.append("<h2>Replicas</h2><p>").append(replicas(j).isEmpty() ? "No replica has started." : replicas(j)).append("</p>");
        sb.append("<h2>Conditions</h2><table><thead><tr><th scope=\"col\">Type</th><th scope=\"col\">Status</th><th scope=\"col\">Reason</th><th scope=\"col\">Message</th><th scope=\"col\">Since</th></tr></thead><tbody>");
        for (var c : j.status().conditions()) {
            sb.append("<tr><td>").append(Html.esc(c.type())).append("</td><td>").append(c.status()).append("</td><td>").append(Html.esc(c.reason()))
                    .append("</td><td>").append(Html.esc(c.message())).append("</td><td>").append(Html.time(c.lastTransitionTime())).append("</td></tr>");
        }
        sb.append("</tbody></table><h2>Logs by rank</h2>");
        var workloads = j.status().field("workloads").orElse(null);
        if (workloads == null || workloads.isEmpty()) {
            sb.append(Layout.empty("No logs yet.", "Each rank's log appears here once its process starts. <code>capstan logs</code> follows them live."));
        } else {
            for (var w : workloads) {
                var id = w.path("id").asText("");
                if (id.isEmpty()) continue;
                sb.append("<h3>Rank ").append(w.path("rank").asInt()).append(" (").append(Html.esc(w.path("replicaType").asText(""))).append(' ')
                        .append(w.path("index").asInt()).append(")</h3><pre class=\"log\" tabindex=\"0\" aria-label=\"Log of rank ").append(w.path("rank").asInt()).append("\">");
                ui.tail(id, 200).forEach(l -> sb.append(Html.esc(l.text())).append('\n'));
                sb.append("</pre>");
            }
        }
        res.send(Layout.page(req, kind + " " + name, "/jobs", sb.toString()));
    }

    // ------------------------------------------------------------------ lineage

    void lineage(ServerRequest req, ServerResponse res) {
        var artifact = req.query().first("artifact").orElse("");
        var execution = req.query().first("execution").orElse("");
        var sb = new StringBuilder("<h1>Lineage</h1><form method=\"get\" action=\"/lineage\" role=\"search\" aria-label=\"Open lineage\">")
                .append(RunPages.field("artifact", "Artifact id", artifact, "12"))
                .append(RunPages.field("execution", "Execution id", execution, "7"))
                .append("<button type=\"submit\">Open</button></form>");
        if (!artifact.isBlank()) artifactLineage(req, sb, id(artifact, "artifact"));
        else if (!execution.isBlank()) executionLineage(req, sb, id(execution, "execution"));
        else sb.append(Layout.empty("Pick an artifact or an execution.", "Every pipeline step, its inputs and its outputs are recorded; a run's steps link here."));
        res.send(Layout.page(req, "Lineage", "/lineage", sb.toString()));
    }

    private static long id(String text, String what) {
        try {
            return Long.parseLong(text.strip());
        } catch (NumberFormatException e) {
            throw new io.capstan.core.InvalidSpecException(what + " id must be a number, got '" + text + "'");
        }
    }

    private boolean visible(ServerRequest req, List<Context> contexts) {
        var caller = UiContext.caller(req);
        if (caller.isServerAdmin()) return true;
        for (var c : contexts) {
            String ns = "";
            if (c.customProperties().get("namespace") instanceof PropertyValue.StringValue s) ns = s.value();
            else if (c.name().contains("/")) ns = c.name().substring(0, c.name().indexOf('/'));
            if (!ns.isEmpty() && ui.policy().allows(caller, ns, Role.VIEW)) return true;
        }
        return false;
    }

    private void artifactLineage(ServerRequest req, StringBuilder sb, long id) {
        var a = ui.metadata().getArtifact(id);
        if (!visible(req, ui.metadata().contextsByArtifact(id))) throw new NotFoundException("artifact " + id + " not found");
        sb.append("<h2>Artifact ").append(id).append(": ").append(Html.esc(a.name())).append("</h2><dl class=\"facts\"><dt>Type</dt><dd>").append(Html.esc(a.type()))
                .append("</dd><dt>URI</dt><dd><code>").append(Html.esc(a.uri())).append("</code></dd><dt>Created</dt><dd>").append(Html.time(a.createTime())).append("</dd></dl>");
        properties(sb, a.customProperties());
        sb.append("<h3>Executions</h3><ul class=\"lineage\">");
        for (var e : ui.metadata().eventsByArtifact(id)) {
            var x = ui.metadata().getExecution(e.executionId());
            sb.append("<li>").append(e.type().name().contains("OUTPUT") ? "made by " : "read by ").append("<a href=\"/lineage?execution=").append(x.id()).append("\">")
                    .append(Html.esc(x.type())).append(' ').append(Html.esc(x.name())).append("</a></li>");
        }
        sb.append("</ul>");
        contexts(sb, ui.metadata().contextsByArtifact(id));
    }

    private void executionLineage(ServerRequest req, StringBuilder sb, long id) {
        var x = ui.metadata().getExecution(id);
        if (!visible(req, ui.metadata().contextsByExecution(id))) throw new NotFoundException("execution " + id + " not found");
        sb.append("<h2>Execution ").append(id).append(": ").append(Html.esc(x.name())).append("</h2><dl class=\"facts\"><dt>Type</dt><dd>").append(Html.esc(x.type()))
                .append("</dd><dt>State</dt><dd>").append(Html.esc(x.lastKnownState().name())).append("</dd><dt>Created</dt><dd>").append(Html.time(x.createTime())).append("</dd></dl>");
        properties(sb, x.customProperties());
        for (var direction : List.of("Inputs", "Outputs")) {
            sb.append("<h3>").append(direction).append("</h3><ul class=\"lineage\">");
            for (var e : ui.metadata().eventsByExecution(id)) {
                boolean output = e.type().name().contains("OUTPUT");
                if (output != direction.equals("Outputs")) continue;
                var a = ui.metadata().getArtifact(e.artifactId());
                sb.append("<li><a href=\"/lineage?artifact=").append(a.id()).append("\">").append(Html.esc(a.type())).append(' ').append(Html.esc(a.name()))
                        .append("</a> <code>").append(Html.esc(a.uri())).append("</code></li>");
            }
            sb.append("</ul>");
        }
        contexts(sb, ui.metadata().contextsByExecution(id));
    }

    private static void properties(StringBuilder sb, Map<String, PropertyValue> props) {
        if (props.isEmpty()) return;
        var values = new java.util.LinkedHashMap<String, String>();
        props.forEach((k, v) -> values.put(k, v.toString()));
        sb.append("<h3>Properties</h3>").append(RunPages.table(values));
    }

    private static void contexts(StringBuilder sb, List<Context> contexts) {
        if (contexts.isEmpty()) return;
        sb.append("<h3>Contexts</h3><ul>");
        for (var c : contexts) sb.append("<li>").append(Html.esc(c.type())).append(' ').append(Html.esc(c.name())).append("</li>");
        sb.append("</ul>");
    }

}
