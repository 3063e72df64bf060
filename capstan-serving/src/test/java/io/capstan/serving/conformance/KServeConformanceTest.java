package io.capstan.serving.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import io.capstan.serving.TestHttp;
import io.capstan.serving.http.InferenceHttpService;
import io.capstan.serving.internal.InferenceServiceReconciler;
import io.capstan.serving.internal.ModelServer;
import io.capstan.serving.internal.ModelStorage;
import io.capstan.serving.runtime.Runtimes;
import io.capstan.serving.spec.ServingKinds;
import io.capstan.store.Database;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.testing.Conformance;
import io.capstan.store.testing.TestDatabases;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import ml.dmlc.xgboost4j.java.DMatrix;
import ml.dmlc.xgboost4j.java.XGBoost;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * KServe's own samples and e2e payloads (../shared/conformance/kserve): every serving.kserve.io document is
 * accepted and validated; every InferenceService either serves or fails with a reason; the servable ones serve a
 * locally built equivalent model; every payload gets a well-formed answer or a well-formed error, never a 5xx.
 */
class KServeConformanceTest {
    static final Path ROOT = Conformance.path("kserve");
    static final java.util.Set<String> SKIPPED_TEMPLATES = java.util.concurrent.ConcurrentHashMap.newKeySet();

    @TempDir
    Path dir;
    Database db;
    JdbiResourceStore store;
    ModelServer server;
    InferenceServiceReconciler reconciler;
    final ResourceParser parser = new ResourceParser(ResourceKinds.of(ServingKinds.all()));

    @BeforeEach
    void setUp() {
        Conformance.require(ROOT);
        db = TestDatabases.h2();
        db.migrate("store");
        store = new JdbiResourceStore(db, Clock.systemUTC());
        server = new ModelServer(Duration.ofSeconds(1));
        var storage = new ModelStorage(dir.resolve("cache"), null, b -> Optional.empty(), Duration.ofSeconds(5));
        reconciler = new InferenceServiceReconciler(store, server, storage, Runtimes.builtIn(), new SimpleMeterRegistry(),
                Clock.systemUTC(), "http://localhost:8080", dir.resolve("work"));
    }

    @AfterEach
    void tearDown() {
        if (server != null) server.close();
        if (db != null) db.close();
    }

    /** Every serving.kserve.io document of every YAML file under the folders. */
    static List<Map.Entry<Path, ObjectNode>> documents(String... folders) throws Exception {
        var out = new ArrayList<Map.Entry<Path, ObjectNode>>();
        for (var folder : folders) {
            try (Stream<Path> files = Files.walk(ROOT.resolve(folder))) {
                for (var file : files.filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml")).sorted().toList()) {
                    var found = new ArrayList<Map.Entry<Path, ObjectNode>>();
                    try (var it = Json.yaml().readerFor(JsonNode.class).readValues(Files.readString(file))) {
                        while (it.hasNext()) {
                            var node = (JsonNode) it.next();
                            if (node instanceof ObjectNode object && node.path("apiVersion").asText().startsWith(ServingKinds.GROUP + "/")) {
                                found.add(Map.entry(file, object));
                            }
                        }
                    } catch (RuntimeException | java.io.IOException e) {
                        // a Helm or Go template, not YAML: nothing a user could apply as it is
                        SKIPPED_TEMPLATES.add(file.toString());
                        continue;
                    }
                    out.addAll(found);
                }
            }
        }
        return out;
    }

    private Resource parse(Path file, ObjectNode document, String namespace) throws Exception {
        if (document.get("metadata") instanceof ObjectNode metadata) metadata.remove("namespace");
        return parser.parse(file.toString(), Json.yaml().writeValueAsString(document), namespace).getFirst();
    }

    @Test
    void everySampleIsAcceptedAndEveryInferenceServiceServesOrSaysWhy() throws Exception {
        var documents = documents("docs/samples", "config/runtimes");
        var rejected = new ArrayList<String>();
        var counts = new HashMap<String, Integer>();
        int index = 0;
        var services = new ArrayList<Resource>();
        for (var entry : documents) {
            var namespace = "sample" + index++;
            try {
                var resource = parse(entry.getKey(), entry.getValue(), namespace);
                counts.merge(resource.kind(), 1, Integer::sum);
                if (resource.kind().equals(ServingKinds.INFERENCE_SERVICE)) services.add(store.create(resource));
            } catch (InvalidSpecException e) {
                rejected.add(entry.getKey() + ": " + e.getMessage());
            }
        }
        System.out.println("KServe documents accepted: " + counts + ", refused: " + rejected
                + ", files skipped as templates (not YAML): " + SKIPPED_TEMPLATES);
        // Only the retired v1alpha2 InferenceService is refused by name, and a transformer written as v1alpha2's
        // {custom: {container}} (rollout-strategy-example.yaml), which v1beta1 does not have: no container to run.
        assertThat(rejected).allSatisfy(r -> assertThat(r).containsAnyOf("serving.kserve.io/v1alpha2", "spec.transformer.containers: is required"));
        assertThat(counts.get(ServingKinds.INFERENCE_SERVICE)).isGreaterThanOrEqualTo(20);

        int ready = 0;
        var reasons = new HashMap<String, Integer>();
        for (var isvc : services) {
            reconciler.reconcile(isvc.key());
            var status = store.get(isvc.key()).status();
            var condition = status.condition("Ready").orElseThrow();
            if (condition.status().name().equals("True")) {
                ready++;
            } else {
                assertThat(condition.message()).as(isvc.key().toString()).isNotBlank();
                var reason = condition.message().replaceFirst("^.*? failed: ", "");
                reasons.merge(reason.substring(0, Math.min(48, reason.length())), 1, Integer::sum);
            }
        }
        System.out.println("KServe InferenceService samples: " + services.size() + " reconciled, " + ready + " ready as-is (gs:// and other remote "
                + "models cannot be fetched offline), reasons: " + reasons);
    }

