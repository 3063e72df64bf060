package io.capstan.serving;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import io.capstan.store.Database;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.testing.TestDatabases;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The assembled module (Serving) end to end: resources in, OIP/V1 and InferenceGraphs out over HTTP. */
class ServingGraphTest {
    @TempDir
    Path dir;
    Database db;
    JdbiResourceStore store;
    Serving serving;
    TestHttp http;
    final ResourceParser parser = new ResourceParser(ResourceKinds.of(Serving.kinds()));

    @BeforeEach
    void setUp() throws Exception {
        db = TestDatabases.h2();
        db.migrate("store");
        store = new JdbiResourceStore(db, Clock.systemUTC());
        serving = new Serving(store, null, b -> Optional.empty(), dir.resolve("serving"), Clock.systemUTC(), new SimpleMeterRegistry(),
                "http://localhost:8080", Serving.Options.defaults());
        http = new TestHttp(serving.httpService());
        for (var entry : new Object[][] {{"double", 2}, {"triple", 3}}) {
            var modelDir = dir.resolve("models/" + entry[0]);
            Files.createDirectories(modelDir);
            Files.writeString(modelDir.resolve("factor.txt"), entry[1].toString());
            var key = apply("""
                    apiVersion: serving.kserve.io/v1beta1
                    kind: InferenceService
                    metadata: {name: %s}
                    spec:
                      predictor:
                        model:
                          modelFormat: {name: test-scale}
                          storageUri: %s
                    """.formatted(entry[0], modelDir));
            serving.reconciler().reconcile(key);
        }
    }

    @AfterEach
    void tearDown() {
        http.close();
        serving.close();
        db.close();
    }

    private ResourceKey apply(String yaml) {
        return store.apply(parser.parse("t.yaml", yaml).getFirst()).key();
    }

    private JsonNode graph(String nodes, String body) throws Exception {
        var key = apply("""
                apiVersion: serving.kserve.io/v1alpha1
                kind: InferenceGraph
                metadata: {name: g}
                spec:
                  nodes:
                """ + nodes.indent(4));
        serving.graphReconciler().reconcile(key);
        assertThat(store.get(key).status().field("url").orElseThrow().asText()).isEqualTo("http://localhost:8080/serving/default/graphs/g");
        var response = http.post("/serving/default/graphs/g", body);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return Json.json().readTree(response.body());
    }

    @Test
    void customJavaModelsServeThroughTheAssembledModule() throws Exception {
        var v2 = http.post("/v2/models/double/infer", "{\"inputs\": [{\"name\": \"x\", \"shape\": [2], \"datatype\": \"FP64\", \"data\": [1, 2]}]}");
        assertThat(Json.json().readTree(v2.body()).get("outputs").get(0).get("data").toString()).isEqualTo("[2.0,4.0]");
        var v1 = http.post("/v1/models/triple:predict", "{\"instances\": [1, 2]}");
        assertThat(Json.json().readTree(v1.body()).get("predictions").toString()).isEqualTo("[3.0,6.0]");
    }

    @Test
    void sequencePassesEachAnswerOn() throws Exception {
        var answer = graph("""
                root:
                  routerType: Sequence
                  steps:
                    - {serviceName: double}
                    - {serviceName: triple, data: $response}
                """, "{\"instances\": [1, 2]}");
        assertThat(answer.get("predictions").toString()).isEqualTo("[6.0,12.0]");
    }

    @Test
    void splitterEnsembleAndSwitchRoute() throws Exception {
        assertThat(graph("""
                root:
                  routerType: Splitter
                  steps:
                    - {serviceName: double, weight: 0}
                    - {serviceName: triple, weight: 100}
                """, "{\"instances\": [1]}").get("predictions").toString()).isEqualTo("[3.0]");
        var ensemble = graph("""
                root:
                  routerType: Ensemble
                  steps:
                    - {name: d, serviceName: double}
                    - {name: t, serviceName: triple}
                """, "{\"instances\": [1]}");
        assertThat(ensemble.get("d").get("predictions").toString()).isEqualTo("[2.0]");
        assertThat(ensemble.get("t").get("predictions").toString()).isEqualTo("[3.0]");
        var nodes = """
                root:
                  routerType: Switch
                  steps:
                    - {serviceName: double, condition: "[@this].#(route==\\"d\\")"}
                    - {serviceName: triple, condition: "route == t"}
                """;
        assertThat(graph(nodes, "{\"instances\": [1], \"route\": \"d\"}").get("predictions").toString()).isEqualTo("[2.0]");
        assertThat(graph(nodes, "{\"instances\": [1], \"route\": \"t\"}").get("predictions").toString()).isEqualTo("[3.0]");
        assertThat(graph(nodes, "{\"instances\": [1], \"route\": \"x\"}").get("route").asText()).isEqualTo("x");
    }

    @Test
    void unknownGraphsAndBadBodiesAreWellFormedErrors() throws Exception {
        var missing = http.post("/serving/default/graphs/none", "{}");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(Json.json().readTree(missing.body()).get("error").asText()).contains("none");
        graph("root: {routerType: Sequence, steps: [{serviceName: double}]}", "{\"instances\": [1]}");
        assertThat(http.post("/serving/default/graphs/g", "[1").statusCode()).isEqualTo(400);
        assertThat(http.post("/serving/default/graphs/g", "{\"instances\": [\"a\"]}").statusCode()).isEqualTo(400);
    }
}
