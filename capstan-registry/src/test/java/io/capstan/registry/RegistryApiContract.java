package io.capstan.registry;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import io.capstan.core.security.AccessPolicy;
import io.capstan.core.security.Role;
import io.capstan.store.Database;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Model Registry API over HTTP against one database; subclasses pick H2 or PostgreSQL. Every answer is checked
 * against the upstream OpenAPI spec by {@link RegistryClient}: status declared by the operation, body conforming.
 * Each test works in a namespace of its own, so tests do not see each other's entities.
 */
abstract class RegistryApiContract {
    private static TestServer server;
    private static RegistrySpec spec;

    abstract Database database();

    @BeforeAll
    static void loadSpec() throws Exception {
        spec = new RegistrySpec();
    }

    void start() {
        if (server == null) {
            // alice may read team-a and change team-b; the admin may do anything.
            AccessPolicy policy = (caller, ns) -> caller.user().equals("alice")
                    ? (ns.equals("team-a") ? Optional.of(Role.VIEW) : ns.equals("team-b") ? Optional.of(Role.EDIT) : Optional.empty())
                    : Optional.empty();
            server = new TestServer(database(), policy);
        }
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
        server = null;
    }

    /** A client working in a fresh namespace, as the admin. */
    private Ns ns() {
        start();
        return new Ns("t" + UUID.randomUUID().toString().replace("-", "").substring(0, 12), "admin");
    }

    private final class Ns {
        final String name;
        final RegistryClient client;

        Ns(String name, String token) {
            this.name = name;
            this.client = new RegistryClient(server.base(), spec, token);
        }

        String q(String path) {
            return path + (path.contains("?") ? "&" : "?") + "namespace=" + name;
        }

        RegistryClient.Reply get(String path) {
            return client.get(q(path));
        }

        RegistryClient.Reply post(String path, String json) {
            return client.post(q(path), json);
        }

        RegistryClient.Reply patch(String path, String json) {
            return client.patch(q(path), json);
        }

        String create(String path, String json) {
            var r = post(path, json);
            // The spec declares 200 for POST /inference_services, 201 elsewhere.
            assertThat(r.status()).as("POST %s %s: %s", path, json, r.body()).isEqualTo(path.equals("/inference_services") ? 200 : 201);
            return r.id();
        }

        List<String> names(String path) {
            var r = get(path);
            assertThat(r.status()).as("GET %s: %s", path, r.body()).isEqualTo(200);
            var out = new ArrayList<String>();
            r.body().path("items").forEach(i -> out.add(i.path("name").asText()));
            return out;
        }
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** Upstream's test/scripts/rest.sh: a registered model, its version, the version's model artifact, then the inference services. */
    @Test
    void restShSequence() {
        var ns = ns();
        var rm = ns.create("/registered_models", "{\"description\": \"lorem ipsum registered model\", \"name\": \"demo-20260101\"}");
        assertThat(rm).matches("[1-9][0-9]*");
        var mv = ns.create("/model_versions", "{\"description\": \"lorem ipsum model version\", \"name\": \"v1\", \"author\": \"John Doe\","
                + " \"registeredModelId\": \"" + rm + "\"}");
        var ma = ns.post("/model_versions/" + mv + "/artifacts", """
                {"description": "lorem ipsum model artifact",
                 "uri": "https://huggingface.co/tarilabs/mnist/resolve/v1.nb20231206162408/mnist.onnx",
                 "name": "mnist", "modelFormatName": "onnx", "modelFormatVersion": "1",
                 "storageKey": "aws-connection-unused", "storagePath": "unused just demo", "artifactType": "model-artifact"}""");
        assertThat(ma.status()).isEqualTo(201);
        assertThat(ma.body().path("artifactType").asText()).isEqualTo("model-artifact");
        assertThat(ma.body().path("modelFormatName").asText()).isEqualTo("onnx");
        var isvcs = ns.get("/inference_services");
        assertThat(isvcs.status()).isEqualTo(200);
        assertThat(isvcs.body().path("size").asInt()).isZero();
        var version = ns.get("/model_versions/" + mv).body();
        assertThat(version.path("registeredModelId").asText()).isEqualTo(rm);
        assertThat(version.path("state").asText()).isEqualTo("LIVE");
        assertThat(version.path("author").asText()).isEqualTo("John Doe");
        assertThat(ns.get("/model_versions/" + mv + "/artifacts").body().path("items").get(0).path("id").asText()).isEqualTo(ma.id());
    }

    @Test
    void versionNamesAreUniqueWithinTheirModelAndParentsMustExist() {
        var ns = ns();
        var a = ns.create("/registered_models", "{\"name\": \"a\"}");
        var b = ns.create("/registered_models", "{\"name\": \"b\"}");
        assertThat(ns.post("/registered_models", "{\"name\": \"a\"}").status()).isEqualTo(409);
        ns.create("/model_versions", "{\"name\": \"v1\", \"registeredModelId\": \"" + a + "\"}");
        var dup = ns.post("/registered_models/" + a + "/versions", "{\"name\": \"v1\", \"registeredModelId\": \"" + a + "\"}");
        assertThat(dup.status()).isEqualTo(409);
        assertThat(dup.body().path("code").asText()).isEqualTo("409");
        assertThat(dup.body().path("message").asText()).contains("v1");
        ns.create("/registered_models/" + b + "/versions", "{\"name\": \"v1\", \"registeredModelId\": \"" + b + "\"}");
        var noParent = ns.post("/model_versions", "{\"name\": \"v2\", \"registeredModelId\": \"999999\"}");
        assertThat(noParent.status()).isEqualTo(422);
        assertThat(noParent.body().path("message").asText()).contains("registeredModelId");
        var noName = ns.post("/model_versions", "{\"registeredModelId\": \"" + a + "\"}");
        assertThat(noName.status()).isEqualTo(422);
        assertThat(noName.body().path("message").asText()).contains("name");
        assertThat(ns.post("/registered_models/999999/versions", "{\"name\": \"v\", \"registeredModelId\": \"999999\"}").status()).isEqualTo(404);
        assertThat(ns.names("/registered_models/" + a + "/versions")).containsExactly("v1");
        assertThat(ns.names("/model_versions")).containsExactly("v1", "v1");
    }

