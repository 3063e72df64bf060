package io.capstan.ui;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.artifacts.ArtifactLocator;
import io.capstan.artifacts.LocalArtifactStore;
import io.capstan.core.Json;
import io.capstan.core.ObjectMeta;
import io.capstan.core.Resource;
import io.capstan.core.ResourceStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node panel's artifact previews (CSV as a table, text, metrics; bounded; escaped; only under the run's pipeline
 * root), the compare page's overlaid metric curves, and the notebooks list, over a real store and real files.
 */
class RunArtifactsAndCurvesTest {
    @TempDir
    static Path dir;
    static UiHarness h;
    static Path root;

    @BeforeAll
    static void start() throws Exception {
        h = new UiHarness(dir, ArtifactLocator.of(new LocalArtifactStore(dir.resolve("store"), Clock.systemUTC())));
        root = Files.createDirectories(dir.resolve("pipeline-root"));
    }

    @AfterAll
    static void stop() {
        h.close();
    }

    static ObjectNode artifact(String type, String uri) {
        var a = Json.json().createObjectNode();
        a.putObject("type").put("schemaTitle", type);
        a.put("uri", uri);
        return a;
    }

    /** A run whose task {@code train} wrote {@code files} (name to bytes) as outputs, placed under the run's pipeline root. */
    static Resource runWithFiles(String name, Map<String, byte[]> files, String outsideUri) throws Exception {
        var tasks = Json.json().createObjectNode();
        var run = h.run(name, RunPagesTest.tinyPipeline(), Json.json().createObjectNode(), "Succeeded", tasks);
        var base = root.resolve(run.metadata().uid()).resolve("train");
        Files.createDirectories(base);
        var outputs = tasks.putObject("root/train").put("state", "SUCCEEDED").putObject("outputs").putObject("artifacts");
        for (var f : files.entrySet()) {
            Files.write(base.resolve(f.getKey()), f.getValue());
            var type = f.getKey().endsWith(".csv") ? "system.Dataset" : "system.Artifact";
            outputs.putArray(f.getKey().replace('.', '-')).add(artifact(type, base.resolve(f.getKey()).toUri().toString()));
        }
        var metrics = artifact("system.Metrics", "file://" + base.resolve("metrics"));
        metrics.putObject("metadata").put("accuracy", 0.93).put("loss", 0.21);
        outputs.putArray("metrics").add(metrics);
        if (outsideUri != null) outputs.putArray("outside").add(artifact("system.Artifact", outsideUri));
        var status = ResourceStatus.EMPTY.withPhase("Succeeded").withField("tasks", tasks)
                .withField("pipelineRoot", Json.json().getNodeFactory().textNode(root.toUri().toString().replaceAll("/$", "")));
        return h.store.updateStatus(h.store.get(run.key()), status);
    }

    static Document preview(String run, String output) {
        var reply = h.get("/runs/" + run + "/preview?task=train&output=" + output + "&index=0");
        assertThat(reply.status()).as(reply.body()).isEqualTo(200);
        return Jsoup.parseBodyFragment(reply.body());
    }

    @Test
    void aCsvPreviewsAsAnEscapedTableAndTextAsText() throws Exception {
        var csv = "name,comment,score\nalice,\"<script>alert('x')</script>\",0.9\nbob,\"two, parts \"\"quoted\"\"\",0.8\n<img src=x onerror=alert(1)>,plain,1\n";
        runWithFiles("previews", Map.of("data.csv", csv.getBytes(), "notes.txt", "line one\n</pre><script>bad()</script>\n".getBytes()), null);
        var raw = h.get("/runs/previews/preview?task=train&output=data-csv&index=0").body();
        assertThat(raw).doesNotContain("<script>").doesNotContain("<img").contains("&lt;script&gt;");
        var table = Jsoup.parseBodyFragment(raw);
        assertThat(table.select("table.preview thead th").eachText()).containsExactly("name", "comment", "score");
        assertThat(table.select("table.preview tbody tr")).hasSize(3);
        assertThat(table.select("table.preview tbody tr").get(0).select("td").eachText()).containsExactly("alice", "<script>alert('x')</script>", "0.9");
        assertThat(table.select("table.preview tbody tr").get(1).select("td").get(1).text()).isEqualTo("two, parts \"quoted\"");
        assertThat(table.select("script, img")).isEmpty();

        var text = preview("previews", "notes-txt");
        assertThat(text.select("pre.preview").first().wholeText()).isEqualTo("line one\n</pre><script>bad()</script>\n");
        assertThat(text.select("script")).isEmpty();

        var metrics = preview("previews", "metrics");
        assertThat(metrics.select("table.metrics tbody th").eachText()).containsExactly("accuracy", "loss");
        assertThat(metrics.select("table.metrics tbody td").eachText()).containsExactly("0.9300", "0.2100");

        // The panel offers each output's preview, loaded when opened.
        var panel = Jsoup.parse(h.get("/runs/previews?node=train").body());
        var details = panel.select("#panel details.artifact-preview[data-artifact=data-csv]");
        assertThat(details.attr("hx-get")).isEqualTo("/runs/previews/preview?task=train&output=data-csv&index=0");
        assertThat(details.attr("hx-trigger")).isEqualTo("toggle once");
        assertThat(details.select("summary").text()).isEqualTo("Preview of data-csv");
    }

