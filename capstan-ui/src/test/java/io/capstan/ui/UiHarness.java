package io.capstan.ui;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.backend.LocalBackend;
import io.capstan.core.Json;
import io.capstan.core.ObjectMeta;
import io.capstan.core.Resource;
import io.capstan.core.ResourceStatus;
import io.capstan.core.security.AccessPolicy;
import io.capstan.core.security.Caller;
import io.capstan.metadata.MetadataStore;
import io.capstan.store.Database;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.testing.TestDatabases;
import io.helidon.webserver.WebServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

/**
 * The UI alone on a real Helidon server over a real store (H2 in a folder), every request as the server admin: for
 * page tests that write runs straight into the store, and for the benchmark.
 */
final class UiHarness implements AutoCloseable {
    final Database db;
    final JdbiResourceStore store;
    final LocalBackend backend;
    final UiService ui;
    final WebServer web;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    UiHarness(Path dir) {
        this(dir, null);
    }

    /** @param artifacts where the run pages read artifact previews, or null for none */
    UiHarness(Path dir, io.capstan.artifacts.ArtifactLocator artifacts) {
        db = TestDatabases.h2File(dir.resolve("db"));
        db.migrate("store");
        db.migrate("metadata");
        store = new JdbiResourceStore(db, Clock.systemUTC());
        backend = new LocalBackend(LocalBackend.Options.of(dir.resolve("work")));
        ui = new UiService(store, new MetadataStore(db, Clock.systemUTC()), backend, AccessPolicy.serverAdminOnly(), Clock.systemUTC(),
                token -> Optional.empty(), null, null, artifacts, Optional.empty(), Optional.empty());
        // As the server does once it is ready.
        ui.warmUp();
        web = WebServer.builder().port(0).host("127.0.0.1")
                .connectionOptions(o -> o.tcpNoDelay(true)).routing(r -> {
            r.addFilter((chain, req, res) -> {
                req.context().register(Caller.serverAdmin());
                chain.proceed();
            });
            r.register(ui);
        }).build().start();
    }

    record Reply(int status, String body) {
    }

    Reply get(String path) {
        var request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + web.port() + path)).timeout(Duration.ofSeconds(60));
        try {
            var res = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            return new Reply(res.statusCode(), res.body());
        } catch (IOException e) {
            throw new AssertionError("GET " + path + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Stores a run of {@code pipelineSpec} with {@code parameters}, then its status: {@code phase} and {@code tasks}. */
    Resource run(String name, JsonNode pipelineSpec, ObjectNode parameters, String phase, ObjectNode tasks) {
        var spec = Json.json().createObjectNode();
        spec.set("pipelineSpec", pipelineSpec);
        spec.set("parameters", parameters);
        var created = store.create(Resource.of("pipelines.capstan.io/v1", "PipelineRun", ObjectMeta.named("default", name), spec));
        return store.updateStatus(created, ResourceStatus.EMPTY.withPhase(phase).withField("tasks", tasks));
    }

    @Override
    public void close() {
        web.stop();
        ui.close();
        backend.close();
        db.close();
    }
}
