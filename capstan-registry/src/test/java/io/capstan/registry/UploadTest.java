package io.capstan.registry;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.artifacts.LocalArtifactStore;
import io.capstan.core.Json;
import io.capstan.core.security.AccessPolicy;
import io.capstan.core.security.Role;
import io.capstan.serving.TestModels;
import io.capstan.store.Database;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Uploading a model file over HTTP: stored content-addressed in a real artifact store, registered in one call with
 * its ONNX signature, and every malformed or hostile upload refused with nothing left behind.
 */
class UploadTest {
    static final long LIMIT = 256 * 1024;
    @TempDir
    static Path dir;
    static Database db;
    static TestServer server;
    static LocalArtifactStore artifacts;
    static RegistrySpec spec;
    final HttpClient http = HttpClient.newHttpClient();
    final String ns = "u" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);

    @BeforeAll
    static void start() throws Exception {
        db = TestDatabases.h2();
        artifacts = new LocalArtifactStore(dir.resolve("artifacts"), Clock.systemUTC());
        AccessPolicy policy = (caller, namespace) -> caller.user().equals("viewer") ? Optional.of(Role.VIEW) : Optional.empty();
        server = new TestServer(db, policy, artifacts, LIMIT);
        spec = new RegistrySpec();
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
        if (db != null) db.close();
    }

    record Part(String name, String filename, byte[] content) {
        static Part field(String name, String value) {
            return new Part(name, null, value.getBytes(StandardCharsets.UTF_8));
        }
    }

    record Reply(int status, JsonNode body) {
    }

    static byte[] form(String boundary, List<Part> parts, boolean close) {
        var out = new ByteArrayOutputStream();
        for (var p : parts) {
            out.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + p.name() + "\""
                    + (p.filename() == null ? "" : "; filename=\"" + p.filename() + "\"\r\nContent-Type: application/octet-stream") + "\r\n\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            out.writeBytes(p.content());
            out.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
        }
        if (close) out.writeBytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    Reply upload(List<Part> parts) {
        return send("multipart/form-data; boundary=XyZzy42", form("XyZzy42", parts, true), "admin");
    }

    Reply send(String contentType, byte[] body, String token) {
        try {
            var req = HttpRequest.newBuilder(URI.create(server.extensionBase() + "/upload?namespace=" + ns))
                    .header("Content-Type", contentType).header("Authorization", "Bearer " + token)
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
            var res = http.send(req, HttpResponse.BodyHandlers.ofString());
            return new Reply(res.statusCode(), res.body().isEmpty() ? null : Json.json().readTree(res.body()));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    RegistryClient.Reply get(String path) {
        return new RegistryClient(server.base(), spec, "admin").get(path + (path.contains("?") ? "&" : "?") + "namespace=" + ns);
    }

    JsonNode extension(String method, String path, String json) throws Exception {
        var req = HttpRequest.newBuilder(URI.create(server.extensionBase() + path + (path.contains("?") ? "&" : "?") + "namespace=" + ns))
                .header("Authorization", "Bearer admin").header("Content-Type", "application/json")
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json)).build();
        var res = http.send(req, HttpResponse.BodyHandlers.ofString());
        var node = (com.fasterxml.jackson.databind.node.ObjectNode) Json.json().readTree(res.body().isEmpty() ? "{}" : res.body());
        return node.put("_status", res.statusCode());
    }

    static Part file(String filename, Path path) throws Exception {
        return new Part("file", filename, Files.readAllBytes(path));
    }

    @Test
    void anOnnxUploadIsStoredByDigestAndRegisteredWithItsSignature() throws Exception {
        var onnx = TestModels.irisOnnx(dir.resolve("iris"));
        var bytes = Files.readAllBytes(onnx);
        var sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));

        var r = upload(List.of(Part.field("name", "iris"), Part.field("version", "v1"), Part.field("description", "first"), file("model.onnx", onnx)));

        assertThat(r.status()).as("%s", r.body()).isEqualTo(201);
        var key = "registry/sha256/" + sha + "/model.onnx";
        var artifact = r.body().path("modelArtifact");
        assertThat(artifact.path("uri").asText()).isEqualTo("capstan://artifacts/" + key);
        assertThat(artifact.path("state").asText()).isEqualTo("LIVE");
        assertThat(artifact.path("modelFormatName").asText()).isEqualTo("onnx");
        assertThat(artifact.path("customProperties").path("sha256").path("string_value").asText()).isEqualTo(sha);
        assertThat(artifacts.stat(key)).get().satisfies(i -> assertThat(i.sha256()).isEqualTo(sha));
        try (var in = artifacts.get(key)) {
            assertThat(in.readAllBytes()).isEqualTo(bytes);
        }
        // Readable through the upstream API, whose schemas the answers conform to.
        var versionId = r.body().path("modelVersion").path("id").asText();
        var version = get("/model_versions/" + versionId);
        assertThat(version.status()).isEqualTo(200);
        assertThat(version.body().path("description").asText()).isEqualTo("first");
        var listed = get("/model_versions/" + versionId + "/artifacts");
        assertThat(listed.body().path("items").get(0).path("id").asText()).isEqualTo(artifact.path("id").asText());
        // The signature as ONNX Runtime reads the model: what serving checks requests against.
        var signature = extension("GET", "/model_versions/" + versionId + "/signature", null);
        assertThat(signature.path("_status").asInt()).isEqualTo(200);
        assertThat(signature.path("inputs").toString()).isEqualTo("[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[-1,4]}]");
        assertThat(signature.path("outputs").findValuesAsText("name")).containsExactlyInAnyOrder("probabilities", "label");
        var resolved = extension("GET", "/resolve?uri=model-registry://iris/v1", null);
        assertThat(resolved.path("storageUri").asText()).isEqualTo("capstan://artifacts/" + key);

        // A second version of the same bytes reuses the model and the blob; the same version again is refused.
        var again = upload(List.of(Part.field("name", "iris"), Part.field("version", "v2"), file("model.onnx", onnx)));
        assertThat(again.status()).as("%s", again.body()).isEqualTo(201);
        assertThat(again.body().path("registeredModel").path("id")).isEqualTo(r.body().path("registeredModel").path("id"));
        var dup = upload(List.of(Part.field("name", "iris"), Part.field("version", "v1"), file("model.onnx", onnx)));
        assertThat(dup.status()).isEqualTo(409);
        assertThat(dup.body().path("message").asText()).contains("already has a version 'v1'");
    }

    @Test
    void otherFormatsNeedTheirFormatNamed() throws Exception {
        var bin = Files.write(dir.resolve("model.json"), "{\"learner\": {}}".getBytes(StandardCharsets.UTF_8));
        var missing = upload(List.of(Part.field("name", "xgb"), Part.field("version", "v1"), file("model.json", bin)));
        assertThat(missing.status()).isEqualTo(400);
        assertThat(missing.body().path("message").asText()).startsWith("modelFormatName: required for 'model.json'");
        var ok = upload(List.of(Part.field("name", "xgb"), Part.field("version", "v1"), Part.field("modelFormatName", "xgboost"), file("model.json", bin)));
        assertThat(ok.status()).as("%s", ok.body()).isEqualTo(201);
        assertThat(ok.body().has("signature")).isFalse();
        assertThat(ok.body().path("modelArtifact").path("modelFormatName").asText()).isEqualTo("xgboost");
    }

    @Test
    void hostileUploadsAreRefusedAndLeaveNothing() throws Exception {
        var onnx = TestModels.irisOnnx(dir.resolve("hostile"));
        var good = file("model.onnx", onnx);
        var cases = new ArrayList<Object[]>();
        cases.add(new Object[] {List.of(Part.field("version", "v1"), good), "name: required"});
        cases.add(new Object[] {List.of(Part.field("name", "m"), good), "version: required"});
        cases.add(new Object[] {List.of(Part.field("name", "m"), Part.field("version", "v1")), "file: required"});
        cases.add(new Object[] {List.of(Part.field("name", "../etc"), Part.field("version", "v1"), good), "name: '../etc' must start"});
        cases.add(new Object[] {List.of(Part.field("name", "m@prod"), Part.field("version", "v1"), good), "name: 'm@prod'"});
        cases.add(new Object[] {List.of(Part.field("name", "m"), Part.field("version", "v/1"), good), "version: 'v/1'"});
        cases.add(new Object[] {List.of(Part.field("name", "m"), Part.field("version", "v1"), new Part("file", "..", good.content())), "file: the filename '..'"});
        cases.add(new Object[] {List.of(Part.field("name", "m"), Part.field("version", "v1"), new Part("file", "a\u0001.onnx", good.content())), "file: the filename"});
        cases.add(new Object[] {List.of(Part.field("name", "m"), Part.field("version", "v1"), new Part("file", null, good.content())), "file: the part has no filename"});
        cases.add(new Object[] {List.of(Part.field("name", "m"), Part.field("version", "v1"), new Part("file", "model.onnx", new byte[0])), "file: 'model.onnx' is empty"});
        cases.add(new Object[] {List.of(Part.field("name", "m"), Part.field("version", "v1"), new Part("file", "model.onnx", "not onnx".getBytes())),
                "file: 'model.onnx' is not an ONNX model"});
        cases.add(new Object[] {List.of(Part.field("name", "m"), Part.field("name", "n"), Part.field("version", "v1"), good), "name: given twice"});
        cases.add(new Object[] {List.of(Part.field("name", "m"), Part.field("version", "v1"), good, good), "file: given twice"});
        cases.add(new Object[] {List.of(Part.field("name", "m"), Part.field("version", "v1"), Part.field("uri", "s3://x/y"), good), "part 'uri' is not one of"});
        cases.add(new Object[] {List.of(new Part("name", null, new byte[] {(byte) 0xc0, (byte) 0xae}), Part.field("version", "v1"), good), "name: not valid UTF-8"});
        for (var c : cases) {
            @SuppressWarnings("unchecked") var parts = (List<Part>) c[0];
            var r = upload(parts);
            assertThat(r.status()).as("%s -> %s", c[1], r.body()).isEqualTo(400);
            assertThat(r.body().path("message").asText()).as("%s", c[1]).contains((String) c[1]);
        }
        // Framing: no closing boundary, no boundary parameter, not multipart at all.
        var unclosed = send("multipart/form-data; boundary=XyZzy42", form("XyZzy42", List.of(Part.field("name", "m"), good), false), "admin");
        assertThat(unclosed.status()).isEqualTo(400);
        assertThat(unclosed.body().path("message").asText()).contains("closing boundary is missing");
        var noBoundary = send("multipart/form-data", form("XyZzy42", List.of(good), true), "admin");
        assertThat(noBoundary.body().path("message").asText()).contains("needs a boundary");
        var json = send("application/json", "{\"name\": \"m\"}".getBytes(), "admin");
        assertThat(json.status()).isEqualTo(400);
        assertThat(json.body().path("message").asText()).startsWith("Content-Type: an upload is multipart/form-data");
        // Over the limit: refused whether the length is declared up front or only found while reading.
        var big = new Part("file", "model.onnx", new byte[(int) LIMIT + 1]);
        var tooBig = upload(List.of(Part.field("name", "m"), Part.field("version", "v1"), big));
        assertThat(tooBig.status()).isEqualTo(413);
        var streamed = http.send(HttpRequest.newBuilder(URI.create(server.extensionBase() + "/upload?namespace=" + ns))
                .header("Content-Type", "multipart/form-data; boundary=XyZzy42").header("Authorization", "Bearer admin")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(
                        form("XyZzy42", List.of(Part.field("name", "m"), Part.field("version", "v1"), big), true)))).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(streamed.statusCode()).as(streamed.body()).isEqualTo(413);
        // A viewer may not upload.
        assertThat(send("multipart/form-data; boundary=XyZzy42", form("XyZzy42", List.of(good), true), "viewer").status()).isEqualTo(403);

        // Nothing was registered and nothing stored.
        assertThat(get("/registered_models").body().path("size").asInt()).isZero();
        var notOnnx = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest("not onnx".getBytes()));
        assertThat(artifacts.list("registry/sha256/" + notOnnx)).isEmpty();
    }

    /**
     * A service keeps its signature: deploying a version whose inputs differ onto a service serving another version,
     * or moving an alias a service follows to one, is refused naming the difference, unless the deploy allows it.
     */
    @Test
    void deployRefusesToChangeAServicesSignature() throws Exception {
        var iris = TestModels.irisOnnx(dir.resolve("sig-iris"));
        var identity = TestModels.identityOnnx(dir.resolve("sig-identity/model.onnx"), 1);
        var v1 = upload(List.of(Part.field("name", "clf"), Part.field("version", "v1"), file("model.onnx", iris))).body().path("modelVersion").path("id").asText();
        var v2 = upload(List.of(Part.field("name", "clf"), Part.field("version", "v2"), file("model.onnx", identity))).body().path("modelVersion").path("id").asText();
        var v3 = upload(List.of(Part.field("name", "clf"), Part.field("version", "v3"), file("iris.onnx", iris))).body().path("modelVersion").path("id").asText();
        var modelId = get("/model_versions/" + v1).body().path("registeredModelId").asText();
        var api = new RegistryClient(server.base(), spec, "admin");
        assertThat(extension("PUT", "/registered_models/" + modelId + "/aliases/champion", "{\"modelVersionId\": \"" + v1 + "\"}").path("_status").asInt()).isEqualTo(200);
        var first = api.raw("POST", "/model_versions/" + v1 + ":deploy?namespace=" + ns, "{\"alias\": \"champion\"}");
        assertThat(first.status()).as("%s", first.body()).isEqualTo(200);
        assertThat(first.body().path("signature").path("inputs").get(0).path("name").asText()).isEqualTo("input");

        var changed = api.raw("POST", "/model_versions/" + v2 + ":deploy?namespace=" + ns, "{\"name\": \"clf\"}");
        assertThat(changed.status()).as("%s", changed.body()).isEqualTo(409);
        assertThat(changed.body().path("message").asText()).contains("inputs: the served version has [{\"name\":\"input\"", "this version has [{\"name\":\"x\"",
                "allowSignatureChange");
        var moved = extension("PUT", "/registered_models/" + modelId + "/aliases/champion", "{\"modelVersionId\": \"" + v2 + "\"}");
        assertThat(moved.path("_status").asInt()).isEqualTo(409);
        assertThat(extension("GET", "/registered_models/" + modelId + "/aliases/champion", null).path("id").asText()).isEqualTo(v1);
        assertThat(server.resources.find(new io.capstan.core.ResourceKey("InferenceService", ns, "clf")).orElseThrow().metadata().labels())
                .containsEntry(Deployer.VERSION_LABEL, v1);

        // The same signature moves freely; a change goes through when allowed.
        var same = extension("PUT", "/registered_models/" + modelId + "/aliases/champion", "{\"modelVersionId\": \"" + v3 + "\"}");
        assertThat(same.path("_status").asInt()).as("%s", same).isEqualTo(200);
        assertThat(same.path("redeployed").toString()).isEqualTo("[\"clf\"]");
        var allowed = api.raw("POST", "/model_versions/" + v2 + ":deploy?namespace=" + ns, "{\"name\": \"clf\", \"allowSignatureChange\": true}");
        assertThat(allowed.status()).as("%s", allowed.body()).isEqualTo(200);
        var bad = api.raw("POST", "/model_versions/" + v2 + ":deploy?namespace=" + ns, "{\"allowSignatureChange\": \"yes\"}");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.body().path("message").asText()).startsWith("allowSignatureChange: must be true or false");
    }
}
