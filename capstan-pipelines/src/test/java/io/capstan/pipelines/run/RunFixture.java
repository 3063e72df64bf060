package io.capstan.pipelines.run;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.backend.GpuDetector;
import io.capstan.backend.LocalBackend;
import io.capstan.core.Json;
import io.capstan.core.ObjectMeta;
import io.capstan.core.Problems;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.metadata.MetadataStore;
import io.capstan.store.Database;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.testing.TestDatabases;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * A real H2 store, real LocalBackend child processes and a real MetadataStore, with the reconciler driven by hand
 * as the runtime would drive it (honouring requeues). {@link #restart()} drops the backend and reconciler, as a
 * crash would, and builds new ones on the same database and state folder.
 */
final class RunFixture implements AutoCloseable {
    final Path dir;
    final Database db;
    final JdbiResourceStore store;
    final MetadataStore metadata;
    final StepCommandRewriter rewriter;
    final java.util.Optional<io.capstan.artifacts.ArtifactLocator> artifacts;
    private final UnaryOperator<LocalBackend.Options> backendOptions;
    LocalBackend backend;
    PipelineRunReconciler reconciler;

    RunFixture(Path dir) {
        this(dir, StepCommandRewriter.IDENTITY);
    }

    RunFixture(Path dir, StepCommandRewriter rewriter) {
        this(dir, rewriter, java.util.Optional.empty(), o -> o);
    }

    /** A fixture whose reconciler keeps artifacts where {@code artifacts} says (S3, when it is an S3 store). */
    RunFixture(Path dir, io.capstan.artifacts.ArtifactStore artifacts) {
        this(dir, StepCommandRewriter.IDENTITY, java.util.Optional.of(io.capstan.artifacts.ArtifactLocator.of(artifacts)), o -> o);
    }

    /** A fixture whose reconciler finds artifacts through {@code locator} (and reports its digest checks to it). */
    RunFixture(Path dir, io.capstan.artifacts.ArtifactLocator locator) {
        this(dir, StepCommandRewriter.IDENTITY, java.util.Optional.of(locator), o -> o);
    }

    /** With the backend's options changed by {@code backendOptions}: its capacity, its GPUs. */
    RunFixture(Path dir, StepCommandRewriter rewriter, UnaryOperator<LocalBackend.Options> backendOptions) {
        this(dir, rewriter, java.util.Optional.empty(), backendOptions);
    }

    private RunFixture(Path dir, StepCommandRewriter rewriter, java.util.Optional<io.capstan.artifacts.ArtifactLocator> artifacts,
            UnaryOperator<LocalBackend.Options> backendOptions) {
        this.dir = dir;
        this.rewriter = rewriter;
        this.artifacts = artifacts;
        this.backendOptions = backendOptions;
        db = TestDatabases.h2();
        db.migrate("store");
        db.migrate("metadata");
        store = new JdbiResourceStore(db, Clock.systemUTC());
        metadata = new MetadataStore(db, Clock.systemUTC());
        start();
    }

    private void start() {
        backend = new LocalBackend(backendOptions.apply(
                LocalBackend.Options.of(dir.resolve("workloads")).withGpuDetector(GpuDetector.none()).withKillGrace(Duration.ofMillis(200))));
        reconciler = artifacts.map(a -> new PipelineRunReconciler(store, backend, metadata, dir.resolve("runs"), Clock.systemUTC(), rewriter, a))
                .orElseGet(() -> new PipelineRunReconciler(store, backend, metadata, dir.resolve("runs"), Clock.systemUTC(), rewriter));
    }

    /** Forgets the backend and reconciler without stopping the processes, then builds new ones on the same folders. */
    void restart() {
        backend.close();
        start();
    }

    static String resource(String path) {
        try (var in = RunFixture.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) throw new IllegalArgumentException("no test resource " + path);
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ObjectNode specOf(String pipelineText, Map<String, String> parameters) {
        var spec = JsonNodeFactory.instance.objectNode();
        try {
            var docs = Json.yaml().readerFor(JsonNode.class).readValues(pipelineText).readAll();
            if (docs.size() == 1) spec.set("pipelineSpec", (JsonNode) docs.getFirst());
            else spec.put("pipelineSpec", pipelineText);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        var params = spec.putObject("parameters");
        parameters.forEach(params::put);
        return spec;
    }

    /** Validates the spec as the API would, then stores the run. */
    ResourceKey submit(String name, ObjectNode spec) {
        return submit("default", name, spec);
    }

    /** As {@link #submit(String, ObjectNode)}, in {@code namespace}. */
    ResourceKey submit(String namespace, String name, ObjectNode spec) {
        var problems = new Problems();
        PipelineRuns.RESOURCE_KIND.validator().validate(spec, problems);
        assertThat(problems.errors()).as("validation of run " + name).isEmpty();
        var run = Resource.of(PipelineRuns.RESOURCE_KIND.apiVersion(), PipelineRuns.KIND, ObjectMeta.named(namespace, name), spec);
        return store.create(run).key();
    }

    ResourceKey submit(String name, String resourceFile, Map<String, String> parameters) {
        return submit(name, specOf(resource("runs/" + resourceFile), parameters));
    }

    /** Reconciles, honouring requeues, until the reconciler says done. */
    Resource runToEnd(ResourceKey key) {
        return runUntil(key, r -> false);
    }

    /** Reconciles until {@code stop} holds for the stored run or the reconciler says done. */
    Resource runUntil(ResourceKey key, Predicate<Resource> stop) {
        return runUntil(key, stop, Duration.ofSeconds(30));
    }

    /** As {@link #runUntil(ResourceKey, Predicate)}, giving up after {@code limit}. */
    Resource runUntil(ResourceKey key, Predicate<Resource> stop, Duration limit) {
        var deadline = Instant.now().plus(limit);
        while (Instant.now().isBefore(deadline)) {
            var result = reconciler.reconcile(key);
            var run = store.get(key);
            if (result.requeueAfter().isEmpty() || stop.test(run)) return run;
            LockSupport.parkNanos(Math.min(result.requeueAfter().get().toNanos(), Duration.ofMillis(100).toNanos()));
        }
        throw new AssertionError("run " + key + " did not settle in " + limit + "; status: " + store.get(key).status());
    }

    static JsonNode task(Resource run, String path) {
        var t = run.status().field("tasks").orElseThrow().get(path);
        if (t == null) throw new AssertionError("no task " + path + " in " + run.status().field("tasks").orElseThrow().fieldNames().next() + "...: " + run.status().field("tasks").get());
        return t;
    }

    static String state(Resource run, String path) {
        return task(run, path).path("state").asText();
    }

    int count(String file) {
        try {
            var p = dir.resolve(file);
            return Files.exists(p) ? (int) Files.readAllLines(p).stream().filter(l -> !l.isBlank()).count() : 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        backend.shutdownAndKillAll(Duration.ofSeconds(5));
        db.close();
    }
}
