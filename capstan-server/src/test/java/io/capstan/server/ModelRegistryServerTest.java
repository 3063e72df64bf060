package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Model Registry API served by a real Capstan server: its tables migrated at start-up, its routes behind the
 * server's authentication filter, upstream's rest.sh sequence answered over HTTP, and entities surviving a restart.
 */
class ModelRegistryServerTest {
    static final String API = "/api/model_registry/v1alpha3";
    @TempDir
    static Path home;
    static TestServer server;

    @BeforeAll
    static void start() {
        server = new TestServer(home);
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
    }

    @Test
    void restShSequenceAgainstTheServer() {
        var rm = server.send("POST", API + "/registered_models", "{\"description\": \"lorem ipsum registered model\", \"name\": \"demo-1\"}", "application/json");
        assertThat(rm.status()).as(rm.body()).isEqualTo(201);
        var rmId = rm.json().path("id").asText();
        var mv = server.send("POST", API + "/model_versions", "{\"description\": \"lorem ipsum model version\", \"name\": \"v1\", \"author\": \"John Doe\","
                + " \"registeredModelId\": \"" + rmId + "\"}", "application/json");
        assertThat(mv.status()).as(mv.body()).isEqualTo(201);
        var mvId = mv.json().path("id").asText();
        var ma = server.send("POST", API + "/model_versions/" + mvId + "/artifacts", "{\"description\": \"lorem ipsum model artifact\","
                + " \"uri\": \"https://huggingface.co/tarilabs/mnist/resolve/v1.nb20231206162408/mnist.onnx\", \"name\": \"mnist\","
                + " \"modelFormatName\": \"onnx\", \"modelFormatVersion\": \"1\", \"storageKey\": \"aws-connection-unused\","
                + " \"storagePath\": \"unused just demo\", \"artifactType\": \"model-artifact\"}", "application/json");
        assertThat(ma.status()).as(ma.body()).isEqualTo(201);
        assertThat(ma.json().path("id").asText()).matches("[1-9][0-9]*");
        var isvcs = server.send("GET", API + "/inference_services", null, null);
        assertThat(isvcs.status()).isEqualTo(200);
        assertThat(isvcs.json().path("items").isArray()).isTrue();
        var found = server.send("GET", API + "/model_version?name=v1&parentResourceId=" + rmId, null, null);
        assertThat(found.json().path("id").asText()).isEqualTo(mvId);
    }

    /**
     * Register two versions, point {@code champion} at v1, deploy through the alias, infer; move the alias to v2 and
     * the InferenceService rolls out a new revision serving v2's files, which the status records.
     */
    @Test
    void deployThroughAnAliasAndMoveIt() throws Exception {
        var rm = post(API + "/registered_models", "{\"name\": \"rowsum\"}").path("id").asText();
        var versions = new String[2];
        for (int i = 0; i < 2; i++) {
            var dir = java.nio.file.Files.createDirectories(home.resolve("models/rowsum-v" + (i + 1)));
            versions[i] = post(API + "/model_versions", "{\"name\": \"v" + (i + 1) + "\", \"registeredModelId\": \"" + rm + "\"}").path("id").asText();
            post(API + "/model_versions/" + versions[i] + "/artifacts", "{\"artifactType\": \"model-artifact\", \"name\": \"files\", \"uri\": \""
                    + "file://" + dir.toAbsolutePath() + "\", \"modelFormatName\": \"test-row-sum\"}");
        }
        var alias = server.send("PUT", "/apis/capstan/v1/registry/registered_models/" + rm + "/aliases/champion",
                "{\"modelVersionId\": \"" + versions[0] + "\"}", "application/json");
        assertThat(alias.status()).as(alias.body()).isEqualTo(200);
        var deploy = server.send("POST", API + "/model_versions/" + versions[0] + ":deploy", "{\"alias\": \"champion\"}", "application/json");
        assertThat(deploy.status()).as(deploy.body()).isEqualTo(200);
        var path = "/apis/capstan/v1/namespaces/default/inferenceservices/rowsum";
        server.await(path, isvc -> isvc.path("status").path("phase").asText().equals("Ready"), java.time.Duration.ofSeconds(60));
        var infer = server.send("POST", "/v2/models/rowsum/infer", "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,3],\"data\":[1,2,3]}]}", "application/json");
        assertThat(infer.status()).as(infer.body()).isEqualTo(200);
        assertThat(infer.json().path("outputs").get(0).path("data").get(0).asDouble()).isEqualTo(6.0);
        var first = server.get(path).json();
        var firstRevision = first.path("status").path("components").path("predictor").path("latestReadyRevision").asText();
        assertThat(first.path("metadata").path("labels").path("modelregistry.kubeflow.org/model-version-id").asText()).isEqualTo(versions[0]);

        long moved = System.nanoTime();
        var move = server.send("PUT", "/apis/capstan/v1/registry/registered_models/" + rm + "/aliases/champion",
                "{\"modelVersionId\": \"" + versions[1] + "\"}", "application/json");
        assertThat(move.status()).as(move.body()).isEqualTo(200);
        assertThat(move.json().path("redeployed").get(0).asText()).isEqualTo("rowsum");
        var second = server.await(path, isvc -> {
            var p = isvc.path("status").path("components").path("predictor");
            return !p.path("latestReadyRevision").asText().equals(firstRevision) && !p.path("latestReadyRevision").asText().isEmpty()
                    && isvc.path("status").path("phase").asText().equals("Ready");
        }, java.time.Duration.ofSeconds(60));
        System.out.printf("alias move to new revision Ready: %.0f ms%n", (System.nanoTime() - moved) / 1e6);
        assertThat(second.path("spec").path("predictor").path("model").path("storageUri").asText()).endsWith("rowsum-v2");
        assertThat(second.path("metadata").path("labels").path("modelregistry.kubeflow.org/model-version-id").asText()).isEqualTo(versions[1]);
        var again = server.send("POST", "/v2/models/rowsum/infer", "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,2],\"data\":[4,5]}]}", "application/json");
        assertThat(again.status()).as(again.body()).isEqualTo(200);
        assertThat(again.json().path("outputs").get(0).path("data").get(0).asDouble()).isEqualTo(9.0);
        // The registry knows what is deployed: v2 cannot go while the service follows it.
        assertThat(server.send("DELETE", API + "/model_versions/" + versions[1], null, null).status()).isEqualTo(409);
        var entities = server.get(API + "/inference_services?filterQuery=" + java.net.URLEncoder.encode("name = \"rowsum\"", java.nio.charset.StandardCharsets.UTF_8)).json();
        assertThat(entities.path("items").get(0).path("modelVersionId").asText()).isEqualTo(versions[1]);
    }

