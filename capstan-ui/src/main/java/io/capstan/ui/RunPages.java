package io.capstan.ui;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.NotFoundException;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.security.Role;
import io.helidon.http.sse.SseEvent;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.helidon.webserver.sse.SseSink;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/** {@code /runs}, {@code /runs/{id}}, a node's side panel and log, the run's live updates, and {@code /compare}. */
final class RunPages {
    static final int DEFAULT_PAGE_SIZE = 50;
    static final int MAX_PAGE_SIZE = 500;
    static final int LOG_TAIL = 500;
    private static final Duration INDEX_WAIT = Duration.ofSeconds(10);
    private static final Duration LIVE_POLL = Duration.ofMillis(300);
    private static final Duration LIVE_LIMIT = Duration.ofHours(1);
    private static final Pattern METRIC_FILTER = Pattern.compile("\\s*([^<>=!\\s]+)\\s*(>=|<=|>|<|=)\\s*(-?[0-9.eE+-]+)\\s*");
    private static final Pattern ITERATION = Pattern.compile(".*\\[\\d+\\]");

    private final UiContext ui;
    private final ArtifactPreview previews;

    RunPages(UiContext ui, ArtifactPreview previews) {
        this.ui = ui;
        this.previews = previews;
    }

    // ------------------------------------------------------------------ list

    /** What the list shows: filters, sort and page, all from the query string so that a link reproduces the view. */
    record ListView(String state, String experiment, String text, String param, String metricFilter, String sort, boolean descending,
                    int page, int size, List<String> columns) {
        static ListView of(ServerRequest req) {
            var q = req.query();
            int size = parseInt(q.first("size").orElse(""), DEFAULT_PAGE_SIZE, "size");
            if (size < 1 || size > MAX_PAGE_SIZE) throw new io.capstan.core.InvalidSpecException("size must be 1.." + MAX_PAGE_SIZE + ", got " + size);
            int page = parseInt(q.first("page").orElse(""), 0, "page");
            if (page < 0) throw new io.capstan.core.InvalidSpecException("page must be 0 or more, got " + page);
            var cols = q.first("cols").orElse("");
            var columns = cols.isBlank() ? List.<String>of() : List.of(cols.strip().split("\\s*,\\s*"));
            var metric = q.first("metric").orElse("").strip();
            if (!metric.isEmpty() && !METRIC_FILTER.matcher(metric).matches()) {
                throw new io.capstan.core.InvalidSpecException("metric filter '" + metric + "' must read NAME OP NUMBER, such as accuracy>=0.9");
            }
            var param = q.first("param").orElse("").strip();
            if (!param.isEmpty() && !param.contains("=")) {
                throw new io.capstan.core.InvalidSpecException("parameter filter '" + param + "' must read NAME=VALUE, such as seed=42");
            }
            var sort = q.first("sort").orElse("created");
            if (!(sort.equals("created") || sort.equals("name") || sort.equals("state") || sort.equals("experiment")
                    || sort.startsWith("param:") || sort.startsWith("metric:"))) {
                throw new io.capstan.core.InvalidSpecException("sort '" + sort + "' is unknown; use created, name, state, experiment, param:NAME or metric:NAME");
            }
            return new ListView(q.first("state").orElse("").strip(), q.first("experiment").orElse("").strip(), q.first("q").orElse("").strip(),
                    param, metric, sort, !q.first("order").orElse("desc").equals("asc"), page, size, columns);
        }

        String query(Map<String, String> overrides) {
            var m = new LinkedHashMap<String, String>();
            m.put("state", state);
            m.put("experiment", experiment);
            m.put("q", text);
            m.put("param", param);
            m.put("metric", metricFilter);
            m.put("cols", String.join(",", columns));
            m.put("sort", sort);
            m.put("order", descending ? "desc" : "asc");
            m.put("size", size == DEFAULT_PAGE_SIZE ? "" : Integer.toString(size));
            m.put("page", page == 0 ? "" : Integer.toString(page));
            m.putAll(overrides);
            var sb = new StringBuilder();
            m.forEach((k, v) -> {
                if (v.isEmpty() || (k.equals("sort") && v.equals("created")) || (k.equals("order") && v.equals("desc"))) return;
                sb.append(sb.isEmpty() ? "?" : "&").append(k).append('=').append(Html.url(v));
            });
            return "/runs" + sb;
        }
    }

    private static int parseInt(String text, int fallback, String name) {
        if (text.isBlank()) return fallback;
        try {
            return Integer.parseInt(text.strip());
        } catch (NumberFormatException e) {
            throw new io.capstan.core.InvalidSpecException(name + " must be a whole number, got '" + text + "'");
        }
    }

