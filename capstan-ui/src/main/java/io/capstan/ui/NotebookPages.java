package io.capstan.ui;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Resource;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.time.Instant;
import java.util.Comparator;

/** Kubeflow's Notebooks: each with its state, its last activity and a link that connects to its server. */
final class NotebookPages {
    static final String KIND = "Notebook";
    private static final String STOPPED_ANNOTATION = "kubeflow-resource-stopped";
    private static final String LAST_ACTIVITY_ANNOTATION = "notebooks.kubeflow.org/last-activity";

    private final UiContext ui;

    NotebookPages(UiContext ui) {
        this.ui = ui;
    }

    void list(ServerRequest req, ServerResponse res) {
        var notebooks = ui.visible(req, KIND);
        notebooks.sort(Comparator.comparing((Resource r) -> r.metadata().namespace()).thenComparing(r -> r.metadata().name()));
        var sb = new StringBuilder("<h1>Notebooks</h1>");
        if (notebooks.isEmpty()) {
            sb.append(Layout.empty("No notebooks.", "Start one with <code>capstan notebooks create NAME</code> or apply a "
                    + "<code>kubeflow.org/v1</code> Notebook; it appears here with its state and a link to connect."));
            res.send(Layout.page(req, "Notebooks", "/notebooks", sb.toString()));
            return;
        }
        sb.append("<table class=\"notebooks\"><caption>Notebook servers you may see, by namespace</caption><thead><tr>")
                .append("<th scope=\"col\">Notebook</th><th scope=\"col\">Namespace</th><th scope=\"col\">Image</th><th scope=\"col\">State</th>")
                .append("<th scope=\"col\">Last activity</th><th scope=\"col\">Connect</th></tr></thead><tbody>");
        for (var nb : notebooks) {
            var ns = nb.metadata().namespace();
            var name = nb.metadata().name();
            var state = state(nb);
            var message = nb.status().conditions().stream().filter(c -> c.message() != null && !c.message().isEmpty() && c.status() == io.capstan.core.Condition.Status.False)
                    .map(io.capstan.core.Condition::message).findFirst().orElse("");
            sb.append("<tr data-notebook=\"").append(Html.esc(ns + "/" + name)).append("\"><th scope=\"row\">").append(Html.esc(name))
                    .append("</th><td>").append(Html.esc(ns)).append("</td><td><code>").append(Html.esc(image(nb))).append("</code></td><td class=\"state\">")
                    .append(Html.badge(state)).append(message.isEmpty() ? "" : " <span class=\"hint\">" + Html.esc(message) + "</span>")
                    .append("</td><td class=\"activity\">").append(lastActivity(nb)).append("</td><td>");
            var url = "/notebook/" + Html.url(ns) + "/" + Html.url(name) + "/";
            if (state.equals("Running")) {
                sb.append("<a class=\"connect\" href=\"").append(url).append("\" target=\"_blank\" rel=\"noopener\" aria-label=\"Connect to notebook ")
                        .append(Html.esc(ns + "/" + name)).append(" (opens a new tab)\">Connect</a>");
            } else {
                sb.append("<span class=\"connect disabled\" aria-disabled=\"true\">Connect when running</span>");
            }
            sb.append("</td></tr>");
        }
        sb.append("</tbody></table>");
        res.send(Layout.page(req, "Notebooks", "/notebooks", sb.toString()));
    }

    /** Stopped when asked to stop (Kubeflow's annotation), whatever the last status said; otherwise the status phase. */
    static String state(Resource nb) {
        if (nb.metadata().annotations().containsKey(STOPPED_ANNOTATION) && !nb.status().phase().equals("Failed")) return "Stopped";
        return nb.status().phase().isEmpty() ? "Pending" : nb.status().phase();
    }

    private static String image(Resource nb) {
        var containers = nb.spec().path("template").path("spec").path("containers");
        return containers.isArray() && !containers.isEmpty() ? containers.get(0).path("image").asText("") : "";
    }

    /** The last activity Jupyter reported, or the one recorded when the server was culled or stopped; with how long ago. */
    private String lastActivity(Resource nb) {
        var text = nb.status().field("lastActivity").map(JsonNode::asText).filter(s -> !s.isEmpty())
                .orElse(nb.metadata().annotations().getOrDefault(LAST_ACTIVITY_ANNOTATION, ""));
        if (text.isEmpty()) return "<span class=\"hint\">none yet</span>";
        try {
            var at = Instant.parse(text);
            return "<time datetime=\"" + Html.esc(text) + "\">" + Html.time(at) + "</time> <span class=\"hint\">("
                    + Html.duration(java.time.Duration.between(at, ui.clock().instant()).abs()) + " ago)</span>";
        } catch (java.time.format.DateTimeParseException e) {
            return Html.esc(text);
        }
    }
}