    @Test
    void bodiesAreDecodedAsGoDecodesThem() {
        var ns = ns();
        // Keys match ignoring case; unknown fields and wrong types are refused, naming the field.
        var rm = ns.post("/registered_models", "{\"NAME\": \"m\", \"Description\": \"d\", \"CustomProperties\": {\"k\": {\"METADATATYPE\": \"MetadataStringValue\", \"String_Value\": \"v\"}}}");
        assertThat(rm.status()).isEqualTo(201);
        assertThat(rm.body().path("name").asText()).isEqualTo("m");
        assertThat(rm.body().path("description").asText()).isEqualTo("d");
        assertThat(rm.body().path("customProperties").path("k").path("string_value").asText()).isEqualTo("v");
        var unknown = ns.post("/registered_models", "{\"name\": \"x\", \"colour\": \"red\"}");
        assertThat(unknown.status()).isEqualTo(400);
        assertThat(unknown.body().path("message").asText()).contains("colour");
        var wrongType = ns.post("/registered_models", "{\"name\": 5}");
        assertThat(wrongType.status()).isEqualTo(400);
        assertThat(wrongType.body().path("message").asText()).contains("name");
        var badState = ns.post("/registered_models", "{\"name\": \"x\", \"state\": \"GONE\"}");
        assertThat(badState.status()).isEqualTo(400);
        assertThat(badState.body().path("message").asText()).contains("state").contains("LIVE");
        var badProp = ns.post("/registered_models", "{\"name\": \"x\", \"customProperties\": {\"p\": {\"metadataType\": \"MetadataDoubleValue\", \"double_value\": \"high\"}}}");
        assertThat(badProp.status()).isEqualTo(400);
        assertThat(badProp.body().path("message").asText()).contains("customProperties.p.double_value");
        assertThat(ns.post("/registered_models", "[1]").status()).isEqualTo(400);
        assertThat(ns.post("/registered_models", "{").status()).isEqualTo(400);
        // Nothing was stored by the refused requests.
        assertThat(ns.names("/registered_models")).containsExactly("m");
        assertThat(ns.get("/registered_models/abc").status()).isEqualTo(400);
        assertThat(ns.get("/registered_models/424242").status()).isEqualTo(404);
    }

    @Test
    void patchKeepsOrReplacesCustomPropertiesAndNeverChangesNamesOrParents() {
        var ns = ns();
        var rm = ns.create("/registered_models", """
                {"name": "m", "description": "one", "customProperties": {
                  "a": {"metadataType": "MetadataStringValue", "string_value": "x"},
                  "n": {"metadataType": "MetadataIntValue", "int_value": "7"}}}""");
        var created = ns.get("/registered_models/" + rm).body();
        var patched = ns.patch("/registered_models/" + rm, "{\"description\": \"two\"}");
        assertThat(patched.status()).isEqualTo(200);
        assertThat(patched.body().path("description").asText()).isEqualTo("two");
        assertThat(keys(patched.body().path("customProperties"))).containsExactlyInAnyOrder("a", "n");
        assertThat(patched.body().path("name").asText()).isEqualTo("m");
        assertThat(Long.parseLong(patched.body().path("lastUpdateTimeSinceEpoch").asText()))
                .isGreaterThanOrEqualTo(Long.parseLong(created.path("lastUpdateTimeSinceEpoch").asText()));
        assertThat(patched.body().path("createTimeSinceEpoch").asText()).isEqualTo(created.path("createTimeSinceEpoch").asText());
        var replaced = ns.patch("/registered_models/" + rm, "{\"customProperties\": {\"b\": {\"metadataType\": \"MetadataBoolValue\", \"bool_value\": true}}}");
        assertThat(keys(replaced.body().path("customProperties"))).containsExactly("b");
        assertThat(replaced.body().path("description").asText()).isEqualTo("two");
        var rename = ns.patch("/registered_models/" + rm, "{\"name\": \"other\"}");
        assertThat(rename.status()).isEqualTo(400);
        assertThat(rename.body().path("message").asText()).contains("name");
        var mv = ns.create("/model_versions", "{\"name\": \"v1\", \"registeredModelId\": \"" + rm + "\"}");
        var reparent = ns.patch("/model_versions/" + mv, "{\"registeredModelId\": \"" + rm + "\"}");
        assertThat(reparent.status()).isEqualTo(400);
        var archived = ns.patch("/model_versions/" + mv, "{\"state\": \"ARCHIVED\"}");
        assertThat(archived.body().path("state").asText()).isEqualTo("ARCHIVED");
        assertThat(ns.get("/registered_models/" + rm).body().path("name").asText()).isEqualTo("m");
        assertThat(ns.patch("/registered_models/987654", "{\"description\": \"x\"}").status()).isEqualTo(404);
    }