    /** The runs the view selects, sorted, before paging. */
    List<RunIndex.Run> select(ServerRequest req, ListView v) {
        var caller = UiContext.caller(req);
        var allowed = new HashMap<String, Boolean>();
        String paramName = "", paramValue = "";
        if (!v.param().isEmpty()) {
            int eq = v.param().indexOf('=');
            paramName = v.param().substring(0, eq).strip();
            paramValue = v.param().substring(eq + 1).strip();
        }
        String mName = "", mOp = "";
        double mValue = 0;
        if (!v.metricFilter().isEmpty()) {
            var m = METRIC_FILTER.matcher(v.metricFilter());
            m.matches();
            mName = m.group(1);
            mOp = m.group(2);
            mValue = Double.parseDouble(m.group(3));
        }
        var text = v.text().toLowerCase(Locale.ROOT);
        var out = new ArrayList<RunIndex.Run>();
        for (var r : ui.runs().all(INDEX_WAIT)) {
            if (r.isAttempt()) continue;
            if (!v.state().isEmpty() && !r.phase().equalsIgnoreCase(v.state())) continue;
            if (!v.experiment().isEmpty() && !r.experiment().equals(v.experiment())) continue;
            if (!text.isEmpty() && !r.name().toLowerCase(Locale.ROOT).contains(text) && !r.displayName().toLowerCase(Locale.ROOT).contains(text)) continue;
            if (!paramName.isEmpty() && !paramValue.equals(r.parameters().get(paramName))) continue;
            if (!mName.isEmpty()) {
                var value = r.metrics().get(mName);
                if (value == null || !compare(value, mOp, mValue)) continue;
            }
            if (!allowed.computeIfAbsent(r.namespace(), ns -> ui.policy().allows(caller, ns, Role.VIEW))) continue;
            out.add(r);
        }
        if (v.sort().startsWith("metric:")) return byMetric(out, v.sort().substring("metric:".length()), v.descending());
        out.sort(comparator(v));
        return out;
    }

    /** Sorted by one metric, runs without it last in either order; each value read once, not at every comparison. */
    private static List<RunIndex.Run> byMetric(List<RunIndex.Run> runs, String name, boolean descending) {
        record Keyed(double value, RunIndex.Run run) {
        }
        var with = new ArrayList<Keyed>(runs.size());
        var without = new ArrayList<RunIndex.Run>();
        for (var r : runs) {
            var value = r.metrics().get(name);
            if (value == null) without.add(r);
            else with.add(new Keyed(value, r));
        }
        Comparator<Keyed> order = (a, b) -> Double.compare(a.value(), b.value());
        if (descending) order = order.reversed();
        with.sort(order.thenComparing(k -> k.run().name()));
        without.sort(Comparator.comparing(RunIndex.Run::name));
        var out = new ArrayList<RunIndex.Run>(runs.size());
        with.forEach(k -> out.add(k.run()));
        out.addAll(without);
        return out;
    }

    private static boolean compare(double value, String op, double bound) {
        return switch (op) {
            case ">=" -> value >= bound;
            case "<=" -> value <= bound;
            case ">" -> value > bound;
            case "<" -> value < bound;
            default -> value == bound;
        };
    }

    private static Comparator<RunIndex.Run> comparator(ListView v) {
        Comparator<RunIndex.Run> c;
        if (v.sort().startsWith("param:")) {
            var name = v.sort().substring("param:".length());
            c = Comparator.comparing(r -> paramKey(r.parameters().getOrDefault(name, "")));
        } else {
            c = switch (v.sort()) {
                case "name" -> Comparator.comparing(RunIndex.Run::name);
                case "state" -> Comparator.comparing(RunIndex.Run::phase);
                case "experiment" -> Comparator.comparing(RunIndex.Run::experiment);
                default -> Comparator.comparing(RunIndex.Run::created);
            };
        }
        c = c.thenComparing(RunIndex.Run::name);
        return v.descending() ? c.reversed() : c;
    }

    /** Numbers sort as numbers, after padding, and text as text. */
    private static String paramKey(String value) {
        try {
            double d = Double.parseDouble(value);
            return String.format(Locale.ROOT, "0%+030.10f", d);
        } catch (NumberFormatException e) {
            return "1" + value;
        }
    }

    void list(ServerRequest req, ServerResponse res) {
        var v = ListView.of(req);
        var selected = select(req, v);
        int total = selected.size();
        int from = Math.min(v.page() * v.size(), total);
        var page = selected.subList(from, Math.min(from + v.size(), total));
        var columns = v.columns().isEmpty() ? RunIndex.metricNames(page).stream().limit(4).toList() : v.columns();
        var sb = new StringBuilder(4096 + page.size() * 400);
        sb.append("<h1>Runs</h1>");
        sb.append("<form class=\"filters\" method=\"get\" action=\"/runs\" role=\"search\" aria-label=\"Filter runs\">")
                .append(field("state", "State", v.state(), "Succeeded, Failed, Running…"))
                .append(field("experiment", "Experiment", v.experiment(), "experiment id"))
                .append(field("q", "Name contains", v.text(), ""))
                .append(field("param", "Parameter", v.param(), "seed=42"))
                .append(field("metric", "Metric", v.metricFilter(), "accuracy>=0.9"))
                .append(field("cols", "Metric columns", String.join(",", v.columns()), "accuracy,loss"))
                .append("<input type=\"hidden\" name=\"sort\" value=\"").append(Html.esc(v.sort())).append("\">")
                .append("<input type=\"hidden\" name=\"order\" value=\"").append(v.descending() ? "desc" : "asc").append("\">")
                .append("<button type=\"submit\">Apply</button> <a href=\"/runs\">Clear</a></form>");
        if (total == 0) {
            sb.append(Layout.empty(ui.runs().all(INDEX_WAIT).isEmpty() ? "No runs yet." : "No run matches these filters.",
                    "Start one with <code>capstan run pipeline.yaml</code> or <code>./capstan quickstart</code>."));
            res.send(Layout.page(req, "Runs", "/runs", sb.toString()));
            return;
        }
        sb.append("<form method=\"get\" action=\"/compare\"><p class=\"count\" role=\"status\">").append(total).append(total == 1 ? " run" : " runs")
                .append(", showing ").append(from + 1).append('–').append(from + page.size())
                .append(" <button type=\"submit\">Compare selected</button></p>");
        sb.append("<table class=\"runs\"><caption class=\"visually-hidden\">Runs</caption><thead><tr><th scope=\"col\"><span class=\"visually-hidden\">Select</span></th>");
        header(sb, v, "name", "Run");
        header(sb, v, "state", "State");
        header(sb, v, "experiment", "Experiment");
        header(sb, v, "created", "Created");
        sb.append("<th scope=\"col\">Duration</th>");
        for (var m : columns) header(sb, v, "metric:" + m, m);
        sb.append("</tr></thead><tbody>");
        for (var r : page) {
            var href = runHref(r);
            sb.append("<tr data-run=\"").append(Html.esc(r.name())).append("\"><td><input type=\"checkbox\" name=\"runs\" value=\"")
                    .append(Html.esc(r.namespace() + "/" + r.name())).append("\" aria-label=\"Select ").append(Html.esc(r.name())).append("\"></td>")
                    .append("<td><a href=\"").append(Html.esc(href)).append("\">").append(Html.esc(r.displayName().isEmpty() ? r.name() : r.displayName()))
                    .append("</a>").append(r.namespace().equals("default") ? "" : " <small>" + Html.esc(r.namespace()) + "</small>").append("</td>")
                    .append("<td>").append(Html.badge(r.phase())).append("</td><td>").append(Html.esc(r.experiment())).append("</td>")
                    .append("<td>").append(Html.time(r.created())).append("</td><td>")
                    .append(r.finished().isEmpty() ? "" : Html.duration(r.created().toString(), r.finished())).append("</td>");
            for (var m : columns) {
                var value = r.metrics().get(m);
                sb.append("<td class=\"num\">").append(value == null ? "" : Html.number(value)).append("</td>");
            }
            sb.append("</tr>");
        }
        sb.append("</tbody></table></form><nav class=\"pager\" aria-label=\"Pages\">");
        if (v.page() > 0) sb.append("<a rel=\"prev\" href=\"").append(Html.esc(v.query(Map.of("page", Integer.toString(v.page() - 1))))).append("\">Previous</a> ");
        sb.append("<span>Page ").append(v.page() + 1).append(" of ").append((total + v.size() - 1) / v.size()).append("</span>");
        if (from + v.size() < total) sb.append(" <a rel=\"next\" href=\"").append(Html.esc(v.query(Map.of("page", Integer.toString(v.page() + 1))))).append("\">Next</a>");
        sb.append("</nav>");
        res.send(Layout.page(req, "Runs", "/runs", sb.toString()));
    }

