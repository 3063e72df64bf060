package io.capstan.ui;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.NotFoundException;
import io.capstan.core.Resource;
import io.capstan.registry.ModelRegistry;
import io.capstan.store.LabelSelector;
import io.capstan.store.ListQuery;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The Model Registry: registered models, and one with its versions, their artifacts, its aliases, the InferenceServices
 * serving it and a deploy button per version and alias, which posts to the registry's {@code :deploy} with the CSRF header.
 */
final class ModelPages {
    /** The label the registry's deployer puts on the InferenceServices it makes (upstream's controller label). */
    static final String MODEL_LABEL = "modelregistry.kubeflow.org/registered-model-id";
    static final String VERSION_LABEL = "modelregistry.kubeflow.org/model-version-id";

    private final UiContext ui;
    /** Null where the server runs without a registry. */
    private final ModelRegistry registry;

    ModelPages(UiContext ui, ModelRegistry registry) {
        this.ui = ui;
        this.registry = registry;
    }

    void list(ServerRequest req, ServerResponse res) {
        var sb = new StringBuilder("<h1>Models</h1>");
        var rows = new ArrayList<JsonNode>();
        var namespaces = new ArrayList<String>();
        if (registry != null) {
            for (var ns : registry.namespaces()) {
                if (!ui.canView(req, ns)) continue;
                for (var m : registry.models(ns)) {
                    rows.add(m);
                    namespaces.add(ns);
                }
            }
        }
        if (rows.isEmpty()) {
            sb.append(Layout.empty("No registered models yet.", "Register one with <code>capstan models register model.onnx --name iris --version v1 --format onnx</code>"
                    + " or the Model Registry API; <code>./capstan quickstart</code> registers the iris model."));
        } else {
            sb.append("<table><thead><tr><th scope=\"col\">Model</th><th scope=\"col\">Namespace</th><th scope=\"col\">State</th>")
                    .append("<th scope=\"col\">Owner</th><th scope=\"col\">Updated</th></tr></thead><tbody>");
            for (int i = 0; i < rows.size(); i++) {
                var m = rows.get(i);
                var ns = namespaces.get(i);
                sb.append("<tr><td><a href=\"").append(href(ns, m.path("id").asText())).append("\">").append(Html.esc(m.path("name").asText())).append("</a>")
                        .append(m.hasNonNull("description") ? " <small>" + Html.esc(m.path("description").asText()) + "</small>" : "")
                        .append("</td><td>").append(Html.esc(ns)).append("</td><td>").append(Html.badge(m.path("state").asText("LIVE")))
                        .append("</td><td>").append(Html.esc(m.path("owner").asText(""))).append("</td><td>").append(epoch(m.path("lastUpdateTimeSinceEpoch").asText()))
                        .append("</td></tr>");
            }
            sb.append("</tbody></table>");
        }
        res.send(Layout.page(req, "Models", "/models", sb.toString()));
    }

    static String href(String ns, String id) {
        return "/models/" + Html.url(ns) + "/" + Html.url(id);
    }