    @Test
    void aLongCsvShowsItsFirstFiftyRows() throws Exception {
        var iris = Files.readAllBytes(Path.of("").toAbsolutePath().getParent().resolve("examples/iris/iris.csv"));
        runWithFiles("long-csv", Map.of("iris.csv", iris), null);
        var doc = preview("long-csv", "iris-csv");
        assertThat(doc.select("table.preview thead th").eachText()).containsExactly("sepal_length", "sepal_width", "petal_length", "petal_width", "species");
        assertThat(doc.select("table.preview tbody tr")).hasSize(ArtifactPreview.MAX_ROWS);
        assertThat(doc.select("p.hint").text()).isEqualTo("50 of 150 rows.");
    }

    @Test
    void previewsAreBoundedAndReadOnlyTheRunsOwnArtifacts() throws Exception {
        var big = "x".repeat(200_000).getBytes();
        var binary = new byte[]{(byte) 0x89, 'P', 'N', 'G', 0, 1, 2, 3};
        Files.writeString(dir.resolve("secret.txt"), "do not show");
        runWithFiles("bounded", Map.of("big.txt", big, "image.bin", binary), dir.resolve("secret.txt").toUri().toString());
        var reply = h.get("/runs/bounded/preview?task=train&output=big-txt&index=0").body();
        var doc = Jsoup.parseBodyFragment(reply);
        assertThat(doc.select("pre.preview").text()).hasSize(ArtifactPreview.MAX_BYTES);
        assertThat(doc.select("p.hint").text()).isEqualTo("The first 64 KiB.");
        assertThat(preview("bounded", "image-bin").text()).isEqualTo("Binary content (8 bytes); not previewed.");
        var outside = preview("bounded", "outside");
        assertThat(outside.text()).isEqualTo("Not previewed: the artifact is outside the run's pipeline root.");
        assertThat(h.get("/runs/bounded/preview?task=train&output=nope&index=0").status()).isEqualTo(404);
        var bad = h.get("/runs/bounded/preview?task=train&output=big-txt&index=x");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(Jsoup.parse(bad.body()).select("[role=alert]").text()).isEqualTo("index must be a whole number, got 'x'");
    }

    /** A run whose loop iterations each reported {@code values} of accuracy, one after another. */
    static void curveRun(String name, double... values) {
        var tasks = Json.json().createObjectNode();
        for (int i = 0; i < values.length; i++) {
            var t = tasks.putObject("root/for-loop-1[" + i + "]/eval").put("state", "SUCCEEDED").put("endTime", Instant.parse("2026-01-01T00:00:00Z").plusSeconds(i).toString());
            var m = artifact("system.Metrics", "");
            m.putObject("metadata").put("accuracy", values[i]);
            t.putObject("outputs").putObject("artifacts").putArray("metrics").add(m);
        }
        h.run(name, RunPagesTest.tinyPipeline(), Json.json().createObjectNode(), "Succeeded", tasks);
    }

    @Test
    void compareOverlaysEachRunsMetricCurve() {
        curveRun("curve-a", 0.5, 0.7, 0.9);
        curveRun("curve-b", 0.4, 0.6, 0.65, 0.8);
        var doc = Jsoup.parse(h.get("/compare?runs=curve-a&runs=curve-b").body());
        var figure = doc.select("figure.curves[data-metric=accuracy]");
        assertThat(figure).hasSize(1);
        var svg = figure.select("svg.overlay");
        assertThat(svg.attr("role")).isEqualTo("img");
        assertThat(svg.attr("aria-label")).isEqualTo("accuracy of each run, overlaid");
        assertThat(svg.select("g.curve").eachAttr("data-series")).containsExactly("curve-a", "curve-b");
        assertThat(svg.select("g.curve[data-series=curve-a] polyline").attr("points").strip().split(" ")).hasSize(3);
        assertThat(svg.select("g.curve[data-series=curve-b] polyline").attr("points").strip().split(" ")).hasSize(4);
        assertThat(svg.select("g.curve[data-series=curve-b] circle title").eachText()).containsExactly(
                "curve-b #1: 0.4000", "curve-b #2: 0.6000", "curve-b #3: 0.6500", "curve-b #4: 0.8000");
        // Runs with one value each draw no curve: the bars above already show it.
        curveRun("single-1", 0.5);
        curveRun("single-2", 0.6);
        var single = Jsoup.parse(h.get("/compare?runs=single-1&runs=single-2").body());
        assertThat(single.select("figure.curves")).isEmpty();
    }