    @Test
    void listsPageWithOpaqueKeysetTokensInEveryOrder() {
        var ns = ns();
        var ids = new ArrayList<String>();
        for (int i = 0; i < 7; i++) ids.add(ns.create("/registered_models", "{\"name\": \"m" + i + "\"}"));
        for (var order : List.of("ID", "CREATE_TIME", "LAST_UPDATE_TIME")) {
            for (var sort : List.of("ASC", "DESC")) {
                var seen = new ArrayList<String>();
                String token = "";
                int pages = 0;
                do {
                    var r = ns.get("/registered_models?pageSize=3&orderBy=" + order + "&sortOrder=" + sort + (token.isEmpty() ? "" : "&nextPageToken=" + enc(token)));
                    assertThat(r.status()).isEqualTo(200);
                    assertThat(r.body().path("pageSize").asInt()).isEqualTo(3);
                    assertThat(r.body().path("size").asInt()).isEqualTo(r.body().path("items").size());
                    r.body().path("items").forEach(i -> seen.add(i.path("id").asText()));
                    token = r.body().path("nextPageToken").asText();
                    pages++;
                } while (!token.isEmpty());
                assertThat(pages).isEqualTo(3);
                var expected = new ArrayList<>(ids);
                if (sort.equals("DESC")) java.util.Collections.reverse(expected);
                if (order.equals("ID")) assertThat(seen).containsExactlyElementsOf(expected);
                else assertThat(seen).containsExactlyInAnyOrderElementsOf(expected).doesNotHaveDuplicates();
            }
        }
        assertThat(ns.get("/registered_models?nextPageToken=notatoken").status()).isEqualTo(400);
        assertThat(ns.get("/registered_models?orderBy=NAME").status()).isEqualTo(400);
        assertThat(ns.get("/registered_models?pageSize=0").status()).isEqualTo(400);
        // Moving a model to the end of LAST_UPDATE_TIME order.
        ns.patch("/registered_models/" + ids.getFirst(), "{\"description\": \"touched\"}");
        var byUpdate = ns.get("/registered_models?orderBy=LAST_UPDATE_TIME&sortOrder=DESC&pageSize=1").body();
        assertThat(byUpdate.path("items").get(0).path("id").asText()).isEqualTo(ids.getFirst());
    }

    @Test
    void filterQueryComparesColumnsWellKnownAndTypedCustomProperties() {
        var ns = ns();
        var rm = ns.create("/registered_models", "{\"name\": \"iris\"}");
        double[] accuracy = {0.80, 0.92, 0.97};
        for (int i = 0; i < 3; i++) {
            ns.create("/model_versions", "{\"name\": \"v" + i + "\", \"registeredModelId\": \"" + rm + "\", \"author\": \"" + (i == 0 ? "Ann" : "bob")
                    + "\", \"customProperties\": {\"accuracy\": {\"metadataType\": \"MetadataDoubleValue\", \"double_value\": " + accuracy[i] + "},"
                    + " \"epochs\": {\"metadataType\": \"MetadataIntValue\", \"int_value\": \"" + (10 * (i + 1)) + "\"},"
                    + " \"mlflow.source.type\": {\"metadataType\": \"MetadataStringValue\", \"string_value\": \"" + (i == 2 ? "notebook" : "job") + "\"},"
                    + " \"prod\": {\"metadataType\": \"MetadataBoolValue\", \"bool_value\": " + (i == 1) + "}}}");
        }
        ns.patch("/model_versions/" + ns.get("/model_version?name=v0&parentResourceId=" + rm).id(), "{\"state\": \"ARCHIVED\"}");
        java.util.function.Function<String, List<String>> filter = f -> ns.names("/model_versions?filterQuery=" + enc(f));
        assertThat(filter.apply("accuracy.double_value > 0.9")).containsExactly("v1", "v2");
        assertThat(filter.apply("accuracy > 0.95")).containsExactly("v2");
        assertThat(filter.apply("epochs = 20")).containsExactly("v1");
        assertThat(filter.apply("epochs.int_value >= 20 AND accuracy.double_value < 0.95")).containsExactly("v1");
        assertThat(filter.apply("(epochs.int_value = 10 OR epochs.int_value = 30) AND name != \"v0\"")).containsExactly("v2");
        assertThat(filter.apply("`mlflow.source.type` = \"notebook\"")).containsExactly("v2");
        assertThat(filter.apply("mlflow.source.type = 'job'")).containsExactly("v0", "v1");
        assertThat(filter.apply("prod = true")).containsExactly("v1");
        assertThat(filter.apply("prod.bool_value = false")).containsExactly("v0", "v2");
        assertThat(filter.apply("name IN (\"v0\", \"v2\")")).containsExactly("v0", "v2");
        assertThat(filter.apply("name LIKE \"v%\" AND state = \"LIVE\"")).containsExactly("v1", "v2");
        assertThat(filter.apply("state = 'ARCHIVED'")).containsExactly("v0");
        assertThat(filter.apply("author = \"bob\"")).containsExactly("v1", "v2");
        assertThat(filter.apply("author ILIKE \"ANN\"")).containsExactly("v0");
        assertThat(filter.apply("author LIKE \"ANN\"")).isEmpty();
        assertThat(filter.apply("registeredModelId = " + rm + " and accuracy <> 0.8")).containsExactly("v1", "v2");
        assertThat(filter.apply("id > 0 -- every one")).containsExactly("v0", "v1", "v2");
        // An injection attempt is a value like any other.
        assertThat(filter.apply("name = \"x' OR '1'='1\"")).isEmpty();
        for (var bad : List.of("name = ", "name \"v1\"", "(name = \"v1\"", "name === \"v1\"", "accuracy LIKE 5", "epochs.int_value = 'many'", "name = (1, 2)")) {
            var r = ns.get("/model_versions?filterQuery=" + enc(bad));
            assertThat(r.status()).as(bad).isEqualTo(400);
            assertThat(r.body().path("message").asText()).as(bad).startsWith("invalid filter query");
        }
    }

