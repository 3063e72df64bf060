package io.capstan.ui;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.Json;
import io.capstan.store.testing.Conformance;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.jsoup.Jsoup;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Run pages over runs written straight into a real store: paging, sorting by a metric, ParallelFor, the failure banner. */
class RunPagesTest {
    @TempDir
    static Path dir;
    static UiHarness h;

    @BeforeAll
    static void start() {
        h = new UiHarness(dir);
        for (int i = 0; i < 120; i++) {
            var tasks = Json.json().createObjectNode();
            var metrics = tasks.putObject("root/eval").put("state", "SUCCEEDED").putObject("outputs").putObject("artifacts").putArray("metrics").addObject();
            metrics.putObject("type").put("schemaTitle", "system.Metrics");
            metrics.putObject("metadata").put("accuracy", (i * 37 % 120) / 120.0);
            h.run("run-" + i, tinyPipeline(), Json.json().createObjectNode().put("seed", i).put("kind", i % 2 == 0 ? "even" : "odd"), "Succeeded", tasks);
        }
    }

    @AfterAll
    static void stop() {
        h.close();
    }

    static ObjectNode tinyPipeline() {
        var ir = Json.json().createObjectNode();
        ir.putObject("pipelineInfo").put("name", "tiny");
        var tasks = ir.putObject("root").putObject("dag").putObject("tasks");
        tasks.putObject("train").putObject("componentRef").put("name", "comp-train");
        var eval = tasks.putObject("eval");
        eval.putObject("componentRef").put("name", "comp-eval");
        eval.putArray("dependentTasks").add("train");
        return ir;
    }

    @Test
    void theListPagesOnTheServerAndSortsByAMetric() {
        var first = Jsoup.parse(h.get("/runs?q=run-&sort=metric:accuracy&cols=accuracy").body());
        var rows = first.select("tr[data-run]");
        assertThat(rows).hasSize(RunPages.DEFAULT_PAGE_SIZE);
        var values = rows.stream().map(r -> Double.parseDouble(r.select("td.num").text())).toList();
        assertThat(values).isSortedAccordingTo(java.util.Comparator.reverseOrder());
        assertThat(values.getFirst()).isEqualTo(Double.parseDouble(Html.number(119 / 120.0)));
        assertThat(first.select("p.count").text()).startsWith("120 runs, showing 1–50");
        assertThat(first.select("th[aria-sort]").text()).startsWith("accuracy");
        var next = first.select("a[rel=next]").attr("href");
        assertThat(next).isEqualTo("/runs?q=run-&cols=accuracy&sort=metric%3Aaccuracy&page=1");
        var last = Jsoup.parse(h.get("/runs?q=run-&sort=metric:accuracy&cols=accuracy&page=2").body());
        assertThat(last.select("tr[data-run]")).hasSize(20);
        assertThat(last.select("a[rel=next]")).isEmpty();

        var ascending = Jsoup.parse(h.get("/runs?q=run-&sort=param:seed&order=asc&size=3").body());
        assertThat(ascending.select("tr[data-run]").eachAttr("data-run")).containsExactly("run-0", "run-1", "run-2");
        var filtered = Jsoup.parse(h.get("/runs?param=kind%3Dodd&metric=accuracy%3E%3D0.9&size=500").body());
        assertThat(filtered.select("tr[data-run]")).isNotEmpty().allSatisfy(r -> {
            assertThat(Integer.parseInt(r.attr("data-run").substring(4)) % 2).isEqualTo(1);
        });
    }