    private static void header(StringBuilder sb, ListView v, String key, String label) {
        boolean current = v.sort().equals(key);
        var order = current && v.descending() ? "asc" : "desc";
        sb.append("<th scope=\"col\"").append(current ? " aria-sort=\"" + (v.descending() ? "descending" : "ascending") + "\"" : "")
                .append("><a href=\"").append(Html.esc(v.query(Map.of("sort", key, "order", order, "page", "")))).append("\">")
                .append(Html.esc(label)).append(current ? (v.descending() ? " ▼" : " ▲") : "").append("</a></th>");
    }

    static String field(String name, String label, String value, String placeholder) {
        return "<label>" + Html.esc(label) + " <input name=\"" + name + "\" value=\"" + Html.esc(value) + "\" placeholder=\""
                + Html.esc(placeholder) + "\"></label> ";
    }

    static String runHref(RunIndex.Run r) {
        return "/runs/" + Html.url(r.name()) + (r.namespace().equals("default") ? "" : "?ns=" + Html.url(r.namespace()));
    }

    // ------------------------------------------------------------------ one run

    /** The run {@code name}: in namespace {@code ?ns=} when given, else the one the caller may see (default first). */
    Resource run(ServerRequest req) {
        var name = req.path().pathParameters().get("id");
        var ns = req.query().first("ns");
        if (ns.isPresent()) return latestAttempt(ui.get(req, RunIndex.KIND, ns.get(), name));
        var candidates = new ArrayList<>(ui.runs().named(name));
        if (candidates.isEmpty()) ui.runs().refresh(new ResourceKey(RunIndex.KIND, "default", name)).ifPresent(candidates::add);
        candidates.sort(Comparator.comparing((RunIndex.Run r) -> !r.namespace().equals("default")).thenComparing(RunIndex.Run::namespace));
        for (var c : candidates) {
            if (ui.canView(req, c.namespace())) {
                var found = ui.store().find(c.key());
                if (found.isPresent()) return latestAttempt(found.get());
            }
        }
        throw new NotFoundException("run '" + name + "' not found");
    }

    /** A KFP run that was retried answers with its newest attempt, as KFP's retry keeps the run id. */
    private Resource latestAttempt(Resource run) {
        var latest = run;
        var next = run.metadata().annotations().get("pipelines.capstan.io/retried-by");
        int hops = 0;
        while (next != null && !next.isEmpty() && hops++ < 100) {
            var attempt = ui.store().find(new ResourceKey(RunIndex.KIND, run.metadata().namespace(), next));
            if (attempt.isEmpty()) break;
            latest = attempt.get();
            next = latest.metadata().annotations().get("pipelines.capstan.io/retried-by");
        }
        return latest;
    }

    private static String runPath(Resource run, String id) {
        return "/runs/" + Html.url(id);
    }

    private static String nsQuery(Resource run) {
        return run.metadata().namespace().equals("default") ? "" : "?ns=" + Html.url(run.metadata().namespace());
    }

    static JsonNode tasks(Resource run) {
        return run.status().field("tasks").orElse(io.capstan.core.Json.json().createObjectNode());
    }

