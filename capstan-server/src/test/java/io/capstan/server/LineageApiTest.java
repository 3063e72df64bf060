package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.metadata.Artifact;
import io.capstan.metadata.ArtifactType;
import io.capstan.metadata.Event;
import io.capstan.metadata.EventType;
import io.capstan.metadata.Execution;
import io.capstan.metadata.ExecutionType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LineageApiTest {
    @TempDir
    static Path home;
    static TestServer server;
    static long data, model, metrics, train, evaluate;

    @BeforeAll
    static void start() {
        server = new TestServer(home);
        var md = server.server.metadata();
        md.putType(ArtifactType.of("Dataset", Map.of()));
        md.putType(ExecutionType.of("Step", Map.of()));
        data = md.putArtifact(Artifact.of("Dataset", "file:///data.csv")).id();
        model = md.putArtifact(Artifact.of("Dataset", "file:///model.onnx")).id();
        metrics = md.putArtifact(Artifact.of("Dataset", "file:///metrics.json")).id();
        train = md.putExecution(Execution.of("Step")).id();
        evaluate = md.putExecution(Execution.of("Step")).id();
        md.putEvents(new ArrayList<>(List.of(
                Event.of(data, train, EventType.INPUT), Event.of(model, train, EventType.OUTPUT),
                Event.of(model, evaluate, EventType.INPUT), Event.of(metrics, evaluate, EventType.OUTPUT))));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void upstreamOfMetricsReachesTheTrainingData() {
        var graph = server.get("/apis/capstan/v1/lineage?artifactIds=" + metrics + "&direction=upstream&maxHops=4").json();
        assertThat(graph.path("artifacts").findValuesAsText("uri"))
                .containsExactlyInAnyOrder("file:///data.csv", "file:///model.onnx", "file:///metrics.json");
        assertThat(graph.path("executions")).hasSize(2);
        assertThat(graph.path("events")).hasSize(4);
    }

    @Test
    void hopLimitStopsTheWalk() {
        var graph = server.get("/apis/capstan/v1/lineage?artifactIds=" + data + "&direction=downstream&maxHops=1").json();
        assertThat(graph.path("artifacts").findValuesAsText("uri")).containsExactly("file:///data.csv");
        assertThat(graph.path("executions")).hasSize(1);
    }

    @Test
    void singleNodesAreReadableById() {
        assertThat(server.get("/apis/capstan/v1/lineage/artifacts/" + model).json().path("uri").asText()).isEqualTo("file:///model.onnx");
        assertThat(server.get("/apis/capstan/v1/lineage/executions/" + train + "/events").json().path("items")).hasSize(2);
        assertThat(server.get("/apis/capstan/v1/lineage/artifacts/999999").status()).isEqualTo(404);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "/apis/capstan/v1/lineage",
            "/apis/capstan/v1/lineage?artifactIds=abc",
            "/apis/capstan/v1/lineage?artifactIds=-1",
            "/apis/capstan/v1/lineage?artifactIds=1&direction=sideways",
            "/apis/capstan/v1/lineage?artifactIds=1&maxHops=101",
            "/apis/capstan/v1/lineage?artifactIds=1&maxHops=x",
            "/apis/capstan/v1/lineage/artifacts/0",
    })
    void badQueriesAre400(String path) {
        var reply = server.get(path);
        assertThat(reply.status()).as(reply.body()).isEqualTo(400);
        assertThat(reply.contentType()).isEqualTo("application/problem+json");
    }
}