    /** An InferenceService applied with a model-registry:// storageUri serves the version it names and says which in its status. */
    @Test
    void modelRegistryStorageUrisResolveWhenTheRevisionLoads() throws Exception {
        var rm = post(API + "/registered_models", "{\"name\": \"summer\"}").path("id").asText();
        var dir = java.nio.file.Files.createDirectories(home.resolve("models/summer-v1"));
        var v1 = post(API + "/model_versions", "{\"name\": \"v1\", \"registeredModelId\": \"" + rm + "\"}").path("id").asText();
        post(API + "/model_versions/" + v1 + "/artifacts", "{\"artifactType\": \"model-artifact\", \"name\": \"files\", \"uri\": \"file://"
                + dir.toAbsolutePath() + "\", \"modelFormatName\": \"test-row-sum\"}");
        server.send("PUT", "/apis/capstan/v1/registry/registered_models/" + rm + "/aliases/prod", "{\"modelVersionId\": \"" + v1 + "\"}", "application/json");
        for (var entry : new String[][] {{"by-alias", "model-registry://summer@prod"}, {"by-version", "model-registry://summer/v1"},
                {"missing", "model-registry://summer/v9"}}) {
            var reply = server.apply("""
                    apiVersion: serving.kserve.io/v1beta1
                    kind: InferenceService
                    metadata: {name: %s}
                    spec:
                      predictor:
                        model: {modelFormat: {name: test-row-sum}, storageUri: "%s"}
                    """.formatted(entry[0], entry[1]));
            assertThat(reply.status()).as(reply.body()).isIn(200, 201);
        }
        for (var name : new String[] {"by-alias", "by-version"}) {
            var isvc = server.await("/apis/capstan/v1/namespaces/default/inferenceservices/" + name,
                    r -> r.path("status").path("phase").asText().equals("Ready"), java.time.Duration.ofSeconds(60));
            var source = isvc.path("status").path("modelSource");
            assertThat(source.path("modelVersionId").asText()).as(name).isEqualTo(v1);
            assertThat(source.path("storageUri").asText()).isEqualTo("file://" + dir.toAbsolutePath());
            var infer = server.send("POST", "/v2/models/" + name + "/infer", "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,2],\"data\":[1,2]}]}", "application/json");
            assertThat(infer.status()).as(infer.body()).isEqualTo(200);
        }
        assertThat(server.get("/apis/capstan/v1/namespaces/default/inferenceservices/by-alias").json().path("status").path("modelSource").path("alias").asText())
                .isEqualTo("prod");
        var missing = server.await("/apis/capstan/v1/namespaces/default/inferenceservices/missing",
                r -> r.path("status").path("phase").asText().equals("Failed"), java.time.Duration.ofSeconds(60));
        assertThat(missing.path("status").path("modelStatus").path("lastFailureInfo").path("message").asText()).contains("has no version 'v9'");

        // Moving the alias rolls the hand-written @prod service onto the version it now names; the pinned one stays.
        var dir2 = java.nio.file.Files.createDirectories(home.resolve("models/summer-v2"));
        var v2 = post(API + "/model_versions", "{\"name\": \"v2\", \"registeredModelId\": \"" + rm + "\"}").path("id").asText();
        post(API + "/model_versions/" + v2 + "/artifacts", "{\"artifactType\": \"model-artifact\", \"name\": \"files\", \"uri\": \"file://"
                + dir2.toAbsolutePath() + "\", \"modelFormatName\": \"test-row-sum\"}");
        var moved = server.send("PUT", "/apis/capstan/v1/registry/registered_models/" + rm + "/aliases/prod", "{\"modelVersionId\": \"" + v2 + "\"}", "application/json");
        assertThat(moved.status()).as(moved.body()).isEqualTo(200);
        assertThat(moved.json().path("redeployed").toString()).contains("by-alias").doesNotContain("by-version");
        var followed = server.await("/apis/capstan/v1/namespaces/default/inferenceservices/by-alias",
                r -> r.path("status").path("modelSource").path("modelVersionId").asText().equals(v2)
                        && r.path("status").path("phase").asText().equals("Ready"), java.time.Duration.ofSeconds(60));
        assertThat(followed.path("status").path("modelSource").path("storageUri").asText()).isEqualTo("file://" + dir2.toAbsolutePath());
        assertThat(server.get("/apis/capstan/v1/namespaces/default/inferenceservices/by-version").json().path("status").path("modelSource")
                .path("modelVersionId").asText()).isEqualTo(v1);

        // The registry's own InferenceService and ServeModel entities follow the hand-applied services.
        var byAlias = awaitRegistry(API + "/inference_service?name=by-alias&parentResourceId=" + environment(),
                isvc -> isvc.path("modelVersionId").asText().equals(v2));
        assertThat(byAlias.path("desiredState").asText()).isEqualTo("DEPLOYED");
        assertThat(byAlias.path("registeredModelId").asText()).isEqualTo(rm);
        var serves = awaitRegistry(API + "/inference_services/" + byAlias.path("id").asText() + "/serves",
                list -> list.path("items").size() == 2 && list.toString().contains("RUNNING"));
        var states = new java.util.TreeMap<String, String>();
        serves.path("items").forEach(sm -> states.put(sm.path("modelVersionId").asText(), sm.path("lastKnownState").asText()));
        assertThat(states).containsEntry(v1, "COMPLETE").containsEntry(v2, "RUNNING");
        assertThat(server.send("DELETE", "/apis/capstan/v1/namespaces/default/inferenceservices/by-version", null, null).status()).isIn(200, 202);
        var gone = awaitRegistry(API + "/inference_service?name=by-version&parentResourceId=" + environment(),
                isvc -> isvc.path("desiredState").asText().equals("UNDEPLOYED"));
        assertThat(gone.path("modelVersionId").asText()).isEqualTo(v1);
    }

