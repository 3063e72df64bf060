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
import java.util.Set;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model version's provenance page, as the quickstart leaves things: the iris pipeline's exported ONNX model
 * registered as iris v1 with alias champion, served by an InferenceService from {@code model-registry://iris@champion},
 * and watched by a ModelMonitor. The page links dataset, run and step, version, revision and monitor.
 */
class ProvenancePagesTest {
    static final String REGISTRY = "/api/model_registry/v1alpha3";
    @TempDir
    static Path home;
    static TestServer server;
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    static String modelId;
    static String versionId;
    static String modelUri;
    static String inputName;

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
        var run = server.await("/apis/capstan/v1/namespaces/default/pipelineruns/iris",
                r -> Set.of("Succeeded", "Failed").contains(r.path("status").path("phase").asText()), Duration.ofSeconds(120));
        assertThat(run.path("status").path("phase").asText()).isEqualTo("Succeeded");
        var uri = run.path("status").path("tasks").path("root/export-onnx").path("outputs").path("artifacts").path("onnx_model").path(0).path("uri").asText();
        modelUri = uri;
        inputName = run.path("status").path("tasks").path("root/export-onnx").path("outputs").path("artifacts").path("onnx_model").path(0)
                .path("metadata").path("input_name").asText("input");
        register(server, "iris", uri);
        var applied = server.apply("""
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: iris}
                spec:
                  predictor:
                    model:
                      modelFormat: {name: onnx}
                      storageUri: model-registry://iris@champion
                """);
        assertThat(applied.status()).as(applied.body()).isIn(200, 201);
        server.await("/apis/capstan/v1/namespaces/default/inferenceservices/iris",
                r -> r.path("status").path("phase").asText().equals("Ready"), Duration.ofSeconds(90));
        var monitor = server.apply("""
                apiVersion: monitoring.capstan.io/v1alpha1
                kind: ModelMonitor
                metadata: {name: iris-drift}
                spec:
                  inferenceService: iris
                  reference:
                    uri: %s
                    features: [sepal_length, sepal_width, petal_length, petal_width]
                  window: {rows: 200}
                """.formatted(root.resolve("examples/iris/iris.csv").toUri()));
        assertThat(monitor.status()).as(monitor.body()).isIn(200, 201);
    }

    /** Registers {@code uri} as version v1 of registered model {@code name}, alias champion, as the quickstart does. */
    static String[] register(TestServer server, String name, String uri) {
        var storage = uri.contains("://") ? uri : Path.of(uri).toUri().toString();
        var model = create(server, REGISTRY + "/registered_models", "{\"name\": \"" + name + "\"}");
        var version = create(server, REGISTRY + "/model_versions", "{\"name\": \"v1\", \"registeredModelId\": \"" + model + "\"}");
        create(server, REGISTRY + "/model_versions/" + version + "/artifacts", "{\"artifactType\": \"model-artifact\", \"name\": \"" + name + "-v1\","
                + " \"uri\": \"" + storage + "\", \"modelFormatName\": \"onnx\"}");
        var alias = server.send("PUT", "/apis/capstan/v1/registry/registered_models/" + model + "/aliases/champion",
                "{\"modelVersionId\": \"" + version + "\"}", "application/json");
        assertThat(alias.status()).as(alias.body()).isEqualTo(200);
        modelId = model;
        versionId = version;
        return new String[]{model, version};
    }

    static String create(TestServer server, String path, String body) {
        var r = server.send("POST", path, body, "application/json");
        assertThat(r.status()).as(path + ": " + r.body()).isEqualTo(201);
        return r.json().path("id").asText();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(server.server.url() + path)).header("Cookie", UiSession.COOKIE + "=" + server.adminToken()).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static Document page(String path) throws Exception {
        var res = get(path);
        assertThat(res.statusCode()).as(path + ": " + res.body()).isEqualTo(200);
        return Jsoup.parse(res.body(), server.server.url() + path);
    }

    @Test
    void aVersionLinksDatasetRunStepServiceRevisionAndMonitor() throws Exception {
        var model = page("/models/default/" + modelId);
        var versionLink = model.select("#versions a").first();
        assertThat(versionLink.text()).isEqualTo("v1");
        var doc = page(versionLink.attr("href"));
        assertThat(doc.select("h1").text()).startsWith("Model version iris v1");

        // The dataset the pipeline read: csv-ingest's output, which the training steps read, in the lineage pages.
        var datasets = doc.select("#prov-datasets a");
        assertThat(datasets).isNotEmpty();
        for (var d : datasets) {
            assertThat(d.attr("href")).startsWith("/lineage?artifact=");
            var lineage = page(d.attr("href"));
            assertThat(lineage.select("h2").text()).startsWith("Artifact ");
            assertThat(lineage.select("dl.facts").text()).contains("system.Dataset");
        }

        // The run and the step that exported the model.
        var run = doc.select("#prov-run a");
        assertThat(run.eachAttr("href")).contains("/runs/iris", "/runs/iris?node=export-onnx");
        assertThat(run.select("a[href=/runs/iris]").text()).isEqualTo("iris");
        assertThat(page("/runs/iris?node=export-onnx").select("h1").text()).startsWith("Run iris");
        var execution = run.select("a[href^=/lineage?execution=]").attr("href");
        assertThat(page(execution).select("h2").text()).contains("export-onnx");

        // The version, its alias and its artifact's lineage.
        assertThat(doc.select("#prov-version").text()).contains("iris v1", "alias champion", "onnx");
        var artifactLineage = page(doc.select("#prov-version a").attr("href"));
        assertThat(artifactLineage.select("dl.facts").text()).contains(modelUri.contains("://") ? modelUri : Path.of(modelUri).toUri().toString().replaceFirst("^file:///", "/"));

        // The InferenceService revision that serves it, resolved from model-registry://iris@champion.
        var isvc = server.get("/apis/capstan/v1/namespaces/default/inferenceservices/iris").json();
        var revision = isvc.path("status").path("modelSource").path("revisionName").asText();
        assertThat(revision).isNotEmpty();
        var serving = doc.select("#prov-serving li");
        assertThat(serving).hasSize(1);
        assertThat(serving.select("a").attr("href")).isEqualTo("/endpoints/default/iris");
        assertThat(serving.text()).contains("Ready", "revision " + revision, "model-registry://iris@champion");

        // The monitor watching that service.
        var monitors = doc.select("#prov-monitors li");
        assertThat(monitors).hasSize(1);
        assertThat(monitors.text()).contains("iris-drift", "watching iris");
        assertThat(monitors.select("a").attr("href")).isEqualTo("/endpoints/default/iris#monitors");
    }

    @Test
    void theEndpointShowsItsDriftMonitorSloStateAndRequestChart() throws Exception {
        var slo = server.apply("""
                apiVersion: monitoring.capstan.io/v1alpha1
                kind: ServiceLevelObjective
                metadata: {name: iris-availability}
                spec:
                  sli: {availability: {inferenceService: iris}}
                  objective: 99.9
                """);
        assertThat(slo.status()).as(slo.body()).isIn(200, 201);
        server.await("/apis/capstan/v1/namespaces/default/servicelevelobjectives/iris-availability",
                r -> !r.path("status").path("phase").asText().isEmpty(), Duration.ofSeconds(60));
        var before = page("/endpoints/default/iris");
        var served = before.select("#traffic-stats").text();
        double already = Double.parseDouble(served.substring(0, served.indexOf(' ')));
        var request = "{\"inputs\": [{\"name\": \"" + inputName + "\", \"shape\": [1, 4], \"datatype\": \"FP32\", \"data\": [6.7, 3.0, 5.2, 2.3]}]}";
        for (int i = 0; i < 5; i++) {
            var r = server.send("POST", "/serving/default/v2/models/iris/infer", request, "application/json");
            assertThat(r.status()).as(r.body()).isEqualTo(200);
        }
        Thread.sleep(1100);
        var doc = page("/endpoints/default/iris");
        assertThat(doc.select("#traffic-stats").text()).startsWith(Html.count(already + 5) + " requests (0 failed) since the server started, mean latency ");
        // Two samples apart: one point of the request rate and of the mean latency.
        assertThat(doc.select("#traffic svg.chart.requests polyline.trace").attr("points").strip()).matches("[0-9.]+,[0-9.]+");
        assertThat(doc.select("#traffic svg.chart.latency polyline.trace").attr("points").strip()).matches("[0-9.]+,[0-9.]+");
        assertThat(doc.select("#traffic figcaption").eachText()).anySatisfy(t -> assertThat(t).startsWith("Requests per second"));

        var monitor = doc.select("#monitors + table tr[data-monitor=iris-drift]");
        assertThat(monitor).hasSize(1);
        assertThat(monitor.select(".badge").text()).isIn("Pending", "Collecting", "Nodrift", "Drifted");
        var objective = doc.select("#slos + table tr[data-slo=iris-availability]");
        assertThat(objective).hasSize(1);
        assertThat(objective.text()).contains("availability", "99.9%");
        assertThat(objective.select(".badge").text()).isEqualTo("Met");
    }

    /** Numbers as the page writes them. */
    static final class Html {
        static String count(double v) {
            return Long.toString((long) v);
        }
    }

    @Test
    void unknownOrMalformedVersionsAreErrorPages() throws Exception {
        assertThat(get("/models/default/" + modelId + "/versions/999999").statusCode()).isEqualTo(404);
        assertThat(get("/models/default/" + modelId + "/versions/v1").statusCode()).isEqualTo(400);
        assertThat(get("/models/other/" + modelId + "/versions/" + versionId).statusCode()).isEqualTo(404);
    }
}
