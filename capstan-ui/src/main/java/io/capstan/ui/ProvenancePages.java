package io.capstan.ui;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.NotFoundException;
import io.capstan.core.Resource;
import io.capstan.metadata.Artifact;
import io.capstan.metadata.Execution;
import io.capstan.metadata.PropertyValue;
import io.capstan.registry.ModelRegistry;
import io.capstan.store.LabelSelector;
import io.capstan.store.ListQuery;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;

/**
 * A model version's provenance, upstream and downstream: the datasets and pipeline run step that made its artifact
 * (found in ML Metadata by the artifact's URI, or named by the registry's {@code modelSource*} fields), the version
 * itself, the InferenceService revisions serving it ({@code status.modelSource}), and the ModelMonitors watching them.
 */
final class ProvenancePages {
    static final String MONITOR_KIND = "ModelMonitor";
    /** How far upstream of the model's step to look for datasets, in steps. */
    private static final int MAX_HOPS = 20;

    private final UiContext ui;
    private final ModelRegistry registry;

    ProvenancePages(UiContext ui, ModelRegistry registry) {
        this.ui = ui;
        this.registry = registry;
    }

    static String href(String ns, String modelId, String versionId) {
        return ModelPages.href(ns, modelId) + "/versions/" + Html.url(versionId);
    }