    @Test
    void aParallelForIsOneNodeWithItsIterationsCounted() throws Exception {
        var file = Conformance.require(Conformance.path("kubeflow-pipelines/test_data/sdk_compiled_pipelines/valid/pipeline_with_parallelfor_parallelism.yaml"));
        var ir = Json.yaml().readTree(Files.readString(file));
        var tasks = Json.json().createObjectNode();
        tasks.putObject("root/for-loop-1").put("state", "RUNNING");
        tasks.putObject("root/for-loop-1[0]").put("state", "SUCCEEDED");
        tasks.putObject("root/for-loop-1[1]").put("state", "SUCCEEDED");
        tasks.putObject("root/for-loop-1[2]").put("state", "RUNNING");
        tasks.putObject("root/for-loop-1[0]/print-text").put("state", "SUCCEEDED");
        h.run("loops", ir, Json.json().createObjectNode(), "Running", tasks);
        var doc = Jsoup.parse(h.get("/runs/loops").body());
        assertThat(doc.select("svg.dag g.node")).hasSize(13);
        var loop = doc.select("svg.dag g.node[data-task=for-loop-1]");
        assertThat(loop.hasClass("group")).isTrue();
        assertThat(loop.attr("aria-label")).isEqualTo("for-loop-1: Running, 1/3 running, 2/3 succeeded");
        assertThat(doc.select("svg.dag g.node").eachAttr("data-task")).noneMatch(t -> t.contains("["));
        // A running run's graph follows its status over SSE.
        assertThat(doc.select("#run-live").attr("sse-connect")).isEqualTo("/runs/loops/events");
        assertThat(doc.select("#run-live #dag").attr("sse-swap")).isEqualTo("dag");
        assertThat(doc.select("#run-live #run-phase").attr("sse-swap")).isEqualTo("phase");

        // The stream sends the graph again when the run's status changes: here, the last iteration succeeds.
        var events = new java.util.concurrent.LinkedBlockingQueue<String>();
        var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + h.web.port() + "/runs/loops/events")).build();
        var stream = h.http.sendAsync(request, java.net.http.HttpResponse.BodyHandlers.ofLines());
        stream.thenAccept(r -> r.body().forEach(events::add));
        assertThat(events.poll(10, java.util.concurrent.TimeUnit.SECONDS)).startsWith(":");
        var run = h.store.get(new io.capstan.core.ResourceKey("PipelineRun", "default", "loops"));
        var done = tasks.deepCopy();
        done.putObject("root/for-loop-1[2]").put("state", "SUCCEEDED");
        h.store.updateStatus(run, run.status().withField("tasks", done));
        String line;
        String dagData = null;
        while ((line = events.poll(10, java.util.concurrent.TimeUnit.SECONDS)) != null) {
            if (line.startsWith("event:dag")) {
                dagData = events.poll(10, java.util.concurrent.TimeUnit.SECONDS);
                break;
            }
        }
        assertThat(dagData).isNotNull().startsWith("data:<svg").contains("for-loop-1: Running, 3/3 succeeded");
        stream.cancel(true);

        var panel = Jsoup.parse(h.get("/runs/loops?node=for-loop-1").body());
        assertThat(panel.select("#panel h3").eachText()).contains("Iterations");
        assertThat(panel.select("#panel ul.children li a").eachText()).containsExactly("[0]", "[1]", "[2]");
        var iteration = Jsoup.parse(h.get("/runs/loops?node=" + Html.url("for-loop-1[2]")).body());
        assertThat(iteration.select("#panel h2").text()).isEqualTo("for-loop-1[2] Succeeded");
    }

    @Test
    void aFailedRunNamesItsFirstFailedStepEvenWhenItsLogIsGone() {
        var tasks = Json.json().createObjectNode();
        tasks.putObject("root/train").put("state", "FAILED").put("workloadId", "gone-1").put("endTime", Instant.parse("2026-01-01T00:00:05Z").toString())
                .put("message", "exited with code 2");
        tasks.putObject("root/eval").put("state", "FAILED").put("workloadId", "gone-2").put("endTime", Instant.parse("2026-01-01T00:00:09Z").toString())
                .put("message", "later failure");
        h.run("broken", tinyPipeline(), Json.json().createObjectNode(), "Failed", tasks);
        var reply = h.get("/runs/broken");
        assertThat(reply.status()).isEqualTo(200);
        var banner = Jsoup.parse(reply.body()).select("section.banner[role=alert]");
        assertThat(banner.select("h2").text()).isEqualTo("Why it failed");
        assertThat(banner.text()).contains("Step train failed: exited with code 2").doesNotContain("later failure");
        var retry = Jsoup.parse(reply.body()).select("button:contains(Retry)");
        assertThat(retry.hasAttr("disabled")).isFalse();
        assertThat(retry.attr("hx-post")).isEqualTo("/apis/v2beta1/runs/broken:retry");
        var log = h.get("/runs/broken/nodes/train/log");
        assertThat(log.body()).contains("no longer kept").contains("event:end");
    }

    @Test
    void theLayoutIsComputedOncePerPipelineVersion() {
        var layouts = h.ui.context().layouts();
        var dag = Dag.of(tinyPipeline());
        h.get("/runs/run-3");
        assertThat(layouts.isCached(dag)).isTrue();
        assertThat(Dag.of(Json.json().valueToTree(Json.json().createObjectNode().put("x", 1))).key()).isNotEqualTo(dag.key());
        // The same pipeline as YAML text, as `capstan run` stores it, is the same version.
        assertThat(Dag.of(Json.json().getNodeFactory().textNode(tinyPipeline().toString())).key()).isEqualTo(dag.key());
        assertThat(layouts.layout(dag)).isSameAs(layouts.layout(dag));
    }

    @Test
    void badListParametersAreA400NamingTheField() {
        var reply = h.get("/runs?page=-1");
        assertThat(reply.status()).isEqualTo(400);
        assertThat(Jsoup.parse(reply.body()).select("[role=alert]").text()).isEqualTo("page must be 0 or more, got -1");
        assertThat(h.get("/runs?param=novalue").status()).isEqualTo(400);
        assertThat(h.get("/runs?size=abc").body()).contains("size must be a whole number, got &#39;abc&#39;");
    }

}