    /** Each root node's state; a loop or nested DAG counts its children's states. */
    static Map<String, DagSvg.NodeState> states(Dag dag, JsonNode tasks) {
        var out = new HashMap<String, DagSvg.NodeState>();
        for (var n : dag.nodes()) {
            var path = "root/" + n.name();
            var own = tasks.path(path).path("state").asText("PENDING");
            if (n.kind() == Dag.Kind.TASK) {
                out.put(n.name(), new DagSvg.NodeState(own, ""));
                continue;
            }
            var counts = new java.util.TreeMap<String, Integer>();
            int total = 0;
            var prefix = n.kind() == Dag.Kind.LOOP ? path + "[" : path + "/";
            for (var it = tasks.fieldNames(); it.hasNext(); ) {
                var key = it.next();
                if (!key.startsWith(prefix)) continue;
                var rest = key.substring(path.length());
                if (n.kind() == Dag.Kind.LOOP ? !ITERATION.matcher(rest).matches() || rest.indexOf('/') >= 0 : rest.indexOf('/', 1) >= 0) continue;
                counts.merge(Html.stateLabel(tasks.path(key).path("state").asText("PENDING")).toLowerCase(Locale.ROOT), 1, Integer::sum);
                total++;
            }
            var detail = new StringBuilder();
            int totalFinal = total;
            counts.forEach((state, count) -> detail.append(detail.isEmpty() ? "" : ", ").append(count).append('/').append(totalFinal).append(' ').append(state));
            out.put(n.name(), new DagSvg.NodeState(own, detail.toString()));
        }
        return out;
    }

    private String dagSvg(Resource run, String id, String selected) {
        var dag = Dag.of(run.spec().path("pipelineSpec"));
        var placed = ui.layouts().layout(dag);
        return DagSvg.render(runPath(run, id), dag, placed, states(dag, tasks(run)), selected) ;
    }

    void detail(ServerRequest req, ServerResponse res) {
        var run = run(req);
        var id = req.path().pathParameters().get("id");
        var node = req.query().first("node").orElse("");
        var tab = req.query().first("tab").orElse("graph");
        var phase = run.status().phase().isEmpty() ? "Pending" : run.status().phase();
        var sb = new StringBuilder(16384);
        var display = run.metadata().annotations().getOrDefault(RunIndex.ANNOTATION_DISPLAY_NAME, id);
        boolean terminal = phase.equals("Succeeded") || phase.equals("Failed") || phase.equals("Cancelled") || phase.equals("Canceled");
        // While the run is active, one SSE stream updates its phase and its graph (no polling of the page).
        boolean live = !terminal && !tab.equals("parameters");
        if (live) sb.append("<div id=\"run-live\" hx-ext=\"sse\" sse-connect=\"").append(runPath(run, id)).append("/events").append(nsQuery(run)).append("\">");
        sb.append("<h1>Run ").append(Html.esc(display)).append(" <span id=\"run-phase\"").append(live ? " sse-swap=\"phase\"" : "").append('>')
                .append(Html.badge(phase)).append("</span></h1>");
        sb.append("<dl class=\"facts\"><dt>Namespace</dt><dd>").append(Html.esc(run.metadata().namespace())).append("</dd>")
                .append("<dt>Started</dt><dd>").append(Html.time(run.status().field("startTime").map(JsonNode::asText).orElse(""))).append("</dd>")
                .append("<dt>Finished</dt><dd>").append(Html.time(run.status().field("completionTime").map(JsonNode::asText).orElse(""))).append("</dd>")
                .append("<dt>Pipeline</dt><dd>").append(Html.esc(Dag.ir(run.spec().path("pipelineSpec")).path("pipelineInfo").path("name").asText(""))).append("</dd></dl>");
        failedBanner(sb, run);
        var kfpId = run.metadata().labels().getOrDefault(RunIndex.LABEL_RETRY_OF, run.metadata().name());
        sb.append("<div class=\"actions\" role=\"group\" aria-label=\"Run actions\">");
        sb.append("<button type=\"button\" class=\"danger\" hx-post=\"/apis/v2beta1/runs/").append(Html.esc(Html.url(kfpId))).append(":terminate\"")
                .append(" hx-confirm=\"Terminate this run?\" hx-swap=\"none\" hx-on::after-request=\"capstan.afterAction(event)\"")
                .append(terminal ? " disabled" : "").append(">Terminate</button> ");
        sb.append("<button type=\"button\" hx-post=\"/apis/v2beta1/runs/").append(Html.esc(Html.url(kfpId))).append(":retry\"")
                .append(" hx-swap=\"none\" hx-on::after-request=\"capstan.afterAction(event)\"")
                .append(phase.equals("Failed") || phase.equals("Cancelled") || phase.equals("Canceled") ? "" : " disabled").append(">Retry</button>")
                .append("<span id=\"action-result\" role=\"status\"></span></div>");
        var base = runPath(run, id);
        sb.append("<div role=\"tablist\" class=\"tabs\" aria-label=\"Run views\">");
        for (var t : List.of(new String[]{"graph", "Graph"}, new String[]{"parameters", "Parameters and metrics"})) {
            boolean on = t[0].equals(tab);
            sb.append("<a role=\"tab\" aria-selected=\"").append(on).append("\" href=\"").append(base).append("?tab=").append(t[0])
                    .append(nsQuery(run).replace('?', '&')).append("\">").append(t[1]).append("</a>");
        }
        sb.append("</div>");
        if (tab.equals("parameters")) {
            var summary = RunIndex.summary(run);
            sb.append("<section role=\"tabpanel\"><h2>Parameters</h2>").append(table(summary.parameters()))
                    .append("<h2>Metrics</h2>").append(summary.metrics().isEmpty() ? Layout.empty("No metrics.", "Steps that write a <code>system.Metrics</code> artifact show their numbers here.")
                            : table(numbers(summary.metrics()))).append("</section>");
            res.send(Layout.page(req, "Run " + id, "/runs", sb.toString()));
            return;
        }
        var dag = Dag.of(run.spec().path("pipelineSpec"));
        sb.append("<div class=\"run-view\" role=\"tabpanel\"><section class=\"graph\" aria-label=\"Pipeline graph\">");
        var swap = live ? " sse-swap=\"dag\"" : "";
        if (dag.nodes().isEmpty()) {
            sb.append(Layout.empty("This pipeline has no tasks.", "Its root DAG is empty."));
        } else if (ui.layouts().isCached(dag) || dag.nodes().size() <= 300) {
            sb.append("<div id=\"dag\"").append(swap).append('>').append(dagSvg(run, id, node)).append("</div>");
        } else {
            // A large pipeline seen for the first time: the page answers at once and the graph follows when laid out.
            sb.append("<div id=\"dag\"").append(swap).append(" hx-get=\"").append(base).append("/dag").append(nsQuery(run).isEmpty() ? "?" : nsQuery(run) + "&")
                    .append("node=").append(Html.url(node)).append("\" hx-trigger=\"load\"><p role=\"status\">Laying out ").append(dag.nodes().size())
                    .append(" tasks…</p></div>");
        }
        sb.append("</section><aside id=\"panel\" class=\"panel\" aria-label=\"Selected task\" aria-live=\"polite\">");
        if (node.isEmpty()) sb.append("<p class=\"hint\">Select a task to see its inputs, outputs, artifacts and log.</p>");
        else sb.append(panel(run, id, node));
        sb.append("</aside></div>");
        if (live) sb.append("</div>");
        res.send(Layout.page(req, "Run " + id, "/runs", sb.toString()));
    }