    void version(ServerRequest req, ServerResponse res) {
        var ns = req.path().pathParameters().get("ns");
        long modelId = id(req.path().pathParameters().get("id"), "id");
        var versionId = Long.toString(id(req.path().pathParameters().get("version"), "version"));
        var missing = new NotFoundException("model version " + versionId + " of registered model " + modelId + " not found in namespace '" + ns + "'");
        if (registry == null || !ui.canView(req, ns)) throw missing;
        var model = registry.model(ns, modelId).orElseThrow(() -> missing);
        JsonNode version = null;
        for (var v : model.path("versions")) if (v.path("id").asText().equals(versionId)) version = v;
        if (version == null) throw missing;
        var aliases = new ArrayList<String>();
        model.path("aliases").properties().forEach(e -> {
            if (e.getValue().asText().equals(versionId)) aliases.add(e.getKey());
        });
        var title = model.path("name").asText() + " " + version.path("name").asText();
        var sb = new StringBuilder("<h1>Model version ").append(Html.esc(title)).append(' ').append(Html.badge(version.path("state").asText("LIVE"))).append("</h1>");
        sb.append("<p><a href=\"").append(ModelPages.href(ns, Long.toString(modelId))).append("\">All versions of ").append(Html.esc(model.path("name").asText())).append("</a></p>");
        sb.append("<h2>Provenance</h2><ol class=\"provenance\">");

        var artifacts = new ArrayList<JsonNode>();
        for (var a : version.path("artifacts")) if ("model-artifact".equals(a.path("artifactType").asText())) artifacts.add(a);
        var uris = artifacts.stream().map(a -> a.path("uri").asText("")).filter(u -> !u.isEmpty()).distinct().toList();
        var producers = producers(req, uris);

        // 1. Datasets: the inputs, transitively, of the step that made the model, that no recorded step made.
        sb.append("<li id=\"prov-datasets\"><h3>Datasets</h3>");
        var datasets = datasets(producers.values());
        if (datasets.isEmpty()) sb.append("<p class=\"hint\">No recorded dataset: the model's artifact was not made by a recorded pipeline step.</p>");
        else {
            sb.append("<ul>");
            for (var d : datasets) {
                sb.append("<li><a href=\"/lineage?artifact=").append(d.id()).append("\">").append(Html.esc(displayName(d))).append("</a> <code>")
                        .append(Html.esc(d.uri())).append("</code></li>");
            }
            sb.append("</ul>");
        }
        sb.append("</li>");

        // 2. The pipeline run and step that made it.
        sb.append("<li id=\"prov-run\"><h3>Pipeline run and step</h3><ul>");
        boolean anyRun = false;
        for (var x : new java.util.LinkedHashSet<>(producers.values())) {
            var step = text(x.properties().get("task_name")).orElse(x.name());
            var run = runOf(req, x);
            sb.append("<li>");
            if (run.isPresent()) {
                var r = run.get();
                var runHref = RunPages.runHref(r);
                sb.append("run <a href=\"").append(runHref).append("\">").append(Html.esc(r.displayName().isEmpty() ? r.name() : r.displayName())).append("</a>, step <a href=\"")
                        .append(runHref).append(runHref.contains("?") ? "&" : "?").append("node=").append(Html.url(step)).append("\">").append(Html.esc(step)).append("</a>");
            } else {
                sb.append("step ").append(Html.esc(step));
            }
            sb.append(" (<a href=\"/lineage?execution=").append(x.id()).append("\">execution ").append(x.id()).append("</a>)</li>");
            anyRun = true;
        }
        for (var a : artifacts) {
            var kind = a.path("modelSourceKind").asText("");
            if (kind.isEmpty()) continue;
            var name = a.path("modelSourceName").asText("");
            var group = a.path("modelSourceGroup").asText(ns);
            sb.append("<li>registered from ").append(Html.esc(kind)).append(' ');
            if ((kind.equals("kfp") || kind.equals("pipelinerun")) && !name.isEmpty()) {
                sb.append("<a href=\"/runs/").append(Html.url(name)).append(group.equals("default") ? "" : "?ns=" + Html.url(group)).append("\">").append(Html.esc(name)).append("</a>");
            } else {
                sb.append(Html.esc(name.isEmpty() ? a.path("modelSourceId").asText("") : name));
            }
            sb.append("</li>");
            anyRun = true;
        }
        if (!anyRun) sb.append("<li class=\"hint\">No recorded pipeline run made this model.</li>");
        sb.append("</ul></li>");

        // 3. The version itself.
        sb.append("<li id=\"prov-version\"><h3>Model version</h3><p>").append(Html.esc(title))
                .append(aliases.isEmpty() ? "" : " (alias " + Html.esc(String.join(", ", aliases)) + ")").append("</p><ul>");
        for (var a : artifacts) {
            sb.append("<li><code>").append(Html.esc(a.path("uri").asText(""))).append("</code> ").append(Html.esc(a.path("modelFormatName").asText("")));
            for (var x : producers.entrySet()) {
                if (x.getKey().uri().equals(a.path("uri").asText())) sb.append(" (<a href=\"/lineage?artifact=").append(x.getKey().id()).append("\">lineage</a>)");
            }
            sb.append("</li>");
        }
        sb.append("</ul></li>");

        // 4. The InferenceService revisions serving it, and 5. the monitors watching those services.
        var services = servingVersion(ns, versionId);
        sb.append("<li id=\"prov-serving\"><h3>InferenceService revisions</h3>");
        if (services.isEmpty()) sb.append("<p class=\"hint\">No InferenceService serves this version.</p>");
        else {
            sb.append("<ul>");
            for (var s : services) {
                var source = s.status().field("modelSource").orElse(null);
                sb.append("<li><a href=\"").append(EndpointPages.href(s)).append("\">").append(Html.esc(s.metadata().name())).append("</a> ")
                        .append(Html.badge(s.status().phase()));
                if (source != null) {
                    sb.append(" revision <code>").append(Html.esc(source.path("revisionName").asText(""))).append("</code> from <code>")
                            .append(Html.esc(source.path("uri").asText(""))).append("</code>");
                }
                sb.append("</li>");
            }
            sb.append("</ul>");
        }
        sb.append("</li><li id=\"prov-monitors\"><h3>Monitors</h3>");
        var monitors = new ArrayList<Resource>();
        if (!services.isEmpty()) {
            var names = services.stream().map(s -> s.metadata().name()).toList();
            for (var m : list(MONITOR_KIND, ns)) if (names.contains(m.spec().path("inferenceService").asText())) monitors.add(m);
        }
        if (monitors.isEmpty()) sb.append("<p class=\"hint\">No ModelMonitor watches the services serving this version.</p>");
        else {
            sb.append("<ul>");
            for (var m : monitors) {
                sb.append("<li><a href=\"/endpoints/").append(Html.url(ns)).append('/').append(Html.url(m.spec().path("inferenceService").asText())).append("#monitors\">")
                        .append(Html.esc(m.metadata().name())).append("</a> ").append(Html.badge(m.status().phase()))
                        .append(" watching ").append(Html.esc(m.spec().path("inferenceService").asText())).append("</li>");
            }
            sb.append("</ul>");
        }
        sb.append("</li></ol>");
        res.send(Layout.page(req, "Model version " + title, "/models", sb.toString()));
    }