    private static String environment() {
        return awaitRegistry(API + "/serving_environment?name=default", env -> env.has("id")).path("id").asText();
    }

    private static com.fasterxml.jackson.databind.JsonNode awaitRegistry(String path, java.util.function.Predicate<com.fasterxml.jackson.databind.JsonNode> done) {
        long deadline = System.nanoTime() + java.time.Duration.ofSeconds(30).toNanos();
        while (true) {
            var r = server.send("GET", path, null, null);
            if (r.status() == 200 && done.test(r.json())) return r.json();
            if (System.nanoTime() > deadline) throw new AssertionError(path + " never got there: " + r.status() + " " + r.body());
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    private static com.fasterxml.jackson.databind.JsonNode post(String path, String body) {
        var r = server.send("POST", path, body, "application/json");
        assertThat(r.status()).as(path + " " + r.body()).isIn(200, 201);
        return r.json();
    }

    @Test
    void needsAToken() {
        var anonymous = server.sendAs(null, "GET", API + "/registered_models", null, null);
        assertThat(anonymous.status()).isEqualTo(401);
    }

    @Test
    void aUserWithoutARoleInTheNamespaceIsRefused() {
        var token = server.send("POST", "/apis/capstan/v1/tokens", "{\"user\": \"mallory@example.com\", \"expires\": \"1h\"}", "application/json");
        assertThat(token.status()).as(token.body()).isBetween(200, 201);
        var denied = server.sendAs(token.json().path("token").asText(), "GET", API + "/registered_models?namespace=default", null, null);
        assertThat(denied.status()).as(denied.body()).isEqualTo(403);
        assertThat(denied.json().path("code").asText()).isEqualTo("403");
    }
}