    @Test
    void findEndpointsNeedANameOrExternalIdAndAnswer404WhenNothingMatches() {
        var ns = ns();
        var rm = ns.create("/registered_models", "{\"name\": \"m\", \"externalId\": \"ext-1\"}");
        assertThat(ns.get("/registered_model?name=m").id()).isEqualTo(rm);
        assertThat(ns.get("/registered_model?externalId=ext-1").id()).isEqualTo(rm);
        assertThat(ns.get("/registered_model?name=nope").status()).isEqualTo(404);
        assertThat(ns.client.raw("GET", ns.q("/registered_model"), null).status()).isEqualTo(400);
        assertThat(ns.post("/registered_models", "{\"name\": \"other\", \"externalId\": \"ext-1\"}").status()).isEqualTo(409);
        var mv = ns.create("/model_versions", "{\"name\": \"v1\", \"registeredModelId\": \"" + rm + "\"}");
        assertThat(ns.get("/model_version?name=v1&parentResourceId=" + rm).id()).isEqualTo(mv);
        assertThat(ns.get("/model_version?name=v2&parentResourceId=" + rm).status()).isEqualTo(404);
        var ma = ns.post("/model_versions/" + mv + "/artifacts", "{\"artifactType\": \"model-artifact\", \"name\": \"weights\", \"uri\": \"s3://b/k\"}").id();
        assertThat(ns.get("/model_artifact?name=weights&parentResourceId=" + mv).id()).isEqualTo(ma);
        assertThat(ns.get("/artifact?name=weights&parentResourceId=" + mv).id()).isEqualTo(ma);
        var env = ns.create("/serving_environments", "{\"name\": \"prod\"}");
        assertThat(ns.get("/serving_environment?name=prod").id()).isEqualTo(env);
        var exp = ns.create("/experiments", "{\"name\": \"e\"}");
        assertThat(ns.get("/experiment?name=e").id()).isEqualTo(exp);
        var run = ns.create("/experiment_runs", "{\"name\": \"r\", \"experimentId\": \"" + exp + "\"}");
        assertThat(ns.get("/experiment_run?name=r&parentResourceId=" + exp).id()).isEqualTo(run);
        var isvc = ns.create("/inference_services", "{\"name\": \"svc\", \"registeredModelId\": \"" + rm + "\", \"servingEnvironmentId\": \"" + env + "\"}");
        assertThat(ns.get("/inference_service?name=svc&parentResourceId=" + env).id()).isEqualTo(isvc);
    }

    @Test
    void artifactsOfEveryTypeAndUpsertUnderAVersion() {
        var ns = ns();
        var created = new ArrayList<String>();
        for (var body : List.of(
                "{\"artifactType\": \"model-artifact\", \"name\": \"m\", \"uri\": \"s3://b/m\", \"modelFormatName\": \"onnx\", \"state\": \"LIVE\"}",
                "{\"artifactType\": \"doc-artifact\", \"name\": \"d\", \"uri\": \"https://x/readme\"}",
                "{\"artifactType\": \"dataset-artifact\", \"name\": \"ds\", \"digest\": \"sha256:abc\", \"sourceType\": \"s3\"}",
                "{\"artifactType\": \"metric\", \"name\": \"acc\", \"value\": 0.9, \"step\": 3, \"timestamp\": \"1700000000000\"}",
                "{\"artifactType\": \"parameter\", \"name\": \"lr\", \"value\": \"0.01\", \"parameterType\": \"number\"}")) {
            var r = ns.post("/artifacts", body);
            assertThat(r.status()).as(body).isEqualTo(201);
            created.add(r.id());
        }
        assertThat(ns.get("/artifacts").body().path("size").asInt()).isEqualTo(5);
        assertThat(ns.names("/artifacts?artifactType=metric")).containsExactly("acc");
        assertThat(ns.names("/model_artifacts")).containsExactly("m");
        assertThat(ns.get("/artifacts/" + created.get(3)).body().path("value").asDouble()).isEqualTo(0.9);
        assertThat(ns.get("/model_artifacts/" + created.get(1)).status()).isEqualTo(404);
        assertThat(ns.post("/artifacts", "{\"name\": \"x\"}").status()).isEqualTo(400);
        assertThat(ns.post("/artifacts", "{\"artifactType\": \"model\", \"name\": \"x\"}").status()).isEqualTo(400);
        assertThat(ns.patch("/artifacts/" + created.get(0), "{\"artifactType\": \"doc-artifact\"}").status()).isEqualTo(400);
        var patched = ns.patch("/artifacts/" + created.get(0), "{\"artifactType\": \"model-artifact\", \"modelFormatVersion\": \"1\"}");
        assertThat(patched.body().path("modelFormatVersion").asText()).isEqualTo("1");
        assertThat(patched.body().path("modelFormatName").asText()).isEqualTo("onnx");
        assertThat(ns.names("/artifacts?filterQuery=" + enc("modelFormatName = \"onnx\""))).containsExactly("m");

        var rm = ns.create("/registered_models", "{\"name\": \"r\"}");
        var mv = ns.create("/model_versions", "{\"name\": \"v1\", \"registeredModelId\": \"" + rm + "\"}");
        var first = ns.post("/model_versions/" + mv + "/artifacts", "{\"artifactType\": \"model-artifact\", \"name\": \"w\", \"uri\": \"s3://b/1\"}");
        assertThat(first.status()).isEqualTo(201);
        var again = ns.post("/model_versions/" + mv + "/artifacts", "{\"artifactType\": \"model-artifact\", \"name\": \"w\", \"uri\": \"s3://b/2\"}");
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.id()).isEqualTo(first.id());
        assertThat(again.body().path("uri").asText()).isEqualTo("s3://b/2");
        var linked = ns.post("/model_versions/" + mv + "/artifacts", "{\"artifactType\": \"doc-artifact\", \"id\": \"" + created.get(1) + "\"}");
        assertThat(linked.status()).isEqualTo(200);
        assertThat(ns.names("/model_versions/" + mv + "/artifacts")).containsExactly("d", "w");
        assertThat(ns.names("/model_versions/" + mv + "/artifacts?artifactType=doc-artifact")).containsExactly("d");
        assertThat(ns.post("/model_versions/424242/artifacts", "{\"artifactType\": \"doc-artifact\", \"name\": \"z\"}").status()).isEqualTo(404);
    }