    @Test
    void servableSamplesServeALocallyBuiltEquivalentAndAnswerKServesPayloads() throws Exception {
        var model = xgboostIris(dir.resolve("xgboost-iris/model.json"));
        int served = 0;
        int index = 0;
        try (var http = new TestHttp(new InferenceHttpService(server))) {
            for (var entry : documents("docs/samples")) {
                var document = entry.getValue();
                if (!document.path("kind").asText().equals(ServingKinds.INFERENCE_SERVICE)) continue;
                if (!(document.path("spec").path("predictor") instanceof ObjectNode predictor)) continue;
                ObjectNode modelNode = predictor.has("xgboost") ? (ObjectNode) predictor.get("xgboost")
                        : predictor.path("model").path("modelFormat").path("name").asText().equals("xgboost") ? (ObjectNode) predictor.get("model") : null;
                if (modelNode == null) continue;
                modelNode.put("storageUri", model.toUri().toString());
                modelNode.remove("runtime");
                var namespace = "served" + index++;
                var isvc = store.create(parse(entry.getKey(), document, namespace));
                reconciler.reconcile(isvc.key());
                assertThat(store.get(isvc.key()).status().phase()).as(entry.getKey().toString()).isEqualTo("Ready");
                var name = isvc.metadata().name();
                var v1 = http.post("/serving/" + namespace + "/v1/models/" + name + ":predict",
                        Files.readAllBytes(ROOT.resolve("test/e2e/data/iris_input.json")));
                assertThat(v1.statusCode()).as(v1.body()).isEqualTo(200);
                assertThat(Json.json().readTree(v1.body()).get("predictions")).hasSize(2);
                var v2 = http.post("/serving/" + namespace + "/v2/models/" + name + "/infer",
                        Files.readAllBytes(ROOT.resolve("test/e2e/data/iris_input_v2.json")));
                assertThat(v2.statusCode()).as(v2.body()).isEqualTo(200);
                assertThat(Json.json().readTree(v2.body()).get("outputs").get(0).get("shape").toString()).isEqualTo("[2]");
                served++;
            }
        }
        System.out.println("KServe samples served with a local equivalent model: " + served);
        assertThat(served).isGreaterThanOrEqualTo(1);
    }

    @Test
    void everyE2ePayloadGetsAWellFormedAnswerOrError() throws Exception {
        var model = xgboostIris(dir.resolve("xgboost-iris/model.json"));
        var isvc = store.create(parser.parse("iris.yaml", """
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: iris}
                spec:
                  predictor:
                    model:
                      modelFormat: {name: xgboost}
                      storageUri: %s
                """.formatted(model.toUri())).getFirst());
        reconciler.reconcile(isvc.key());
        int answered = 0;
        int refused = 0;
        try (var http = new TestHttp(new InferenceHttpService(server, 8 * 1024 * 1024));
             Stream<Path> files = Files.list(ROOT.resolve("test/e2e/data"))) {
            for (var file : files.filter(f -> f.toString().endsWith(".json")).sorted().toList()) {
                var body = Files.readAllBytes(file);
                JsonNode json;
                try {
                    json = Json.json().readTree(body);
                } catch (Exception e) {
                    json = null;
                }
                boolean v2 = json != null && json.path("inputs").isArray() && json.path("inputs").path(0).has("datatype");
                var response = v2 ? http.post("/v2/models/iris/infer", body) : http.post("/v1/models/iris:predict", body);
                assertThat(response.statusCode()).as(file.getFileName() + ": " + response.body()).isIn(200, 400);
                var answer = Json.json().readTree(response.body());
                if (response.statusCode() == 200) {
                    assertThat(answer.has(v2 ? "outputs" : "predictions")).as(file.getFileName().toString()).isTrue();
                    answered++;
                } else {
                    assertThat(answer.path("error").asText()).as(file.getFileName().toString()).isNotBlank();
                    refused++;
                }
            }
        }
        System.out.println("KServe e2e payloads: " + answered + " answered, " + refused + " refused with a 400 naming the problem");
        assertThat(answered).isGreaterThanOrEqualTo(3);
    }

    static Path xgboostIris(Path file) throws Exception {
        var random = new java.util.Random(3);
        int rows = 150;
        var data = new float[rows * 4];
        var labels = new float[rows];
        for (int r = 0; r < rows; r++) {
            labels[r] = r % 3;
            for (int f = 0; f < 4; f++) data[r * 4 + f] = 1 + labels[r] * (f + 1) * 0.8f + random.nextFloat();
        }
        var train = new DMatrix(data, rows, 4, Float.NaN);
        train.setLabel(labels);
        Map<String, Object> params = new HashMap<>(Map.of("objective", "multi:softmax", "num_class", 3, "max_depth", 2, "nthread", 1, "seed", 1));
        var booster = XGBoost.train(train, params, 5, Map.of(), null, null);
        Files.createDirectories(file.getParent());
        booster.saveModel(file.toString());
        return file;
    }
}