    @Test
    void notebooksAreListedWithStateLastActivityAndAConnectLink() {
        var running = h.store.create(Resource.of("kubeflow.org/v1", "Notebook", ObjectMeta.named("team-a", "lab"), notebookSpec()));
        h.store.updateStatus(running, ResourceStatus.EMPTY.withPhase("Running").withField("lastActivity",
                Json.json().getNodeFactory().textNode(Instant.now().minusSeconds(300).toString())));
        var stopped = h.store.create(Resource.of("kubeflow.org/v1", "Notebook", ObjectMeta.named("team-a", "old")
                .withAnnotations(Map.of("kubeflow-resource-stopped", "2026-01-01T00:00:00Z", "notebooks.kubeflow.org/last-activity", "2026-01-01T00:00:00Z")),
                notebookSpec()));
        h.store.updateStatus(stopped, ResourceStatus.EMPTY.withPhase("Stopped"));
        h.store.create(Resource.of("kubeflow.org/v1", "Notebook", ObjectMeta.named("team-a", "fresh"), notebookSpec()));
        var reply = h.get("/notebooks");
        assertThat(reply.status()).isEqualTo(200);
        var doc = Jsoup.parse(reply.body());
        assertThat(doc.select("h1").text()).isEqualTo("Notebooks");
        assertThat(doc.select("nav a[aria-current=page]").text()).isEqualTo("Notebooks");
        var lab = doc.select("tr[data-notebook=team-a/lab]");
        assertThat(lab.select("td.state").text()).isEqualTo("Running");
        assertThat(lab.select("td.activity time").attr("datetime")).isNotEmpty();
        assertThat(lab.select("td.activity").text()).containsPattern("\\(5 min \\d+ s ago\\)");
        assertThat(lab.select("a.connect").attr("href")).isEqualTo("/notebook/team-a/lab/");
        assertThat(lab.select("a.connect").attr("aria-label")).isEqualTo("Connect to notebook team-a/lab (opens a new tab)");
        assertThat(lab.select("td code").text()).isEqualTo("jupyter/minimal:1");
        var old = doc.select("tr[data-notebook=team-a/old]");
        assertThat(old.select("td.state").text()).isEqualTo("Stopped");
        assertThat(old.select("td.activity").text()).startsWith("2026-01-01 00:00:00 UTC");
        assertThat(old.select("a.connect")).isEmpty();
        assertThat(old.select("[aria-disabled=true]").text()).isEqualTo("Connect when running");
        var fresh = doc.select("tr[data-notebook=team-a/fresh]");
        assertThat(fresh.select("td.state").text()).isEqualTo("Pending");
        assertThat(fresh.select("td.activity").text()).isEqualTo("none yet");
    }

    static ObjectNode notebookSpec() {
        var spec = Json.json().createObjectNode();
        spec.putObject("template").putObject("spec").putArray("containers").addObject().put("name", "lab").put("image", "jupyter/minimal:1");
        return spec;
    }

    @Test
    void theNewPagesPassTheMarkupChecks() throws Exception {
        runWithFiles("a11y", Map.of("data.csv", "a,b\n1,2\n".getBytes(), "notes.txt", "hello\n".getBytes()), null);
        curveRun("a11y-a", 0.1, 0.2);
        curveRun("a11y-b", 0.3, 0.1);
        A11y.check(Jsoup.parse(h.get("/notebooks").body()), "/notebooks");
        A11y.check(Jsoup.parse(h.get("/compare?runs=a11y-a&runs=a11y-b").body()), "/compare");
        A11y.check(Jsoup.parse(h.get("/runs/a11y?node=train").body()), "node panel with previews");
        for (var output : java.util.List.of("data-csv", "notes-txt", "metrics")) A11y.check(preview("a11y", output), "preview of " + output);
    }
}
