package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.Json;
import io.capstan.ui.UiSession;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The UI's pages through a real server, read as HTML without a browser: login with a token (query, form, cookie),
 * CSRF on cookie-authenticated changes, and each page's content and empty state, with the iris pipeline's run as data.
 */
class UiPagesTest {
    @TempDir
    static Path home;
    static TestServer server;
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() throws Exception {
        server = new TestServer(home);
        var root = Path.of("").toAbsolutePath().getParent();
        var body = Json.json().createObjectNode();
        body.put("apiVersion", "pipelines.capstan.io/v1");
        body.put("kind", "PipelineRun");
        body.putObject("metadata").put("name", "iris");
        var spec = body.putObject("spec");
        spec.put("pipelineSpec", Files.readString(root.resolve("examples/iris/iris-pipeline.yaml")));
        spec.putObject("parameters").put("source", root.resolve("examples/iris/iris.csv").toString());
        assertThat(server.send("POST", "/apis/capstan/v1/apply", body.toString(), "application/json").status()).isEqualTo(200);
        server.await("/apis/capstan/v1/namespaces/default/pipelineruns/iris",
                r -> Set.of("Succeeded", "Failed").contains(r.path("status").path("phase").asText()), Duration.ofSeconds(120));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static HttpResponse<String> get(String path, Map<String, String> headers) throws Exception {
        var b = HttpRequest.newBuilder(URI.create(server.server.url() + path)).timeout(Duration.ofSeconds(30)).GET();
        headers.forEach(b::header);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static String cookie() {
        return UiSession.COOKIE + "=" + server.adminToken();
    }

    static Document page(String path) throws Exception {
        var res = get(path, Map.of("Cookie", cookie()));
        assertThat(res.statusCode()).as(path + ": " + res.body()).isEqualTo(200);
        assertThat(res.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");
        var doc = Jsoup.parse(res.body(), server.server.url() + path);
        // Every page has one main landmark, labelled navigation and a title.
        assertThat(doc.select("main#main")).hasSize(1);
        assertThat(doc.select("nav[aria-label=Main] a")).isNotEmpty();
        assertThat(doc.title()).endsWith("· Capstan");
        assertThat(doc.select("h1")).hasSize(1);
        return doc;
    }

    @Test
    void aPageWithoutATokenSendsTheBrowserToTheLoginPage() throws Exception {
        var res = get("/runs?state=Succeeded", Map.of());
        assertThat(res.statusCode()).isEqualTo(303);
        assertThat(res.headers().firstValue("Location")).hasValue("/login?next=%2Fruns%3Fstate%3DSucceeded");
        var login = get("/login?next=%2Fruns", Map.of());
        assertThat(login.statusCode()).isEqualTo(200);
        var doc = Jsoup.parse(login.body());
        assertThat(doc.select("label[for=token]").text()).isEqualTo("API token");
        assertThat(doc.select("form.login input[name=next]").attr("value")).isEqualTo("/runs");
        // The API itself still answers 401 with a problem, not a redirect.
        assertThat(get("/apis/capstan/v1/namespaces/default/pipelineruns", Map.of()).statusCode()).isEqualTo(401);
    }

    @Test
    void aTokenInTheQueryBecomesAnHttpOnlyCookieAndLeavesTheUrl() throws Exception {
        var res = get("/runs?state=Succeeded&token=" + server.adminToken(), Map.of());
        assertThat(res.statusCode()).isEqualTo(303);
        assertThat(res.headers().firstValue("Location")).hasValue("/runs?state=Succeeded");
        var setCookie = res.headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(setCookie).startsWith(UiSession.COOKIE + "=" + server.adminToken() + ";").contains("HttpOnly").contains("SameSite=Strict");

        var bad = get("/runs?token=not-a-token", Map.of());
        assertThat(bad.statusCode()).isEqualTo(303);
        assertThat(bad.headers().firstValue("Location").orElseThrow()).startsWith("/login?next=%2Fruns").endsWith("&failed=1");
        assertThat(bad.headers().firstValue("Set-Cookie")).isEmpty();
        // A stale cookie goes to the login page too, and is cleared.
        var stale = get("/runs", Map.of("Cookie", UiSession.COOKIE + "=revoked"));
        assertThat(stale.statusCode()).isEqualTo(303);
        assertThat(stale.headers().firstValue("Set-Cookie").orElseThrow()).contains("Max-Age=0");
    }

    @Test
    void theLoginFormSetsTheCookieForAValidTokenOnly() throws Exception {
        var form = "token=" + server.adminToken() + "&next=%2Fexperiments";
        var ok = HTTP.send(HttpRequest.newBuilder(URI.create(server.server.url() + "/login"))
                .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(form)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(ok.statusCode()).isEqualTo(303);
        assertThat(ok.headers().firstValue("Location")).hasValue("/experiments");
        assertThat(ok.headers().firstValue("Set-Cookie").orElseThrow()).contains("HttpOnly");

        var wrong = HTTP.send(HttpRequest.newBuilder(URI.create(server.server.url() + "/login"))
                .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString("token=nope&next=https://evil.example/")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(wrong.headers().firstValue("Set-Cookie")).isEmpty();
        var doc = Jsoup.parse(wrong.body());
        assertThat(doc.select("[role=alert]").text()).contains("unknown, expired or revoked");
        // The next page is this server's own, whatever the form said.
        assertThat(doc.select("input[name=next]").attr("value")).isEqualTo("/runs");
        // Form posts go to /login only: any other route still refuses them.
        var elsewhere = HTTP.send(HttpRequest.newBuilder(URI.create(server.server.url() + "/apis/capstan/v1/apply"))
                .header("Content-Type", "application/x-www-form-urlencoded").header("Cookie", cookie())
                .POST(HttpRequest.BodyPublishers.ofString("a=b")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(elsewhere.statusCode()).isEqualTo(415);
    }

    @Test
    void aCookieAuthenticatedChangeNeedsTheCsrfHeader() throws Exception {
        var path = "/apis/v2beta1/runs/iris:terminate";
        var without = HTTP.send(HttpRequest.newBuilder(URI.create(server.server.url() + path)).header("Cookie", cookie())
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(without.statusCode()).isEqualTo(403);
        assertThat(without.body()).contains(UiSession.CSRF_HEADER);
        var wrong = HTTP.send(HttpRequest.newBuilder(URI.create(server.server.url() + path)).header("Cookie", cookie())
                .header(UiSession.CSRF_HEADER, UiSession.csrfFor("another-token")).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(wrong.statusCode()).isEqualTo(403);
        var with = HTTP.send(HttpRequest.newBuilder(URI.create(server.server.url() + path)).header("Cookie", cookie())
                .header(UiSession.CSRF_HEADER, UiSession.csrfFor(server.adminToken())).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        // Past authentication: the API itself answers (the run has finished, so there is nothing to terminate or it is a no-op).
        assertThat(with.statusCode()).as(with.body()).isNotIn(401, 403);
        // Reading with the cookie needs no CSRF header; the page carries the value for htmx to send.
        var doc = page("/runs");
        assertThat(doc.select("meta[name=csrf-token]").attr("content")).isEqualTo(UiSession.csrfFor(server.adminToken()));
        assertThat(doc.body().attr("hx-headers")).contains(UiSession.CSRF_HEADER);
    }

    @Test
    void theRunListShowsTheRunWithItsMetricsAndFilters() throws Exception {
        var doc = page("/runs");
        var row = doc.select("tr[data-run=iris]");
        assertThat(row).hasSize(1);
        assertThat(row.select(".badge").text()).isEqualTo("Succeeded");
        assertThat(row.select("a").attr("href")).isEqualTo("/runs/iris");
        assertThat(doc.select("th a").eachText()).anyMatch(t -> t.startsWith("accuracy"));
        assertThat(row.select("td.num").text()).isNotEmpty();
        assertThat(doc.select("label:contains(Metric) input[name=metric]")).hasSize(1);

        assertThat(page("/runs?state=Failed").select(".empty").text()).contains("No run matches these filters.");
        assertThat(page("/runs?metric=accuracy%3E0.5&sort=metric:accuracy").select("tr[data-run=iris]")).hasSize(1);
        assertThat(page("/runs?metric=accuracy%3E1.5").select("tr[data-run=iris]")).isEmpty();
        assertThat(page("/runs?param=source=nope").select("tr[data-run=iris]")).isEmpty();

        var bad = get("/runs?metric=accuracy~~1", Map.of("Cookie", cookie()));
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(Jsoup.parse(bad.body()).select("[role=alert]").text()).contains("metric filter 'accuracy~~1'").contains("accuracy>=0.9");
        assertThat(get("/runs?size=0", Map.of("Cookie", cookie())).statusCode()).isEqualTo(400);
        assertThat(get("/runs?sort=color", Map.of("Cookie", cookie())).statusCode()).isEqualTo(400);
    }

    @Test
    void theRunPageDrawsEveryStepSucceededAndTheNodePanelOpensTheLog() throws Exception {
        var doc = page("/runs/iris");
        var nodes = doc.select("svg.dag g.node");
        // The seven steps, and the registration branch (register_as is empty here, so it does not run).
        assertThat(nodes.eachAttr("data-task")).containsExactlyInAnyOrder("csv-ingest", "evaluate", "evaluate-2", "export-onnx",
                "train-logistic-regression", "train-test-split", "train-xgboost", "condition-1");
        assertThat(nodes.stream().filter(n -> !n.attr("data-task").equals("condition-1")).map(n -> n.attr("data-state"))).containsOnly("Succeeded");
        assertThat(doc.selectFirst("svg.dag g.node[data-task=condition-1]").attr("data-state")).isNotEqualTo("Failed");
        assertThat(nodes.first().attr("tabindex")).isEqualTo("0");
        assertThat(nodes.first().attr("role")).isEqualTo("button");
        assertThat(doc.select("svg.dag polyline")).isNotEmpty();
        assertThat(doc.select("[role=alert]")).isEmpty();
        assertThat(doc.select("button:contains(Retry)").hasAttr("disabled")).isTrue();

        // A direct link to a node reproduces the view, side panel included.
        var selected = page("/runs/iris?node=evaluate");
        assertThat(selected.select("svg.dag g.node.selected").attr("data-task")).isEqualTo("evaluate");
        assertThat(selected.select("#panel h2").text()).startsWith("evaluate");
        assertThat(selected.select("#panel table.artifacts")).isNotEmpty();
        var log = selected.select("#panel pre#log");
        assertThat(log.attr("sse-connect")).isEqualTo("/runs/iris/nodes/evaluate/log");

        var events = get("/runs/iris/nodes/evaluate/log", Map.of("Cookie", cookie()));
        assertThat(events.statusCode()).isEqualTo(200);
        assertThat(events.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
        assertThat(events.body()).contains("event:line").contains("event:end");

        var fragment = get("/runs/iris/nodes/train-xgboost", Map.of("Cookie", cookie(), "HX-Request", "true"));
        assertThat(fragment.statusCode()).isEqualTo(200);
        assertThat(Jsoup.parseBodyFragment(fragment.body()).select("h2").text()).startsWith("train-xgboost");
        var tab = page("/runs/iris?tab=parameters");
        assertThat(tab.select("table.kv th").eachText()).contains("source", "accuracy");
        var missing = get("/runs/nope", Map.of("Cookie", cookie()));
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(Jsoup.parse(missing.body()).select("[role=alert]").text()).contains("run 'nope' not found");
    }

    @Test
    void everyOtherPageAnswersWithContentOrAnExplicitEmptyState() throws Exception {
        assertThat(page("/experiments").select(".empty").text()).contains("No experiments yet.");
        assertThat(page("/endpoints").select(".empty").text()).contains("No InferenceServices yet.");
        assertThat(page("/jobs").select(".empty").text()).contains("No training jobs.");
        assertThat(page("/recurring").select(".empty").text()).contains("No recurring runs.");
        assertThat(page("/pipelines").select(".empty").text()).contains("No pipelines uploaded.");
        assertThat(page("/lineage").select(".empty").text()).contains("Pick an artifact or an execution.");
        assertThat(page("/compare").select(".empty").text()).contains("Pick at least two runs.");
        var lineage = page("/lineage?execution=1");
        assertThat(lineage.select("h2").text()).startsWith("Execution 1");
        assertThat(lineage.select("ul.lineage a")).isNotEmpty();
        assertThat(get("/lineage?artifact=abc", Map.of("Cookie", cookie())).statusCode()).isEqualTo(400);
        var root = get("/", Map.of("Cookie", cookie()));
        assertThat(root.statusCode()).isEqualTo(303);
        assertThat(root.headers().firstValue("Location")).hasValue("/runs");
        var js = get("/ui/static/htmx.min.js", Map.of());
        assertThat(js.statusCode()).isEqualTo(200);
        assertThat(js.body()).contains("htmx");
        assertThat(get("/ui/static/sse.js", Map.of()).statusCode()).isEqualTo(200);
        assertThat(get("/ui/static/nothing.js", Map.of()).statusCode()).isEqualTo(404);
    }

    @Test
    void pipelinesListTheirVersionsAndRecurringRunsTheirNextFireTime() throws Exception {
        var root = Path.of("").toAbsolutePath().getParent();
        var ir = Json.yaml().readTree(Files.readString(root.resolve("examples/iris/iris-pipeline.yaml")));
        var create = Json.json().createObjectNode();
        create.putObject("pipeline").put("display_name", "iris-training");
        create.putObject("pipeline_version").put("display_name", "v1").set("pipeline_spec", ir);
        var made = server.send("POST", "/apis/v2beta1/pipelines/create", create.toString(), "application/json");
        assertThat(made.status()).as(made.body()).isEqualTo(200);
        var pipelines = page("/pipelines");
        assertThat(pipelines.select("tr[data-pipeline] td").eachText()).contains("iris-training", "v1");

        var recurring = Json.json().createObjectNode();
        recurring.put("display_name", "hourly-iris");
        recurring.set("pipeline_spec", ir);
        recurring.putObject("runtime_config").putObject("parameters").put("source", root.resolve("examples/iris/iris.csv").toString());
        recurring.putObject("trigger").putObject("periodic_schedule").put("interval_second", "3600");
        recurring.put("mode", "ENABLE");
        var rr = server.send("POST", "/apis/v2beta1/recurringruns", recurring.toString(), "application/json");
        assertThat(rr.status()).as(rr.body()).isEqualTo(200);
        var created = java.time.Instant.parse(rr.json().path("created_at").asText());
        var deadline = java.time.Instant.now().plusSeconds(30);
        String next = "";
        while (next.isEmpty() && java.time.Instant.now().isBefore(deadline)) {
            next = page("/recurring").select("tr[data-recurring] td.next").text();
            if (next.isEmpty()) Thread.sleep(200);
        }
        // The next fire time is an hour after its creation, as its reconciler recorded it.
        var expected = java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'").withZone(java.time.ZoneOffset.UTC)
                .format(created.plusSeconds(3600));
        assertThat(next).isEqualTo(expected);
        assertThat(page("/recurring").select("tr[data-recurring] code").text()).isEqualTo("every 3600 s");
    }

    @Test
    void compareShowsDifferencesOnly() throws Exception {
        var root = Path.of("").toAbsolutePath().getParent();
        var body = Json.json().createObjectNode();
        body.put("apiVersion", "pipelines.capstan.io/v1");
        body.put("kind", "PipelineRun");
        body.putObject("metadata").put("name", "iris-seed-7");
        var spec = body.putObject("spec");
        spec.put("pipelineSpec", Files.readString(root.resolve("examples/iris/iris-pipeline.yaml")));
        spec.putObject("parameters").put("source", root.resolve("examples/iris/iris.csv").toString()).put("seed", 7);
        assertThat(server.send("POST", "/apis/capstan/v1/apply", body.toString(), "application/json").status()).isEqualTo(200);
        var all = page("/compare?runs=default/iris&runs=default/iris-seed-7");
        assertThat(all.select("table.compare th[scope=row]").eachText()).contains("Parameter source", "Parameter seed");
        var diff = page("/compare?runs=default/iris&runs=default/iris-seed-7&diff=1");
        assertThat(diff.select("table.compare th[scope=row]").eachText()).contains("Parameter seed").doesNotContain("Parameter source");
    }
}
