package io.capstan.serving;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import io.capstan.store.ControllerRuntime;
import io.capstan.store.Database;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.LeaderLease;
import io.capstan.store.testing.TestDatabases;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two servers on one database, each with its own store, controller runtime, leader lease, Serving and HTTP server,
 * as two Capstan replicas run: only the leader reconciles, and the follower still answers inference for every model
 * the leader made ready, following later changes too, without writing any status.
 */
class ServingFollowerTest {
    @TempDir
    Path dir;
    Database db;
    final List<AutoCloseable> cleanup = new ArrayList<>();
    final ResourceParser parser = new ResourceParser(ResourceKinds.of(Serving.kinds()));

    record Replica(JdbiResourceStore store, ControllerRuntime controllers, Serving serving, TestHttp http) {
    }

    @BeforeEach
    void setUp() {
        db = TestDatabases.h2();
        db.migrate("store");
    }

    @AfterEach
    void tearDown() throws Exception {
        for (var c : cleanup.reversed()) c.close();
        db.close();
    }

    private Replica replica(String name) {
        var store = new JdbiResourceStore(db, Clock.systemUTC());
        var lease = new LeaderLease(db, "controllers", name, Clock.systemUTC(), Duration.ofSeconds(30));
        var controllers = new ControllerRuntime(store, lease, Clock.systemUTC(), Duration.ofMinutes(10), new SimpleMeterRegistry());
        var serving = new Serving(store, null, b -> Optional.empty(), dir.resolve(name), Clock.systemUTC(), new SimpleMeterRegistry(),
                "http://localhost:8080", Serving.Options.defaults());
        controllers.register(serving.reconciler());
        serving.followWhileNotLeading(controllers::isLeading, Duration.ofMinutes(10));
        var http = new TestHttp(serving.httpService());
        cleanup.add(http);
        cleanup.add(serving);
        cleanup.add(controllers);
        controllers.start();
        return new Replica(store, controllers, serving, http);
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() < deadline).as("waited 60 s for: " + what).isTrue();
            Thread.onSpinWait();
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    private ResourceKey applyScaleModel(JdbiResourceStore store, String name, int factor) throws Exception {
        var modelDir = dir.resolve("models/" + name + "-" + factor);
        Files.createDirectories(modelDir);
        Files.writeString(modelDir.resolve("factor.txt"), String.valueOf(factor));
        return store.apply(parser.parse("t.yaml", """
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: %s}
                spec:
                  predictor:
                    model:
                      modelFormat: {name: test-scale}
                      storageUri: %s
                """.formatted(name, modelDir)).getFirst()).key();
    }

    private static HttpResponse<String> infer(Replica replica, String model) {
        return replica.http().post("/v2/models/" + model + "/infer",
                "{\"inputs\": [{\"name\": \"x\", \"shape\": [2], \"datatype\": \"FP64\", \"data\": [1, 2]}]}");
    }

    private static String outputs(HttpResponse<String> response) {
        try {
            JsonNode body = Json.json().readTree(response.body());
            return body.get("outputs").get(0).get("data").toString();
        } catch (Exception e) {
            throw new AssertionError("not an OIP answer: " + response.body(), e);
        }
    }

    private static boolean isReady(JdbiResourceStore store, ResourceKey key, String revision) {
        var status = store.find(key).orElseThrow().status();
        return "Ready".equals(status.phase())
                && status.field("components").map(c -> c.path("predictor").path("latestReadyRevision").asText()).orElse("")
                .equals(revision);
    }

    @Test
    @Timeout(120)
    void theFollowerServesWhatTheLeaderMadeReadyAndFollowsChanges() throws Exception {
        var leader = replica("leader");
        await("the first replica to lead", () -> leader.controllers().isLeading());
        var follower = replica("follower");

        var key = applyScaleModel(leader.store(), "doubler", 2);
        await("the leader to make doubler ready", () -> isReady(leader.store(), key, "doubler-predictor-00001"));
        assertThat(outputs(infer(leader, "doubler"))).isEqualTo("[2.0,4.0]");
        await("the follower to answer doubler", () -> infer(follower, "doubler").statusCode() == 200);
        assertThat(outputs(infer(follower, "doubler"))).isEqualTo("[2.0,4.0]");
        assertThat(follower.controllers().isLeading()).as("the follower leads").isFalse();

        // a new revision rolls out on the follower as on the leader
        applyScaleModel(leader.store(), "doubler", 3);
        await("the leader to roll out revision 2", () -> isReady(leader.store(), key, "doubler-predictor-00002"));
        var statusVersion = leader.store().get(key).metadata().resourceVersion();
        await("the follower to answer with revision 2", () -> outputs(infer(follower, "doubler")).equals("[3.0,6.0]"));
        var answer = Json.json().readTree(infer(follower, "doubler").body());
        assertThat(answer.get("model_version").asText()).isEqualTo("2");
        assertThat(leader.store().get(key).metadata().resourceVersion()).as("the status, not written by the follower")
                .isEqualTo(statusVersion);

        // a deleted service stops answering on the follower too
        leader.store().delete(key);
        await("the follower to stop answering doubler", () -> infer(follower, "doubler").statusCode() == 404);
    }
}