    @Test
    void servingEnvironmentsInferenceServicesAndServeModels() {
        var ns = ns();
        var rm = ns.create("/registered_models", "{\"name\": \"m\"}");
        var v1 = ns.create("/model_versions", "{\"name\": \"v1\", \"registeredModelId\": \"" + rm + "\"}");
        var v2 = ns.create("/model_versions", "{\"name\": \"v2\", \"registeredModelId\": \"" + rm + "\"}");
        var env = ns.create("/serving_environments", "{\"name\": \"prod\"}");
        var isvc = ns.create("/serving_environments/" + env + "/inference_services",
                "{\"name\": \"svc\", \"registeredModelId\": \"" + rm + "\", \"servingEnvironmentId\": \"" + env + "\", \"runtime\": \"onnx\"}");
        var got = ns.get("/inference_services/" + isvc).body();
        assertThat(got.path("desiredState").asText()).isEqualTo("DEPLOYED");
        assertThat(ns.get("/inference_services/" + isvc + "/model").id()).isEqualTo(rm);
        assertThat(ns.get("/inference_services/" + isvc + "/version").id()).as("the latest version by default").isEqualTo(v2);
        ns.patch("/inference_services/" + isvc, "{\"modelVersionId\": \"" + v1 + "\", \"desiredState\": \"UNDEPLOYED\"}");
        assertThat(ns.get("/inference_services/" + isvc + "/version").id()).isEqualTo(v1);
        assertThat(ns.names("/serving_environments/" + env + "/inference_services")).containsExactly("svc");
        assertThat(ns.names("/inference_services?filterQuery=" + enc("desiredState = \"UNDEPLOYED\""))).containsExactly("svc");
        var other = ns.create("/registered_models", "{\"name\": \"other\"}");
        var foreign = ns.create("/model_versions", "{\"name\": \"v1\", \"registeredModelId\": \"" + other + "\"}");
        assertThat(ns.patch("/inference_services/" + isvc, "{\"modelVersionId\": \"" + foreign + "\"}").status()).isEqualTo(400);
        var serve = ns.post("/inference_services/" + isvc + "/serves", "{\"name\": \"s1\", \"modelVersionId\": \"" + v1 + "\", \"lastKnownState\": \"RUNNING\"}");
        assertThat(serve.status()).isEqualTo(201);
        assertThat(ns.names("/inference_services/" + isvc + "/serves")).containsExactly("s1");
        assertThat(ns.post("/inference_services/" + isvc + "/serves", "{\"name\": \"s2\"}").status()).isEqualTo(422);
        assertThat(ns.post("/inference_services", "{\"name\": \"x\", \"registeredModelId\": \"" + rm + "\"}").status()).isEqualTo(422);
    }

    @Test
    void experimentsRunsAndMetricHistory() {
        var ns = ns();
        var exp = ns.create("/experiments", "{\"name\": \"tune\", \"owner\": \"ann\"}");
        var run = ns.create("/experiments/" + exp + "/experiment_runs", "{\"name\": \"r1\", \"experimentId\": \"" + exp + "\"}");
        var got = ns.get("/experiment_runs/" + run).body();
        assertThat(got.path("status").asText()).isEqualTo("RUNNING");
        assertThat(got.path("startTimeSinceEpoch").asText()).matches("[0-9]+");
        for (int step = 1; step <= 3; step++) {
            var r = ns.post("/experiment_runs/" + run + "/artifacts", "{\"artifactType\": \"metric\", \"name\": \"loss\", \"value\": " + (1.0 / step) + ", \"step\": " + step + "}");
            assertThat(r.status()).isEqualTo(step == 1 ? 201 : 200);
            assertThat(r.body().path("experimentRunId").asText()).isEqualTo(run);
            assertThat(r.body().path("experimentId").asText()).isEqualTo(exp);
        }
        ns.post("/experiment_runs/" + run + "/artifacts", "{\"artifactType\": \"parameter\", \"name\": \"lr\", \"value\": \"0.1\", \"parameterType\": \"number\"}");
        assertThat(ns.names("/experiment_runs/" + run + "/artifacts")).containsExactly("loss", "lr");
        var history = ns.get("/experiment_runs/" + run + "/metric_history").body();
        assertThat(history.path("size").asInt()).isEqualTo(3);
        var steps = new ArrayList<Integer>();
        history.path("items").forEach(i -> steps.add(i.path("step").asInt()));
        assertThat(steps).containsExactly(1, 2, 3);
        assertThat(ns.get("/experiment_runs/" + run + "/metric_history?stepIds=1,3").body().path("size").asInt()).isEqualTo(2);
        assertThat(ns.get("/experiment_runs/" + run + "/metric_history?name=acc").body().path("size").asInt()).isZero();
        assertThat(ns.get("/experiment_runs/metric_history?filterQuery=" + enc("value < 0.4")).body().path("size").asInt()).isEqualTo(1);
        assertThat(ns.get("/experiment_runs/" + run + "/metric_history?stepIds=a").status()).isEqualTo(400);
        var finished = ns.patch("/experiment_runs/" + run, "{\"status\": \"FINISHED\", \"endTimeSinceEpoch\": \"1700000000000\"}");
        assertThat(finished.body().path("status").asText()).isEqualTo("FINISHED");
        assertThat(ns.names("/experiments/" + exp + "/experiment_runs?filterQuery=" + enc("status = \"FINISHED\""))).containsExactly("r1");
        assertThat(ns.post("/experiment_runs", "{\"name\": \"r2\"}").status()).isEqualTo(422);
    }