    void dagFragment(ServerRequest req, ServerResponse res) {
        var run = run(req);
        res.send(dagSvg(run, req.path().pathParameters().get("id"), req.query().first("node").orElse("")));
    }

    private static Map<String, String> numbers(Map<String, Double> metrics) {
        var out = new LinkedHashMap<String, String>();
        metrics.forEach((k, v) -> out.put(k, Html.number(v)));
        return out;
    }

    static String table(Map<String, String> values) {
        if (values.isEmpty()) return "<p class=\"none\">None.</p>";
        var sb = new StringBuilder("<table class=\"kv\"><tbody>");
        values.forEach((k, v) -> sb.append("<tr><th scope=\"row\">").append(Html.esc(k)).append("</th><td>").append(Html.esc(v)).append("</td></tr>"));
        return sb.append("</tbody></table>").toString();
    }

    /** The first failed step (by end time), its error and its last log lines. */
    private void failedBanner(StringBuilder sb, Resource run) {
        if (!run.status().phase().equals("Failed")) return;
        var tasks = tasks(run);
        String first = null;
        String firstEnd = null;
        for (var it = tasks.fields(); it.hasNext(); ) {
            var e = it.next();
            var t = e.getValue();
            if (!t.path("state").asText().equals("FAILED") || t.path("workloadId").asText("").isEmpty()) continue;
            var end = t.path("endTime").asText("");
            if (first == null || end.compareTo(firstEnd) < 0) {
                first = e.getKey();
                firstEnd = end;
            }
        }
        sb.append("<section class=\"banner failed\" role=\"alert\"><h2>Why it failed</h2>");
        if (first == null) {
            sb.append("<p>").append(Html.esc(run.status().field("message").map(JsonNode::asText).orElse("The run failed before any step ran."))).append("</p></section>");
            return;
        }
        var t = tasks.path(first);
        var step = first.startsWith("root/") ? first.substring(5) : first;
        sb.append("<p>Step <a href=\"?node=").append(Html.esc(Html.url(step))).append(nsQuery(run).replace('?', '&')).append("\"><strong>")
                .append(Html.esc(step)).append("</strong></a> failed");
        var message = t.path("message").asText("");
        if (!message.isEmpty()) sb.append(": ").append(Html.esc(message));
        sb.append("</p>");
        var lines = ui.tail(t.path("workloadId").asText(), 15);
        if (!lines.isEmpty()) {
            sb.append("<pre class=\"log\" aria-label=\"Last log lines of ").append(Html.esc(step)).append("\">");
            lines.forEach(l -> sb.append(Html.esc(l.text())).append('\n'));
            sb.append("</pre>");
        }
        sb.append("</section>");
    }

    // ------------------------------------------------------------------ node panel and log

    void node(ServerRequest req, ServerResponse res) {
        var run = run(req);
        var id = req.path().pathParameters().get("id");
        var task = req.path().pathParameters().get("task");
        if (req.headers().first(io.helidon.http.HeaderNames.create("HX-Request")).isEmpty()) {
            res.status(io.helidon.http.Status.SEE_OTHER_303);
            res.header(io.helidon.http.HeaderNames.LOCATION, runPath(run, id) + "?node=" + Html.url(task) + nsQuery(run).replace('?', '&'));
            res.send();
            return;
        }
        res.send(panel(run, id, task));
    }