    void detail(ServerRequest req, ServerResponse res) {
        var ns = req.path().pathParameters().get("ns");
        var rawId = req.path().pathParameters().get("id");
        long id;
        try {
            id = Long.parseLong(rawId);
        } catch (NumberFormatException e) {
            throw new InvalidSpecException("id: a registered model's id is a number, not '" + rawId + "'");
        }
        var missing = new NotFoundException("registered model " + id + " not found in namespace '" + ns + "'");
        if (registry == null || !ui.canView(req, ns)) throw missing;
        var model = registry.model(ns, id).orElseThrow(() -> missing);
        var name = model.path("name").asText();
        var versionNames = new java.util.HashMap<String, String>();
        for (var v : model.path("versions")) versionNames.put(v.path("id").asText(), v.path("name").asText());
        var aliasesOf = new java.util.HashMap<String, List<String>>();
        model.path("aliases").properties().forEach(e -> aliasesOf.computeIfAbsent(e.getValue().asText(), k -> new ArrayList<>()).add(e.getKey()));

        var sb = new StringBuilder("<h1>Registered model ").append(Html.esc(name)).append(' ').append(Html.badge(model.path("state").asText("LIVE"))).append("</h1>");
        sb.append("<dl class=\"facts\"><dt>Namespace</dt><dd>").append(Html.esc(ns)).append("</dd><dt>Id</dt><dd>").append(Html.esc(model.path("id").asText()))
                .append("</dd><dt>Owner</dt><dd>").append(Html.esc(model.path("owner").asText(""))).append("</dd><dt>Description</dt><dd>")
                .append(Html.esc(model.path("description").asText(""))).append("</dd></dl>");

        sb.append("<h2>Aliases</h2>");
        if (model.path("aliases").isEmpty()) {
            sb.append(Layout.empty("No aliases.", "Point one at a version with <code>capstan models alias " + Html.esc(name) + " champion VERSION</code>."));
        } else {
            sb.append("<table id=\"aliases\"><thead><tr><th scope=\"col\">Alias</th><th scope=\"col\">Version</th><th scope=\"col\">Serve it</th></tr></thead><tbody>");
            model.path("aliases").properties().forEach(e -> {
                var versionId = e.getValue().asText();
                sb.append("<tr><td><code>").append(Html.esc(e.getKey())).append("</code></td><td>").append(Html.esc(versionNames.getOrDefault(versionId, versionId)))
                        .append("</td><td>").append(deployButton(ns, versionId, e.getKey(), "Deploy @" + e.getKey())).append("</td></tr>");
            });
            sb.append("</tbody></table>");
        }

        sb.append("<h2>Versions</h2>");
        if (model.path("versions").isEmpty()) {
            sb.append(Layout.empty("No versions yet.", "Register one with <code>capstan models register</code>."));
        } else {
            sb.append("<table id=\"versions\"><thead><tr><th scope=\"col\">Version</th><th scope=\"col\">State</th><th scope=\"col\">Aliases</th>")
                    .append("<th scope=\"col\">Format</th><th scope=\"col\">Artifact</th><th scope=\"col\">Author</th><th scope=\"col\">Created</th><th scope=\"col\">Serve it</th></tr></thead><tbody>");
            for (var v : model.path("versions")) {
                var versionId = v.path("id").asText();
                var artifact = modelArtifact(v);
                sb.append("<tr><td><a href=\"").append(ProvenancePages.href(ns, model.path("id").asText(), versionId)).append("\">")
                        .append(Html.esc(v.path("name").asText())).append("</a></td><td>").append(Html.badge(v.path("state").asText("LIVE")))
                        .append("</td><td>").append(Html.esc(String.join(", ", aliasesOf.getOrDefault(versionId, List.of()))))
                        .append("</td><td>").append(artifact.map(a -> Html.esc(a.path("modelFormatName").asText("")) + formatVersion(a)).orElse(""))
                        .append("</td><td>").append(artifact.map(a -> "<code>" + Html.esc(a.path("uri").asText("")) + "</code>").orElse(""))
                        .append("</td><td>").append(Html.esc(v.path("author").asText(""))).append("</td><td>").append(epoch(v.path("createTimeSinceEpoch").asText()))
                        .append("</td><td>").append(deployButton(ns, versionId, null, "Deploy " + v.path("name").asText())).append("</td></tr>");
            }
            sb.append("</tbody></table>");
        }
        sb.append("<p id=\"deploy-result\" role=\"status\" aria-live=\"polite\"></p>");

        sb.append("<h2>Serving</h2>");
        var services = serving(ns, model.path("id").asText());
        if (services.isEmpty()) {
            sb.append(Layout.empty("No InferenceService serves this model.", "Deploy a version or an alias above; a service deployed with an alias follows it."));
        } else {
            sb.append("<table id=\"serving\"><thead><tr><th scope=\"col\">InferenceService</th><th scope=\"col\">State</th><th scope=\"col\">Version</th>")
                    .append("<th scope=\"col\">Storage</th></tr></thead><tbody>");
            for (var s : services) {
                var versionId = s.metadata().labels().getOrDefault(VERSION_LABEL, "");
                sb.append("<tr><td><a href=\"").append(EndpointPages.href(s)).append("\">").append(Html.esc(s.metadata().name())).append("</a></td><td>")
                        .append(Html.badge(s.status().phase())).append("</td><td>").append(Html.esc(versionNames.getOrDefault(versionId, versionId)))
                        .append("</td><td><code>").append(Html.esc(s.spec().path("predictor").path("model").path("storageUri").asText(""))).append("</code></td></tr>");
            }
            sb.append("</tbody></table>");
        }
        res.send(Layout.page(req, "Model " + name, "/models", sb.toString()));
    }

    /** A button that asks the registry to deploy a version (following {@code alias} if given); app.js posts it as JSON. */
    private static String deployButton(String ns, String versionId, String alias, String label) {
        var url = ModelRegistry.BASE_PATH + "/model_versions/" + Html.url(versionId) + ":deploy?namespace=" + Html.url(ns);
        var body = alias == null ? "{}" : io.capstan.core.Json.json().createObjectNode().put("alias", alias).toString();
        return "<button type=\"button\" class=\"deploy\" data-deploy-url=\"" + Html.esc(url) + "\" data-deploy-body=\"" + Html.esc(body) + "\">"
                + Html.esc(label) + "</button>";
    }

    private static Optional<JsonNode> modelArtifact(JsonNode version) {
        for (var a : version.path("artifacts")) if ("model-artifact".equals(a.path("artifactType").asText())) return Optional.of(a);
        return Optional.empty();
    }

    private static String formatVersion(JsonNode artifact) {
        return artifact.hasNonNull("modelFormatVersion") ? " " + Html.esc(artifact.path("modelFormatVersion").asText()) : "";
    }

    private List<Resource> serving(String ns, String modelId) {
        var selector = LabelSelector.parse(MODEL_LABEL + "=" + modelId);
        return ui.store().list(new ListQuery(EndpointPages.KIND, Optional.of(ns), selector, ListQuery.MAX_LIMIT, Optional.empty())).items();
    }

    private static String epoch(String millis) {
        try {
            return Html.time(java.time.Instant.ofEpochMilli(Long.parseLong(millis)));
        } catch (NumberFormatException e) {
            return "";
        }
    }

}