    @Test
    void deletesAreRefusedWhileDeployedUnlessForcedAndTakeArtifactsAlong() {
        var ns = ns();
        var rm = ns.create("/registered_models", "{\"name\": \"m\"}");
        var v1 = ns.create("/model_versions", "{\"name\": \"v1\", \"registeredModelId\": \"" + rm + "\"}");
        var v2 = ns.create("/model_versions", "{\"name\": \"v2\", \"registeredModelId\": \"" + rm + "\"}");
        var own = ns.post("/model_versions/" + v1 + "/artifacts", "{\"artifactType\": \"model-artifact\", \"name\": \"w\", \"uri\": \"s3://b/1\"}").id();
        var shared = ns.post("/artifacts", "{\"artifactType\": \"doc-artifact\", \"name\": \"readme\"}").id();
        ns.post("/model_versions/" + v1 + "/artifacts", "{\"artifactType\": \"doc-artifact\", \"id\": \"" + shared + "\"}");
        ns.post("/model_versions/" + v2 + "/artifacts", "{\"artifactType\": \"doc-artifact\", \"id\": \"" + shared + "\"}");
        var env = ns.create("/serving_environments", "{\"name\": \"prod\"}");
        var isvc = ns.create("/inference_services", "{\"name\": \"svc\", \"registeredModelId\": \"" + rm + "\", \"servingEnvironmentId\": \""
                + env + "\", \"modelVersionId\": \"" + v1 + "\"}");
        var refused = ns.client.raw("DELETE", ns.q("/model_versions/" + v1), null);
        assertThat(refused.status()).isEqualTo(409);
        assertThat(refused.body().path("message").asText()).contains("svc").contains("force");
        assertThat(ns.client.raw("DELETE", ns.q("/registered_models/" + rm), null).status()).isEqualTo(409);
        // v2 is not deployed: the service names v1.
        assertThat(ns.client.raw("DELETE", ns.q("/model_versions/" + v2), null).status()).isEqualTo(204);
        assertThat(ns.get("/model_versions/" + v2).status()).isEqualTo(404);
        assertThat(ns.get("/artifacts/" + shared).status()).as("still attached to v1").isEqualTo(200);
        // Undeployed, v1 goes, with the artifact only it had; the shared one, now v1's alone, goes too.
        ns.patch("/inference_services/" + isvc, "{\"desiredState\": \"UNDEPLOYED\"}");
        assertThat(ns.client.raw("DELETE", ns.q("/model_versions/" + v1), null).status()).isEqualTo(204);
        assertThat(ns.get("/artifacts/" + own).status()).isEqualTo(404);
        assertThat(ns.get("/artifacts/" + shared).status()).isEqualTo(404);
        // A service without a version serves the latest one, which is then deployed.
        var v3 = ns.create("/model_versions", "{\"name\": \"v3\", \"registeredModelId\": \"" + rm + "\"}");
        ns.create("/inference_services", "{\"name\": \"latest\", \"registeredModelId\": \"" + rm + "\", \"servingEnvironmentId\": \"" + env + "\"}");
        assertThat(ns.client.raw("DELETE", ns.q("/model_versions/" + v3), null).status()).isEqualTo(409);
        assertThat(ns.client.raw("DELETE", ns.q("/registered_models/" + rm + "?force=maybe"), null).status()).isEqualTo(400);
        assertThat(ns.client.raw("DELETE", ns.q("/registered_models/" + rm + "?force=true"), null).status()).isEqualTo(204);
        assertThat(ns.get("/registered_models/" + rm).status()).isEqualTo(404);
        assertThat(ns.get("/model_versions/" + v3).status()).isEqualTo(404);
        assertThat(ns.get("/inference_services").body().path("size").asInt()).isZero();
        assertThat(ns.client.raw("DELETE", ns.q("/registered_models/" + rm), null).status()).isEqualTo(404);
        // The name is free again.
        ns.create("/registered_models", "{\"name\": \"m\"}");
    }

