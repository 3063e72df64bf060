package io.capstan.ui;

import java.util.Map;

/** Draws a laid-out {@link Dag} as SVG: one focusable group per node, coloured by its state, that opens the side panel. */
final class DagSvg {
    /** A node's state as the run reports it, and for a loop or nested DAG its children's counts (such as "3/4 succeeded"). */
    record NodeState(String state, String detail) {
    }

    private DagSvg() {
    }

    static String render(String runPath, Dag dag, DagLayout.Placed placed, Map<String, NodeState> states, String selected) {
        var sb = new StringBuilder(256 + dag.nodes().size() * 420);
        sb.append("<svg class=\"dag\" role=\"group\" aria-label=\"Pipeline graph, ").append(dag.nodes().size())
                .append(" tasks\" xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(f(placed.width()))
                .append("\" height=\"").append(f(placed.height())).append("\" viewBox=\"0 0 ").append(f(placed.width())).append(' ')
                .append(f(placed.height())).append("\">")
                .append("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"6\" markerHeight=\"6\" orient=\"auto-start-reverse\">")
                .append("<path d=\"M 0 0 L 10 5 L 0 10 z\"/></marker></defs><g class=\"edges\">");
        for (var e : placed.edges()) {
            if (e.points().isEmpty()) continue;
            sb.append("<polyline marker-end=\"url(#arrow)\" points=\"");
            for (var p : e.points()) sb.append(f(p[0])).append(',').append(f(p[1])).append(' ');
            sb.append("\"/>");
        }
        sb.append("</g>");
        for (var n : dag.nodes()) {
            var box = placed.boxes().get(n.name());
            var st = states.getOrDefault(n.name(), new NodeState("PENDING", ""));
            var label = Html.stateLabel(st.state());
            var name = Html.esc(n.name());
            var href = runPath + "?node=" + Html.url(n.name());
            sb.append("<g class=\"node ").append(Html.stateClass(st.state())).append(n.kind() == Dag.Kind.TASK ? "" : " group")
                    .append(n.name().equals(selected) ? " selected" : "")
                    .append("\" id=\"node-").append(name).append("\" data-task=\"").append(name).append("\" data-state=\"")
                    .append(Html.esc(label)).append("\" tabindex=\"0\" role=\"button\" aria-label=\"")
                    .append(name).append(": ").append(Html.esc(label)).append(st.detail().isEmpty() ? "" : ", " + Html.esc(st.detail()))
                    .append("\" hx-get=\"").append(runPath).append("/nodes/").append(Html.esc(Html.url(n.name())))
                    .append("\" hx-target=\"#panel\" hx-push-url=\"").append(Html.esc(href))
                    .append("\" hx-trigger=\"click, keyup[key=='Enter']\" transform=\"translate(")
                    .append(f(box.x())).append(',').append(f(box.y())).append(")\">")
                    .append("<rect rx=\"6\" width=\"").append(f(box.width())).append("\" height=\"").append(f(box.height())).append("\"/>")
                    .append("<text x=\"10\" y=\"").append(st.detail().isEmpty() ? 22 : 15).append("\">").append(name)
                    .append(n.kind() == Dag.Kind.LOOP ? " ⟳" : n.kind() == Dag.Kind.DAG ? " ▣" : "").append("</text>");
            if (!st.detail().isEmpty()) sb.append("<text class=\"detail\" x=\"10\" y=\"29\">").append(Html.esc(st.detail())).append("</text>");
            sb.append("<title>").append(name).append(": ").append(Html.esc(label)).append("</title></g>");
        }
        return sb.append("</svg>").toString();
    }

    private static String f(double v) {
        return Long.toString(Math.round(v));
    }
}