    /** The step that made each of the artifacts stored at {@code uris}, for the artifacts the caller may see. */
    private LinkedHashMap<Artifact, Execution> producers(ServerRequest req, List<String> uris) {
        var out = new LinkedHashMap<Artifact, Execution>();
        for (var uri : uris) {
            for (var a : ui.metadata().artifactsByUri(uri)) {
                for (var e : ui.metadata().eventsByArtifact(a.id())) {
                    if (!e.type().name().contains("OUTPUT")) continue;
                    var x = ui.metadata().getExecution(e.executionId());
                    if (runOf(req, x).isPresent() || UiContext.caller(req).isServerAdmin()) out.put(a, x);
                }
            }
        }
        return out;
    }

    /**
     * Upstream of {@code steps}, transitively: the {@code system.Dataset} artifacts they read, or where none is typed so,
     * the artifacts they read that no recorded step made.
     */
    private List<Artifact> datasets(java.util.Collection<Execution> steps) {
        var typed = new ArrayList<Artifact>();
        var out = new ArrayList<Artifact>();
        var seenSteps = new HashSet<Long>();
        var seenArtifacts = new HashSet<Long>();
        var queue = new ArrayDeque<Execution>(steps);
        int hops = 0;
        while (!queue.isEmpty() && hops++ < MAX_HOPS * 16) {
            var x = queue.poll();
            if (!seenSteps.add(x.id())) continue;
            for (var e : ui.metadata().eventsByExecution(x.id())) {
                if (e.type().name().contains("OUTPUT") || !seenArtifacts.add(e.artifactId())) continue;
                var artifact = ui.metadata().getArtifact(e.artifactId());
                if (artifact.type().equals("system.Dataset")) typed.add(artifact);
                var made = ui.metadata().eventsByArtifact(e.artifactId()).stream().filter(ev -> ev.type().name().contains("OUTPUT")).toList();
                if (made.isEmpty()) out.add(artifact);
                else made.forEach(ev -> queue.add(ui.metadata().getExecution(ev.executionId())));
            }
        }
        return typed.isEmpty() ? out : typed;
    }

    /** The pipeline run whose step {@code x} is: its {@code system.PipelineRun} context names the run's uid. */
    private Optional<RunIndex.Run> runOf(ServerRequest req, Execution x) {
        for (var c : ui.metadata().contextsByExecution(x.id())) {
            if (!c.type().equals("system.PipelineRun")) continue;
            for (var r : ui.runs().all(Duration.ofSeconds(10))) {
                if (r.uid().equals(c.name()) && ui.canView(req, r.namespace())) return Optional.of(r);
            }
        }
        return Optional.empty();
    }

    private List<Resource> servingVersion(String ns, String versionId) {
        var out = new ArrayList<Resource>();
        for (var s : list(EndpointPages.KIND, ns)) {
            var source = s.status().field("modelSource").map(n -> n.path("modelVersionId").asText("")).orElse("");
            if (source.equals(versionId) || (source.isEmpty() && versionId.equals(s.metadata().labels().get(ModelPages.VERSION_LABEL)))) out.add(s);
        }
        return out;
    }

    private List<Resource> list(String kind, String ns) {
        return ui.store().list(new ListQuery(kind, Optional.of(ns), LabelSelector.EVERYTHING, ListQuery.MAX_LIMIT, Optional.empty())).items();
    }

    private static String displayName(Artifact a) {
        return text(a.customProperties().get("display_name")).filter(s -> !s.isEmpty()).orElse(a.name().isEmpty() ? "artifact " + a.id() : a.name());
    }

    private static Optional<String> text(PropertyValue v) {
        return v instanceof PropertyValue.StringValue s ? Optional.of(s.value()) : Optional.empty();
    }

    private static long id(String text, String field) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new InvalidSpecException(field + ": a registry id is a number, not '" + text + "'");
        }
    }
}