    private String panel(Resource run, String id, String task) {
        var tasks = tasks(run);
        var path = "root/" + task;
        var t = tasks.path(path);
        var sb = new StringBuilder(4096);
        sb.append("<h2 id=\"panel-title\">").append(Html.esc(task)).append(' ').append(Html.badge(t.path("state").asText("PENDING"))).append("</h2>");
        if (t.isMissingNode()) {
            sb.append(Layout.empty("This task has not started.", "It starts once the tasks it depends on have finished."));
            return sb.toString();
        }
        sb.append("<dl class=\"facts\">")
                .append("<dt>Started</dt><dd>").append(Html.time(t.path("startTime").asText(""))).append("</dd>")
                .append("<dt>Finished</dt><dd>").append(Html.time(t.path("endTime").asText(""))).append("</dd>")
                .append("<dt>Duration</dt><dd>").append(Html.duration(t.path("startTime").asText(""), t.path("endTime").asText(""))).append("</dd>")
                .append("<dt>Cache</dt><dd>").append(t.path("state").asText().equals("CACHED") ? "hit: reused an earlier run's outputs"
                        : t.path("cacheKey").asText("").isEmpty() ? "not cached" : "miss (key " + Html.esc(t.path("cacheKey").asText().substring(0, Math.min(12, t.path("cacheKey").asText().length()))) + "…)")
                .append("</dd>");
        if (t.path("attempts").asInt(0) > 1) sb.append("<dt>Attempts</dt><dd>").append(t.path("attempts").asInt()).append("</dd>");
        if (!t.path("image").asText("").isEmpty()) sb.append("<dt>Image</dt><dd>").append(Html.esc(t.path("image").asText())).append("</dd>");
        sb.append("</dl>");
        if (!t.path("message").asText("").isEmpty()) sb.append("<p class=\"message\">").append(Html.esc(t.path("message").asText())).append("</p>");
        // Children of a loop or nested DAG: one link each.
        var children = new ArrayList<String>();
        for (var it = tasks.fieldNames(); it.hasNext(); ) {
            var key = it.next();
            if ((key.startsWith(path + "[") || key.startsWith(path + "/")) && key.substring(path.length()).indexOf('/', 1) < 0) children.add(key);
        }
        if (!children.isEmpty()) {
            children.sort(Comparator.comparing(RunPages::iterationOrder));
            sb.append("<h3>").append(children.getFirst().charAt(path.length()) == '[' ? "Iterations" : "Tasks").append("</h3><ul class=\"children\">");
            for (var c : children) {
                var rel = c.substring(5);
                sb.append("<li><a href=\"").append(runPath(run, id)).append("?node=").append(Html.esc(Html.url(rel))).append(nsQuery(run).replace('?', '&'))
                        .append("\" hx-get=\"").append(runPath(run, id)).append("/nodes/").append(Html.esc(Html.url(rel))).append(nsQuery(run))
                        .append("\" hx-target=\"#panel\" hx-push-url=\"").append(runPath(run, id)).append("?node=").append(Html.esc(Html.url(rel))).append("\">")
                        .append(Html.esc(rel.substring(task.length()))).append("</a> ").append(Html.badge(tasks.path(c).path("state").asText())).append("</li>");
            }
            sb.append("</ul>");
        }
        sb.append("<h3>Inputs</h3>").append(table(values(t.path("inputs"))));
        artifacts(sb, t.path("inputArtifacts"), null);
        sb.append("<h3>Outputs</h3>").append(table(values(t.path("outputs").path("parameters"))));
        artifacts(sb, t.path("outputs").path("artifacts"), runPath(run, id) + "/preview?task=" + Html.url(task)
                + nsQuery(run).replace('?', '&'));
        var workload = t.path("workloadId").asText("");
        sb.append("<h3>Log</h3>");
        if (workload.isEmpty()) {
            sb.append(Layout.empty("No log.", children.isEmpty() ? "This task ran no process (cache hit, skipped or not started)." : "Open one of its tasks above to see its log."));
        } else {
            var logUrl = runPath(run, id) + "/nodes/" + Html.url(task) + "/log" + nsQuery(run);
            sb.append("<pre id=\"log\" class=\"log\" tabindex=\"0\" aria-label=\"Log of ").append(Html.esc(task)).append("\" hx-ext=\"sse\" sse-connect=\"")
                    .append(Html.esc(logUrl)).append("\" sse-swap=\"line\" hx-swap=\"beforeend\" sse-close=\"end\"></pre>");
        }
        return sb.toString();
    }

    private static String iterationOrder(String key) {
        var m = java.util.regex.Pattern.compile("\\[(\\d+)\\]").matcher(key);
        return m.find() ? key.substring(0, m.start()) + String.format(Locale.ROOT, "[%08d]", Integer.parseInt(m.group(1))) : key;
    }

    private static Map<String, String> values(JsonNode object) {
        var out = new LinkedHashMap<String, String>();
        object.fields().forEachRemaining(e -> out.put(e.getKey(), RunIndex.text(e.getValue())));
        return out;
    }

    /** @param preview the preview route of these artifacts (with {@code task}), or null for none */
    private static void artifacts(StringBuilder sb, JsonNode byName, String preview) {
        if (byName.isEmpty()) return;
        sb.append("<table class=\"artifacts\"><thead><tr><th scope=\"col\">Artifact</th><th scope=\"col\">Type</th><th scope=\"col\">URI</th><th scope=\"col\">Metadata</th></tr></thead><tbody>");
        byName.fields().forEachRemaining(e -> {
            int index = 0;
            for (var a : e.getValue()) {
                var type = a.path("type").isObject() ? a.path("type").path("schemaTitle").asText("") : a.path("type").asText("");
                sb.append("<tr><th scope=\"row\">").append(Html.esc(e.getKey())).append("</th><td>").append(Html.esc(type)).append("</td><td><code>")
                        .append(Html.esc(a.path("uri").asText(""))).append("</code></td><td>");
                if (a.path("metadata").isObject() && !a.path("metadata").isEmpty()) sb.append(table(values(a.path("metadata"))));
                sb.append("</td></tr>");
                if (preview != null) {
                    // Loaded when opened, so that a panel with many artifacts reads none of them until asked.
                    var url = preview + "&output=" + Html.url(e.getKey()) + "&index=" + index;
                    sb.append("<tr class=\"preview-row\"><td colspan=\"4\"><details class=\"artifact-preview\" data-artifact=\"").append(Html.esc(e.getKey()))
                            .append("\" hx-get=\"").append(Html.esc(url)).append("\" hx-trigger=\"toggle once\" hx-target=\"find .preview-body\">")
                            .append("<summary>Preview of ").append(Html.esc(e.getKey())).append("</summary><div class=\"preview-body\" aria-live=\"polite\">Loading…</div></details></td></tr>");
                }
                index++;
            }
        });
        sb.append("</tbody></table>");
    }