    @Test
    void aliasesMoveBetweenVersionsAndModelRegistryUrisResolve() {
        var ns = ns();
        var ext = new RegistryClient(server.extensionBase(), spec, "admin");
        var rm = ns.create("/registered_models", "{\"name\": \"iris\"}");
        var v1 = ns.create("/model_versions", "{\"name\": \"v1\", \"registeredModelId\": \"" + rm + "\"}");
        ns.post("/model_versions/" + v1 + "/artifacts", "{\"artifactType\": \"model-artifact\", \"name\": \"w\", \"uri\": \"s3://b/v1.onnx\", \"modelFormatName\": \"onnx\"}");
        var v2 = ns.create("/model_versions", "{\"name\": \"v2\", \"registeredModelId\": \"" + rm + "\"}");
        ns.post("/model_versions/" + v2 + "/artifacts", "{\"artifactType\": \"model-artifact\", \"name\": \"w\", \"uri\": \"s3://b/v2.onnx\", \"modelFormatName\": \"onnx\"}");
        var set = ext.raw("PUT", ns.q("/registered_models/" + rm + "/aliases/champion"), "{\"modelVersionId\": \"" + v1 + "\"}");
        assertThat(set.status()).as(set.body().toString()).isEqualTo(200);
        assertThat(set.body().path("modelVersionId").asText()).isEqualTo(v1);
        assertThat(ext.raw("GET", ns.q("/registered_models/" + rm + "/aliases/champion"), null).body().path("name").asText()).isEqualTo("v1");
        java.util.function.Function<String, JsonNode> resolve = uri -> {
            var r = ext.raw("GET", ns.q("/resolve?uri=" + enc(uri)), null);
            assertThat(r.status()).as(uri + ": " + r.body()).isEqualTo(200);
            return r.body();
        };
        assertThat(resolve.apply("model-registry://iris@champion").path("storageUri").asText()).isEqualTo("s3://b/v1.onnx");
        assertThat(resolve.apply("model-registry://iris@champion").path("alias").asText()).isEqualTo("champion");
        assertThat(resolve.apply("model-registry://iris").path("versionName").asText()).as("the latest version").isEqualTo("v2");
        assertThat(resolve.apply("model-registry://iris/v1").path("modelVersionId").asText()).isEqualTo(v1);
        assertThat(resolve.apply("model-registry://registry.example:8080/iris/v1").path("versionName").asText()).isEqualTo("v1");
        assertThat(resolve.apply("model-registry://iris/v2?namespace=" + ns.name).path("modelFormatName").asText()).isEqualTo("onnx");
        // Moving the alias.
        ext.raw("PUT", ns.q("/registered_models/" + rm + "/aliases/champion"), "{\"modelVersionId\": \"" + v2 + "\"}");
        assertThat(resolve.apply("model-registry://iris@champion").path("storageUri").asText()).isEqualTo("s3://b/v2.onnx");
        ext.raw("PUT", ns.q("/registered_models/" + rm + "/aliases/challenger"), "{\"modelVersionId\": \"" + v1 + "\"}");
        var list = ext.raw("GET", ns.q("/registered_models/" + rm + "/aliases"), null).body();
        assertThat(list.path("items").findValuesAsText("alias")).containsExactly("challenger", "champion");
        // Refusals name what is wrong.
        assertThat(ext.raw("PUT", ns.q("/registered_models/" + rm + "/aliases/Champion"), "{\"modelVersionId\": \"" + v1 + "\"}").status()).isEqualTo(400);
        var other = ns.create("/registered_models", "{\"name\": \"other\"}");
        var foreign = ns.create("/model_versions", "{\"name\": \"x\", \"registeredModelId\": \"" + other + "\"}");
        assertThat(ext.raw("PUT", ns.q("/registered_models/" + rm + "/aliases/champion"), "{\"modelVersionId\": \"" + foreign + "\"}").status()).isEqualTo(400);
        assertThat(ext.raw("PUT", ns.q("/registered_models/" + rm + "/aliases/champion"), "{\"version\": \"1\"}").status()).isEqualTo(400);
        for (var bad : List.of("model-registry://iris@nobody", "model-registry://nope", "model-registry://iris/v9", "model-registry://other",
                "model-registry://iris/v1?namespace=elsewhere")) {
            var r = ext.raw("GET", ns.q("/resolve?uri=" + enc(bad)), null);
            assertThat(r.status()).as(bad).isEqualTo(404);
            assertThat(r.body().path("message").asText()).as(bad).isNotBlank();
        }
        assertThat(ext.raw("GET", ns.q("/resolve?uri=" + enc("s3://b/k")), null).status()).isEqualTo(400);
        // A version token is a version name (which may hold "@"), never an alias.
        assertThat(ext.raw("GET", ns.q("/resolve?uri=" + enc("model-registry://iris/v1@champion")), null).status()).isEqualTo(404);
        // Deleting an alias, and a version taking its aliases along.
        assertThat(ext.raw("DELETE", ns.q("/registered_models/" + rm + "/aliases/challenger"), null).status()).isEqualTo(204);
        assertThat(ext.raw("DELETE", ns.q("/registered_models/" + rm + "/aliases/challenger"), null).status()).isEqualTo(404);
        assertThat(ns.client.raw("DELETE", ns.q("/model_versions/" + v2), null).status()).isEqualTo(204);
        assertThat(ext.raw("GET", ns.q("/registered_models/" + rm + "/aliases/champion"), null).status()).isEqualTo(404);
    }

