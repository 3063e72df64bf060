package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.ui.UiSession;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The models pages through a real server and registry, read as HTML: registered models, versions with their artifacts,
 * aliases, and the deploy buttons, whose request (as app.js sends it) deploys with the session cookie and CSRF header.
 */
class ModelPagesTest {
    static final String REGISTRY = "/api/model_registry/v1alpha3";
    @TempDir
    static Path home;
    static TestServer server;
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    static String modelId;
    static String v1;
    static String v2;

    @BeforeAll
    static void start() {
        server = new TestServer(home);
        modelId = create(REGISTRY + "/registered_models", "{\"name\": \"iris\", \"description\": \"Iris flowers\", \"owner\": \"ada\"}");
        v1 = create(REGISTRY + "/model_versions", "{\"name\": \"v1\", \"registeredModelId\": \"" + modelId + "\", \"author\": \"ada\"}");
        v2 = create(REGISTRY + "/model_versions", "{\"name\": \"v2\", \"registeredModelId\": \"" + modelId + "\"}");
        for (var v : new String[]{v1, v2}) {
            create(REGISTRY + "/model_versions/" + v + "/artifacts", "{\"artifactType\": \"model-artifact\", \"name\": \"iris-" + v + "\","
                    + " \"uri\": \"s3://models/iris/" + v + "/model.onnx\", \"modelFormatName\": \"onnx\", \"modelFormatVersion\": \"1\"}");
        }
        var alias = server.send("PUT", "/apis/capstan/v1/registry/registered_models/" + modelId + "/aliases/champion",
                "{\"modelVersionId\": \"" + v2 + "\"}", "application/json");
        assertThat(alias.status()).as(alias.body()).isEqualTo(200);
    }

    static String create(String path, String body) {
        var r = server.send("POST", path, body, "application/json");
        assertThat(r.status()).as(path + ": " + r.body()).isEqualTo(201);
        return r.json().path("id").asText();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(server.server.url() + path)).header("Cookie", cookie()).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static String cookie() {
        return UiSession.COOKIE + "=" + server.adminToken();
    }

    static Document page(String path) throws Exception {
        var res = get(path);
        assertThat(res.statusCode()).as(path + ": " + res.body()).isEqualTo(200);
        var doc = Jsoup.parse(res.body(), server.server.url() + path);
        assertThat(doc.select("h1")).hasSize(1);
        return doc;
    }

    @Test
    void theListShowsRegisteredModelsAndLinksToEach() throws Exception {
        var doc = page("/models");
        assertThat(doc.select("nav a[aria-current=page]").text()).isEqualTo("Models");
        var link = doc.select("main table a").first();
        assertThat(link.text()).isEqualTo("iris");
        assertThat(link.attr("href")).isEqualTo("/models/default/" + modelId);
        assertThat(doc.select("main table tbody tr").first().text()).contains("Iris flowers", "default", "Live", "ada");
    }

    @Test
    void aModelShowsItsVersionsArtifactsAndAliases() throws Exception {
        var doc = page("/models/default/" + modelId);
        assertThat(doc.select("h1").text()).isEqualTo("Registered model iris Live");
        var versions = doc.select("#versions tbody tr");
        assertThat(versions).hasSize(2);
        assertThat(versions.get(0).text()).contains("v1", "onnx 1", "s3://models/iris/" + v1 + "/model.onnx", "ada").doesNotContain("champion");
        assertThat(versions.get(1).text()).contains("v2", "champion", "s3://models/iris/" + v2 + "/model.onnx");
        var aliases = doc.select("#aliases tbody tr");
        assertThat(aliases).hasSize(1);
        assertThat(aliases.text()).contains("champion", "v2");
        assertThat(doc.select("#deploy-result[role=status]")).hasSize(1);
    }

    @Test
    void badAndUnknownModelsAreErrorPages() throws Exception {
        var bad = get("/models/default/abc");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(Jsoup.parse(bad.body()).select("[role=alert]").text()).contains("id", "abc");
        assertThat(get("/models/default/999999").statusCode()).isEqualTo(404);
        assertThat(get("/models/elsewhere/" + modelId).statusCode()).isEqualTo(404);
    }

    @Test
    void theAliasDeployButtonDeploysWithTheCookieAndCsrfHeader() throws Exception {
        var doc = page("/models/default/" + modelId);
        var button = doc.select("#aliases button.deploy").first();
        assertThat(button.text()).isEqualTo("Deploy @champion");
        var url = button.attr("data-deploy-url");
        assertThat(url).isEqualTo(REGISTRY + "/model_versions/" + v2 + ":deploy?namespace=default");
        var csrf = doc.select("meta[name=csrf-token]").attr("content");
        assertThat(csrf).isNotEmpty();

        // What app.js sends, without the CSRF header: refused, nothing deployed.
        var forged = post(url, button.attr("data-deploy-body"), Map.of());
        assertThat(forged.statusCode()).isEqualTo(403);
        assertThat(server.get("/apis/capstan/v1/namespaces/default/inferenceservices/iris").status()).isEqualTo(404);

        var sent = post(url, button.attr("data-deploy-body"), Map.of(UiSession.CSRF_HEADER, csrf));
        assertThat(sent.statusCode()).as(sent.body()).isEqualTo(200);
        var isvc = server.get("/apis/capstan/v1/namespaces/default/inferenceservices/iris").json();
        assertThat(isvc.path("metadata").path("annotations").path("registry.capstan.io/alias").asText()).isEqualTo("champion");
        assertThat(isvc.path("metadata").path("labels").path("modelregistry.kubeflow.org/model-version-id").asText()).isEqualTo(v2);

        var after = page("/models/default/" + modelId);
        var serving = after.select("#serving tbody tr");
        assertThat(serving).hasSize(1);
        assertThat(serving.text()).contains("iris", "v2");
        assertThat(serving.select("a").attr("href")).isEqualTo("/endpoints/default/iris");
    }

    static HttpResponse<String> post(String path, String body, Map<String, String> headers) throws Exception {
        var b = HttpRequest.newBuilder(URI.create(server.server.url() + path)).header("Cookie", cookie()).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(b::header);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