    /** GET /runs/{id}/preview?task=..&amp;output=..&amp;index=..: the preview of one of a task's output artifacts. */
    void preview(ServerRequest req, ServerResponse res) {
        var run = run(req);
        var task = req.query().first("task").orElse("");
        var output = req.query().first("output").orElse("");
        int index;
        try {
            index = Integer.parseInt(req.query().first("index").orElse("0"));
        } catch (NumberFormatException e) {
            throw new io.capstan.core.InvalidSpecException("index must be a whole number, got '" + io.capstan.core.Names.printable(req.query().first("index").orElse("")) + "'");
        }
        var artifact = tasks(run).path("root/" + task).path("outputs").path("artifacts").path(output).path(index);
        if (!artifact.isObject()) {
            throw new NotFoundException("task '" + io.capstan.core.Names.printable(task) + "' of run " + run.metadata().name()
                    + " has no output artifact '" + io.capstan.core.Names.printable(output) + "' #" + index);
        }
        res.send(previews.render(run, artifact));
    }

    /** The step's log over SSE: its last lines, then new ones while it runs; {@code end} once it finished. */
    void log(ServerRequest req, ServerResponse res) {
        var run = run(req);
        var task = req.path().pathParameters().get("task");
        var workload = tasks(run).path("root/" + task).path("workloadId").asText("");
        var deadline = ui.clock().instant().plus(LIVE_LIMIT);
        try (var sink = res.sink(SseSink.TYPE)) {
            if (workload.isEmpty() || ui.backend().find(workload).isEmpty() && !runIsActive(run)) {
                if (!workload.isEmpty()) sink.emit(SseEvent.builder().name("line").data("(this step's log is no longer kept by the backend)&#10;").build());
                sink.emit(SseEvent.builder().name("end").data("").build());
                return;
            }
            var lines = ui.tail(workload, LOG_TAIL);
            long next = lines.isEmpty() ? 0 : lines.getLast().number() + 1;
            emitLines(sink, lines);
            while (ui.clock().instant().isBefore(deadline)) {
                var state = ui.backend().find(workload);
                if (state.isEmpty()) {
                    // Not launched yet (its id is recorded first), or forgotten: wait while the run is active.
                    if (!runIsActive(run)) break;
                    java.util.concurrent.locks.LockSupport.parkNanos(LIVE_POLL.toNanos());
                    continue;
                }
                List<io.capstan.backend.LogLine> more;
                try {
                    more = ui.backend().follow(workload, next, Duration.ofSeconds(1));
                } catch (NotFoundException e) {
                    break;
                }
                if (!more.isEmpty()) next = more.getLast().number() + 1;
                emitLines(sink, more);
                if (more.isEmpty() && state.get().phase().isTerminal()) break;
            }
            sink.emit(SseEvent.builder().name("end").data("").build());
        } catch (java.io.UncheckedIOException e) {
            // The browser went away.
        }
    }

    private boolean runIsActive(Resource run) {
        var fresh = ui.store().find(run.key());
        return fresh.isPresent() && !Set.of("Succeeded", "Failed", "Cancelled", "Canceled").contains(fresh.get().status().phase());
    }

    static void emitLines(SseSink sink, List<io.capstan.backend.LogLine> lines) {
        if (lines.isEmpty()) return;
        var sb = new StringBuilder();
        for (var l : lines) sb.append(Html.esc(l.text())).append("&#10;");
        // One event per batch; a newline inside SSE data would start a new field, so lines are joined with an entity.
        sink.emit(SseEvent.builder().name("line").data(sb.toString()).build());
    }

    /** While the run is active: its graph and phase again whenever its status changes; then a last update. */
    void events(ServerRequest req, ServerResponse res) {
        var run = run(req);
        var id = req.path().pathParameters().get("id");
        var deadline = ui.clock().instant().plus(LIVE_LIMIT);
        var version = run.metadata().resourceVersion();
        try (var sink = res.sink(SseSink.TYPE)) {
            sink.emit(SseEvent.builder().comment("following run " + id).build());
            while (ui.clock().instant().isBefore(deadline)) {
                java.util.concurrent.locks.LockSupport.parkNanos(LIVE_POLL.toNanos());
                var now = ui.store().resourceVersion(run.key());
                if (now.isEmpty()) break;
                if (now.get().equals(version)) continue;
                var fresh = ui.store().find(run.key());
                if (fresh.isEmpty()) break;
                version = fresh.get().metadata().resourceVersion();
                sink.emit(SseEvent.builder().name("dag").data(dagSvg(fresh.get(), id, "")).build());
                var phase = fresh.get().status().phase();
                sink.emit(SseEvent.builder().name("phase").data(Html.badge(phase)).build());
                if (Set.of("Succeeded", "Failed", "Cancelled", "Canceled").contains(phase)) break;
            }
        } catch (java.io.UncheckedIOException e) {
            // The browser went away.
        }
    }