    @Test
    void deployMakesAnInferenceServiceThatFollowsItsAlias() {
        var ns = ns();
        var ext = new RegistryClient(server.extensionBase(), spec, "admin");
        var rm = ns.create("/registered_models", "{\"name\": \"iris\"}");
        var v1 = ns.create("/model_versions", "{\"name\": \"v1\", \"registeredModelId\": \"" + rm + "\"}");
        var v2 = ns.create("/model_versions", "{\"name\": \"v2\", \"registeredModelId\": \"" + rm + "\"}");
        var empty = ns.create("/model_versions", "{\"name\": \"empty\", \"registeredModelId\": \"" + rm + "\"}");
        ns.post("/model_versions/" + v1 + "/artifacts", "{\"artifactType\": \"model-artifact\", \"name\": \"w\", \"uri\": \"s3://b/v1.onnx\", \"modelFormatName\": \"onnx\"}");
        ns.post("/model_versions/" + v2 + "/artifacts", "{\"artifactType\": \"model-artifact\", \"name\": \"w\", \"uri\": \"s3://b/v2.onnx\", \"modelFormatName\": \"onnx\", \"modelFormatVersion\": \"1\"}");
        ext.raw("PUT", ns.q("/registered_models/" + rm + "/aliases/champion"), "{\"modelVersionId\": \"" + v1 + "\"}");
        var deployed = ns.client.raw("POST", ns.q("/model_versions/" + v1 + ":deploy"), "{\"alias\": \"champion\"}");
        assertThat(deployed.status()).as(deployed.body().toString()).isEqualTo(200);
        assertThat(deployed.body().path("name").asText()).isEqualTo("iris");
        var key = new io.capstan.core.ResourceKey("InferenceService", ns.name, "iris");
        var isvc = server.resources.get(key);
        assertThat(isvc.apiVersion()).isEqualTo("serving.kserve.io/v1beta1");
        assertThat(isvc.spec().path("predictor").path("model").path("storageUri").asText()).isEqualTo("s3://b/v1.onnx");
        assertThat(isvc.spec().path("predictor").path("model").path("modelFormat").path("name").asText()).isEqualTo("onnx");
        assertThat(isvc.metadata().labels()).containsEntry("modelregistry.kubeflow.org/registered-model-id", rm)
                .containsEntry("modelregistry.kubeflow.org/model-version-id", v1);
        // The registry's own InferenceService entity is kept in step.
        var entity = ns.get("/inference_services/" + deployed.body().path("inferenceServiceId").asText()).body();
        assertThat(entity.path("modelVersionId").asText()).isEqualTo(v1);
        assertThat(entity.path("desiredState").asText()).isEqualTo("DEPLOYED");
        assertThat(ns.client.raw("DELETE", ns.q("/model_versions/" + v1), null).status()).as("deployed").isEqualTo(409);
        // Moving the alias moves the service: a new spec, hence a new revision.
        long generation = isvc.metadata().generation();
        var moved = ext.raw("PUT", ns.q("/registered_models/" + rm + "/aliases/champion"), "{\"modelVersionId\": \"" + v2 + "\"}");
        assertThat(moved.body().path("redeployed").findValuesAsText("")).isEmpty();
        assertThat(moved.body().path("redeployed").get(0).asText()).isEqualTo("iris");
        var after = server.resources.get(key);
        assertThat(after.spec().path("predictor").path("model").path("storageUri").asText()).isEqualTo("s3://b/v2.onnx");
        assertThat(after.spec().path("predictor").path("model").path("modelFormat").path("version").asText()).isEqualTo("1");
        assertThat(after.metadata().generation()).isGreaterThan(generation);
        assertThat(after.metadata().labels()).containsEntry("modelregistry.kubeflow.org/model-version-id", v2);
        assertThat(ns.get("/inference_services/" + deployed.body().path("inferenceServiceId").asText()).body().path("modelVersionId").asText()).isEqualTo(v2);
        // A service deployed without an alias stays put; refusals name the problem.
        assertThat(ns.client.raw("POST", ns.q("/model_versions/" + v1 + ":deploy"), "{\"name\": \"pinned\"}").status()).isEqualTo(200);
        ext.raw("PUT", ns.q("/registered_models/" + rm + "/aliases/champion"), "{\"modelVersionId\": \"" + v1 + "\"}");
        assertThat(server.resources.get(new io.capstan.core.ResourceKey("InferenceService", ns.name, "pinned")).spec().path("predictor").path("model")
                .path("storageUri").asText()).isEqualTo("s3://b/v1.onnx");
        assertThat(ns.client.raw("POST", ns.q("/model_versions/" + empty + ":deploy"), "{\"name\": \"e\"}").status()).isEqualTo(422);
        assertThat(ns.client.raw("POST", ns.q("/model_versions/" + v2 + ":deploy"), "{\"alias\": \"champion\", \"name\": \"x\"}").status()).isEqualTo(409);
        assertThat(ns.client.raw("POST", ns.q("/model_versions/" + v2 + ":deploy"), "{\"name\": \"Bad_Name\"}").status()).isEqualTo(400);
        assertThat(ns.client.raw("POST", ns.q("/model_versions/" + v2 + ":undeploy"), null).status()).isEqualTo(404);
        server.resources.create(io.capstan.core.Resource.of("serving.kserve.io/v1beta1", "InferenceService",
                io.capstan.core.ObjectMeta.named(ns.name, "handmade"), Json.json().createObjectNode()));
        assertThat(ns.client.raw("POST", ns.q("/model_versions/" + v2 + ":deploy"), "{\"name\": \"handmade\"}").status()).isEqualTo(409);
    }

    @Test
    void namespacesAreSeparateAndAccessFollowsThePolicy() {
        start();
        var admin = new Ns("team-a", "admin");
        var id = admin.create("/registered_models", "{\"name\": \"shared-" + UUID.randomUUID() + "\"}");
        var alice = new Ns("team-a", "alice");
        assertThat(alice.get("/registered_models/" + id).status()).isEqualTo(200);
        var denied = alice.client.raw("POST", alice.q("/registered_models"), "{\"name\": \"mine\"}");
        assertThat(denied.status()).isEqualTo(403);
        assertThat(denied.body().path("message").asText()).contains("team-a");
        var inB = new Ns("team-b", "alice");
        var own = inB.create("/registered_models", "{\"name\": \"mine-" + UUID.randomUUID() + "\"}");
        assertThat(inB.get("/registered_models/" + id).status()).as("another namespace's model is not found").isEqualTo(404);
        assertThat(admin.get("/registered_models/" + own).status()).isEqualTo(404);
        assertThat(new Ns("team-c", "alice").client.raw("GET", "/registered_models?namespace=team-c", null).status()).isEqualTo(403);
        // Resolving a URI that names a namespace needs view there, whatever the request's own namespace.
        var resolveElsewhere = new RegistryClient(server.extensionBase(), spec, "alice").raw("GET", "/resolve?namespace=team-b&uri="
                + enc("model-registry://anything?namespace=team-c"), null);
        assertThat(resolveElsewhere.status()).isEqualTo(403);
        assertThat(new RegistryClient(server.extensionBase(), spec, "alice").raw("GET", "/resolve?namespace=team-b&uri="
                + enc("model-registry://nothing-here"), null).status()).isEqualTo(404);
        var anonymous = new RegistryClient(server.base(), spec, null).raw("GET", "/registered_models", null);
        assertThat(anonymous.status()).isEqualTo(401);
        assertThat(admin.client.raw("GET", "/registered_models?namespace=Bad_NS", null).status()).isEqualTo(400);
    }

    static JsonNode first(JsonNode list) {
        return list.path("items").get(0);
    }

    static java.util.List<String> keys(com.fasterxml.jackson.databind.JsonNode node) {
        var out = new java.util.ArrayList<String>();
        node.fieldNames().forEachRemaining(out::add);
        return out;
    }
}