    // ------------------------------------------------------------------ compare

    void compare(ServerRequest req, ServerResponse res) {
        var refs = req.query().all("runs", List::of);
        boolean diffOnly = req.query().first("diff").map(v -> !v.equals("0") && !v.equals("false")).orElse(false);
        var runs = new ArrayList<RunIndex.Run>();
        var resources = new ArrayList<Resource>();
        for (var ref : refs) {
            for (var one : ref.split(",")) {
                if (one.isBlank()) continue;
                int slash = one.indexOf('/');
                var ns = slash < 0 ? "default" : one.substring(0, slash);
                var name = slash < 0 ? one : one.substring(slash + 1);
                var resource = ui.get(req, RunIndex.KIND, ns, name.strip());
                runs.add(RunIndex.summary(resource));
                resources.add(resource);
            }
        }
        var sb = new StringBuilder("<h1>Compare runs</h1>");
        if (runs.size() < 2) {
            sb.append(Layout.empty("Pick at least two runs.", "Tick runs on the <a href=\"/runs\">run list</a> and press <em>Compare selected</em>."));
            res.send(Layout.page(req, "Compare runs", "/runs", sb.toString()));
            return;
        }
        var query = new StringBuilder();
        runs.forEach(r -> query.append(query.isEmpty() ? "?" : "&").append("runs=").append(Html.url(r.namespace() + "/" + r.name())));
        sb.append("<p><a href=\"/compare").append(query).append(diffOnly ? "" : "&diff=1").append("\">")
                .append(diffOnly ? "Show all rows" : "Show differences only").append("</a></p>");
        var params = new java.util.TreeSet<String>();
        var metrics = new java.util.TreeSet<String>();
        runs.forEach(r -> {
            params.addAll(r.parameters().keySet());
            metrics.addAll(r.metrics().keySet());
        });
        sb.append("<table class=\"compare\"><thead><tr><th scope=\"col\">Name</th>");
        runs.forEach(r -> sb.append("<th scope=\"col\"><a href=\"").append(Html.esc(runHref(r))).append("\">").append(Html.esc(r.name())).append("</a></th>"));
        sb.append("</tr></thead><tbody><tr><th scope=\"row\">State</th>");
        runs.forEach(r -> sb.append("<td>").append(Html.badge(r.phase())).append("</td>"));
        sb.append("</tr>");
        compareRows(sb, "Parameter", params, runs, r -> r.parameters(), diffOnly);
        compareRows(sb, "Metric", metrics, runs, r -> numbers(r.metrics()), diffOnly);
        sb.append("</tbody></table>");
        if (!metrics.isEmpty()) sb.append("<h2>Metrics</h2>").append(Charts.groupedBars(runs.stream().map(RunIndex.Run::name).toList(),
                new ArrayList<>(metrics), (run, metric) -> runs.get(run).metrics().get(metric)));
        var curves = new StringBuilder();
        for (var metric : metrics) {
            var series = new LinkedHashMap<String, List<Double>>();
            for (int i = 0; i < runs.size(); i++) {
                var values = metricHistory(resources.get(i), metric);
                if (!values.isEmpty()) series.put(runs.get(i).name(), values);
            }
            if (series.values().stream().anyMatch(v -> v.size() > 1)) {
                curves.append("<figure class=\"curves\" data-metric=\"").append(Html.esc(metric)).append("\"><figcaption>").append(Html.esc(metric))
                        .append(" by report, one line per run</figcaption>").append(Charts.overlay(metric + " of each run, overlaid", series)).append("</figure>");
            }
        }
        if (!curves.isEmpty()) sb.append("<h2>Metric curves</h2>").append(curves);
        res.send(Layout.page(req, "Compare runs", "/runs", sb.toString()));
    }

    /**
     * A run's history of one metric: each value its steps' metrics artifacts reported, in the order the steps finished
     * (a loop's iterations by index when they finished together), so that an epoch-by-epoch or per-iteration metric
     * draws as a curve.
     */
    static List<Double> metricHistory(Resource run, String metric) {
        record Report(String end, String key, double value) {
        }
        var reports = new ArrayList<Report>();
        tasks(run).properties().forEach(t -> t.getValue().path("outputs").path("artifacts").properties().forEach(a -> {
            for (var artifact : a.getValue()) {
                var type = artifact.path("type").isObject() ? artifact.path("type").path("schemaTitle").asText("") : artifact.path("type").asText("");
                if (!type.equals("system.Metrics")) continue;
                var v = artifact.path("metadata").path(metric);
                if (v.isNumber()) reports.add(new Report(t.getValue().path("endTime").asText(""), iterationOrder(t.getKey()), v.asDouble()));
            }
        }));
        reports.sort(Comparator.comparing(Report::end).thenComparing(Report::key));
        return reports.stream().map(Report::value).toList();
    }

    private static void compareRows(StringBuilder sb, String what, java.util.Set<String> names, List<RunIndex.Run> runs,
                                    java.util.function.Function<RunIndex.Run, Map<String, String>> values, boolean diffOnly) {
        for (var name : names) {
            var distinct = new java.util.HashSet<String>();
            runs.forEach(r -> distinct.add(values.apply(r).getOrDefault(name, "")));
            boolean differs = distinct.size() > 1;
            if (diffOnly && !differs) continue;
            sb.append("<tr").append(differs ? " class=\"differs\"" : "").append("><th scope=\"row\">").append(what).append(' ').append(Html.esc(name)).append("</th>");
            runs.forEach(r -> sb.append("<td>").append(Html.esc(values.apply(r).getOrDefault(name, ""))).append("</td>"));
            sb.append("</tr>");
        }
    }

}
