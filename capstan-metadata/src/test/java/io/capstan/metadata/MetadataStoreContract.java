package io.capstan.metadata;

import static io.capstan.metadata.LineageDirection.BOTH;
import static io.capstan.metadata.LineageDirection.DOWNSTREAM;
import static io.capstan.metadata.LineageDirection.UPSTREAM;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import io.capstan.core.ConflictException;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.NotFoundException;
import io.capstan.store.Database;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The store's behaviour, run against each database by the subclasses. */
abstract class MetadataStoreContract {
    static final Instant T0 = Instant.parse("2025-01-02T03:04:05.678Z");

    MutableClock clock;
    MetadataStore store;

    /** A migrated database shared by the class's tests; emptied before each test. */
    abstract Database database();

    @BeforeEach
    void setUp() {
        TestDatabases.clear(database());
        clock = new MutableClock(T0);
        store = new MetadataStore(database(), clock);
        store.putType(ArtifactType.of("Dataset", Map.of("rows", PropertyType.INT)));
        store.putType(ArtifactType.of("Model", Map.of("accuracy", PropertyType.DOUBLE, "framework", PropertyType.STRING)));
        store.putType(ArtifactType.of("Metrics", Map.of()));
        store.putType(ExecutionType.of("Step", Map.of("image", PropertyType.STRING)));
        store.putType(ContextType.of("PipelineRun", Map.of("pipeline", PropertyType.STRING)));
    }

    // ---- types

    @Test
    void putTypeIsIdempotentAndAddsProperties() {
        var first = store.findArtifactType("Model").orElseThrow();
        var again = store.putType(ArtifactType.of("Model", Map.of("accuracy", PropertyType.DOUBLE)));
        assertThat(again).isEqualTo(first);

        var extended = store.putType(ArtifactType.of("Model", Map.of("params", PropertyType.STRUCT)));
        assertThat(extended.id()).isEqualTo(first.id());
        assertThat(extended.properties()).containsOnly(Map.entry("accuracy", PropertyType.DOUBLE),
                Map.entry("framework", PropertyType.STRING), Map.entry("params", PropertyType.STRUCT));
        assertThat(store.findArtifactType("Model")).contains(extended);
    }

    @Test
    void typeNamesAreScopedByKind() {
        var execution = store.putType(ExecutionType.of("Model", Map.of("x", PropertyType.BOOLEAN)));
        assertThat(store.findExecutionType("Model")).contains(execution);
        assertThat(store.findArtifactType("Model").orElseThrow().properties()).doesNotContainKey("x");
        assertThat(store.findContextType("Model")).isEmpty();
    }

    @Test
    void changingAPropertyTypeIsAConflict() {
        assertThatExceptionOfType(ConflictException.class)
                .isThrownBy(() -> store.putType(ArtifactType.of("Model", Map.of("accuracy", PropertyType.STRING))))
                .withMessageContaining("'accuracy'").withMessageContaining("DOUBLE").withMessageContaining("STRING");
    }

    // ---- nodes

    @Test
    void artifactRoundTripsAllPropertyTypes() {
        var stored = store.putArtifact(Artifact.of("Model", "cas://sha256/abc").withName("m1")
                .withState(ArtifactState.LIVE).withExternalId("ext-1")
                .withProperty("accuracy", PropertyValue.of(0.93))
                .withProperty("framework", PropertyValue.of("xgboost"))
                .withCustomProperty("epochs", PropertyValue.of(12L))
                .withCustomProperty("best", PropertyValue.of(true))
                .withCustomProperty("params", PropertyValue.struct(Map.of("lr", 0.1, "layers", List.of(3, 4)))));

        assertThat(stored.id()).isPositive();
        assertThat(stored.createTime()).isEqualTo(T0);
        assertThat(store.getArtifact(stored.id())).isEqualTo(stored);
        assertThat(store.artifactsByUri("cas://sha256/abc")).containsExactly(stored);
        assertThat(store.artifactsByType("Model")).containsExactly(stored);
        assertThat(store.findArtifact("Model", "m1")).contains(stored);
        assertThat(store.findArtifact("Model", "m2")).isEmpty();
    }

    @Test
    void updateReplacesFieldsAndKeepsCreateTime() {
        var created = store.putArtifact(Artifact.of("Dataset", "file:/d").withProperty("rows", PropertyValue.of(10L))
                .withCustomProperty("note", PropertyValue.of("x")));
        clock.advance(Duration.ofSeconds(5));

        var updated = store.putArtifact(created.withState(ArtifactState.DELETED).withUri("file:/e")
                .withProperty("rows", PropertyValue.of(11L)));

        var read = store.getArtifact(created.id());
        assertThat(read).isEqualTo(updated);
        assertThat(read.createTime()).isEqualTo(T0);
        assertThat(read.updateTime()).isEqualTo(T0.plusSeconds(5));
        assertThat(read.properties()).containsExactly(Map.entry("rows", PropertyValue.of(11L)));
        assertThat(read.customProperties()).containsExactly(Map.entry("note", PropertyValue.of("x")));
    }

    @Test
    void executionAndContextRoundTrip() {
        var execution = store.putExecution(Execution.of("Step").withName("train-1").withState(ExecutionState.RUNNING)
                .withProperty("image", PropertyValue.of("python:3.12")));
        var context = store.putContext(Context.of("PipelineRun", "run-1").withProperty("pipeline", PropertyValue.of("p")));

        assertThat(store.getExecution(execution.id())).isEqualTo(execution);
        assertThat(store.executionsByType("Step")).containsExactly(execution);
        assertThat(store.findExecution("Step", "train-1")).contains(execution);
        assertThat(store.getContext(context.id())).isEqualTo(context);
        assertThat(store.contextsByType("PipelineRun")).containsExactly(context);
        assertThat(store.findContext("PipelineRun", "run-1")).contains(context);

        var done = store.putExecution(execution.withState(ExecutionState.COMPLETE));
        assertThat(store.getExecution(execution.id()).lastKnownState()).isEqualTo(ExecutionState.COMPLETE);
        assertThat(done.createTime()).isEqualTo(execution.createTime());
    }

    @Test
    void unknownTypeIsNotFound() {
        assertThatExceptionOfType(NotFoundException.class)
                .isThrownBy(() -> store.putArtifact(Artifact.of("Nope", "file:/x")))
                .withMessageContaining("artifact type 'Nope' does not exist");
        assertThatExceptionOfType(NotFoundException.class)
                .isThrownBy(() -> store.putContext(Context.of("Nope", "c")))
                .withMessageContaining("context type 'Nope'");
    }

    @Test
    void propertyTypeMismatchNamesTheProperty() {
        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> store.putArtifact(Artifact.of("Model", "file:/m").withProperty("accuracy", PropertyValue.of("high"))))
                .withMessageContaining("property 'accuracy' is declared DOUBLE")
                .withMessageContaining("the value is STRING");
        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> store.putExecution(Execution.of("Step").withProperty("gpu", PropertyValue.of(1L))))
                .withMessageContaining("property 'gpu' is not declared by execution type 'Step'")
                .withMessageContaining("custom property");
        assertThat(store.artifactsByType("Model")).isEmpty();
    }

    @Test
    void duplicateNamesConflict() {
        var first = store.putArtifact(Artifact.of("Model", "file:/a").withName("best"));
        assertThatExceptionOfType(ConflictException.class)
                .isThrownBy(() -> store.putArtifact(Artifact.of("Model", "file:/b").withName("best")))
                .withMessageContaining("named 'best' (id " + first.id() + ")");
        store.putContext(Context.of("PipelineRun", "run-1"));
        assertThatExceptionOfType(ConflictException.class)
                .isThrownBy(() -> store.putContext(Context.of("PipelineRun", "run-1")));
        store.putArtifact(Artifact.of("Model", "file:/c").withExternalId("e"));
        assertThatExceptionOfType(ConflictException.class)
                .isThrownBy(() -> store.putArtifact(Artifact.of("Model", "file:/d").withExternalId("e")))
                .withMessageContaining("external id 'e'");
    }

    @Test
    void updatingAMissingOrRetypedNodeFails() {
        var model = store.putArtifact(Artifact.of("Model", "file:/a"));
        assertThatExceptionOfType(NotFoundException.class)
                .isThrownBy(() -> store.putArtifact(Artifact.of("Model", "file:/a").stored(424242, T0, T0)))
                .withMessageContaining("artifact 424242 does not exist");
        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> store.putArtifact(new Artifact(model.id(), "Dataset", "file:/a", "", ArtifactState.LIVE, "",
                        Map.of(), Map.of(), T0, T0)))
                .withMessageContaining("has type 'Model' and cannot change to 'Dataset'");
        assertThatExceptionOfType(NotFoundException.class).isThrownBy(() -> store.getExecution(99999));
    }

    @Test
    void recordsRejectBadFields() {
        assertThatExceptionOfType(InvalidSpecException.class).isThrownBy(() -> Artifact.of(" ", "file:/a"))
                .withMessageContaining("artifact type must not be blank");
        assertThatExceptionOfType(InvalidSpecException.class).isThrownBy(() -> new PropertyValue.StructValue("[1, 2]"))
                .withMessageContaining("must be a JSON object");
        assertThatExceptionOfType(InvalidSpecException.class).isThrownBy(() -> Event.of(0, 1, EventType.INPUT))
                .withMessageContaining("artifactId must be > 0");
        assertThatExceptionOfType(InvalidSpecException.class).isThrownBy(() -> new ParentContext(3, 3))
                .withMessageContaining("its own parent");
    }

    // ---- events and links

    @Test
    void eventsRoundTripWithPaths() {
        var data = store.putArtifact(Artifact.of("Dataset", "file:/d"));
        var step = store.putExecution(Execution.of("Step"));
        var path = List.of(PathStep.key("examples"), PathStep.index(2));
        store.putEvents(List.of(Event.of(data.id(), step.id(), EventType.DECLARED_INPUT).withPath(path)));

        var expected = new Event(data.id(), step.id(), EventType.DECLARED_INPUT, path, T0);
        assertThat(store.eventsByArtifact(data.id())).containsExactly(expected);
        assertThat(store.eventsByExecution(step.id())).containsExactly(expected);
        assertThatExceptionOfType(ConflictException.class)
                .isThrownBy(() -> store.putEvents(List.of(Event.of(data.id(), step.id(), EventType.DECLARED_INPUT))))
                .withMessageContaining("already exists");
    }

    @Test
    void eventToMissingArtifactIsNotFound() {
        var step = store.putExecution(Execution.of("Step"));
        assertThatExceptionOfType(NotFoundException.class)
                .isThrownBy(() -> store.putEvents(List.of(Event.of(987654, step.id(), EventType.OUTPUT))))
                .withMessageContaining("artifacts [987654]");
        assertThat(store.eventsByExecution(step.id())).isEmpty();
    }

    @Test
    void attributionsAssociationsAndParents() {
        var data = store.putArtifact(Artifact.of("Dataset", "file:/d"));
        var step = store.putExecution(Execution.of("Step"));
        var run = store.putContext(Context.of("PipelineRun", "run"));
        var experiment = store.putContext(Context.of("PipelineRun", "experiment"));
        var project = store.putContext(Context.of("PipelineRun", "project"));

        store.putAttributionsAndAssociations(List.of(new Attribution(run.id(), data.id())), List.of(new Association(run.id(), step.id())));
        store.putAttributionsAndAssociations(List.of(new Attribution(run.id(), data.id())), List.of());
        store.putParentContexts(List.of(new ParentContext(run.id(), experiment.id()), new ParentContext(experiment.id(), project.id())));

        assertThat(store.artifactsByContext(run.id())).containsExactly(data);
        assertThat(store.executionsByContext(run.id())).containsExactly(step);
        assertThat(store.contextsByArtifact(data.id())).containsExactly(run);
        assertThat(store.contextsByExecution(step.id())).containsExactly(run);
        assertThat(store.parentContexts(run.id())).containsExactly(experiment);
        assertThat(store.childContexts(project.id())).containsExactly(experiment);

        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> store.putParentContexts(List.of(new ParentContext(project.id(), run.id()))))
                .withMessageContaining("cycle");
        assertThatExceptionOfType(NotFoundException.class)
                .isThrownBy(() -> store.putAttributionsAndAssociations(List.of(new Attribution(run.id(), 5555)), List.of()))
                .withMessageContaining("artifacts [5555]");
    }

    @Test
    void putExecutionRecordsATaskInOneGoAndIsSafeToRetry() {
        var input = store.putArtifact(Artifact.of("Dataset", "file:/in"));
        var execution = Execution.of("Step").withName("task-1").withState(ExecutionState.COMPLETE);
        var run = Context.of("PipelineRun", "run-7");

        var first = store.putExecution(execution,
                List.of(ArtifactAndEvent.input(input, "data"), ArtifactAndEvent.output(Artifact.of("Model", "file:/out"), "model")),
                List.of(run));
        var model = first.artifacts().get(1);
        var second = store.putExecution(Execution.of("Step").withName("task-2"),
                List.of(ArtifactAndEvent.input(model, "model")), List.of(run));

        assertThat(second.contexts().get(0).id()).isEqualTo(first.contexts().get(0).id());
        long runId = first.contexts().get(0).id();
        assertThat(store.executionsByContext(runId)).extracting(Execution::name).containsExactly("task-1", "task-2");
        assertThat(store.artifactsByContext(runId)).extracting(Artifact::uri).containsExactly("file:/in", "file:/out");
        assertThat(store.eventsByExecution(first.execution().id())).extracting(Event::type, Event::path)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(EventType.INPUT, List.of(PathStep.key("data"))),
                        org.assertj.core.groups.Tuple.tuple(EventType.OUTPUT, List.of(PathStep.key("model"))));

        var retried = store.putExecution(first.execution(), List.of(ArtifactAndEvent.output(model, "model")), List.of(run));
        assertThat(retried.execution().id()).isEqualTo(first.execution().id());
        assertThat(store.eventsByExecution(first.execution().id())).hasSize(2);
    }

    @Test
    void putExecutionRollsBackWhenAnyPartFails() {
        assertThatExceptionOfType(NotFoundException.class).isThrownBy(() -> store.putExecution(Execution.of("Step").withName("t"),
                List.of(ArtifactAndEvent.output(Artifact.of("Model", "file:/out"), "m")), List.of(Context.of("NoSuchType", "r"))));
        assertThat(store.executionsByType("Step")).isEmpty();
        assertThat(store.artifactsByType("Model")).isEmpty();
    }

    @Test
    void putExecutionsRecordsManyInOneTransactionAndReplacesByName() {
        var run = Context.of("PipelineRun", "run-8");
        var recorded = store.putExecutions(List.of(
                new ExecutionRecord(Execution.of("Step").withName("a").withState(ExecutionState.RUNNING), List.of(), List.of(run)),
                new ExecutionRecord(Execution.of("Step").withName("b").withState(ExecutionState.COMPLETE),
                        List.of(ArtifactAndEvent.output(Artifact.of("Model", "file:/b"), "model")), List.of(run))));
        assertThat(recorded).hasSize(2);
        long runId = recorded.get(0).contexts().get(0).id();
        assertThat(recorded.get(1).contexts().get(0).id()).isEqualTo(runId);

        // Recorded again under the same name (as a retried pass does): the stored execution is replaced, no event repeats.
        var again = store.putExecutions(List.of(
                new ExecutionRecord(Execution.of("Step").withName("a").withState(ExecutionState.COMPLETE), List.of(), List.of(run)),
                new ExecutionRecord(Execution.of("Step").withName("b").withState(ExecutionState.COMPLETE),
                        List.of(ArtifactAndEvent.output(recorded.get(1).artifacts().get(0), "model")), List.of(run))));
        assertThat(again.get(0).execution().id()).isEqualTo(recorded.get(0).execution().id());
        assertThat(store.executionsByContext(runId)).extracting(Execution::name, Execution::lastKnownState)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("a", ExecutionState.COMPLETE),
                        org.assertj.core.groups.Tuple.tuple("b", ExecutionState.COMPLETE));
        assertThat(store.eventsByExecution(recorded.get(1).execution().id())).hasSize(1);
        assertThat(store.putExecutions(List.of())).isEmpty();
    }

    @Test
    void putExecutionsReplacesPropertiesAndTreatsARepeatedNameInOneBatchAsAReplacement() {
        var run = Context.of("PipelineRun", "run-9");
        var first = store.putExecutions(List.of(new ExecutionRecord(Execution.of("Step").withName("a")
                .withProperty("image", PropertyValue.of("alpine:3")).withCustomProperty("old", PropertyValue.of(1L)), List.of(), List.of(run))));
        var batch = store.putExecutions(List.of(
                new ExecutionRecord(Execution.of("Step").withName("a").withProperty("image", PropertyValue.of("debian:12"))
                        .withCustomProperty("attempt", PropertyValue.of(2L)), List.of(), List.of(run)),
                new ExecutionRecord(Execution.of("Step").withName("c").withState(ExecutionState.RUNNING), List.of(), List.of(run)),
                new ExecutionRecord(Execution.of("Step").withName("c").withState(ExecutionState.FAILED), List.of(), List.of(run))));

        long id = first.get(0).execution().id();
        assertThat(batch.get(0).execution().id()).isEqualTo(id);
        var stored = store.getExecution(id);
        assertThat(stored.properties()).containsExactly(Map.entry("image", PropertyValue.of("debian:12")));
        assertThat(stored.customProperties()).containsExactly(Map.entry("attempt", PropertyValue.of(2L)));
        assertThat(batch.get(2).execution().id()).isEqualTo(batch.get(1).execution().id());
        assertThat(store.findExecution("Step", "c")).map(Execution::lastKnownState).contains(ExecutionState.FAILED);
        assertThat(store.executionsByContext(first.get(0).contexts().get(0).id())).hasSize(2);
    }

    @Test
    void putExecutionsGivesEachOfManyNewExecutionsItsOwnRowInOrder() {
        var run = Context.of("PipelineRun", "run-10");
        var records = new java.util.ArrayList<ExecutionRecord>();
        for (int i = 0; i < 30; i++) {
            records.add(new ExecutionRecord(Execution.of("Step").withName("n" + i)
                    .withProperty("image", PropertyValue.of("img-" + i)), List.of(), List.of(run)));
        }
        var recorded = store.putExecutions(records);
        assertThat(recorded).extracting(r -> r.execution().id()).doesNotHaveDuplicates();
        for (int i = 0; i < 30; i++) {
            var stored = store.getExecution(recorded.get(i).execution().id());
            assertThat(stored.name()).isEqualTo("n" + i);
            assertThat(stored.properties()).containsExactly(Map.entry("image", PropertyValue.of("img-" + i)));
        }
        assertThat(store.executionsByContext(recorded.getFirst().contexts().getFirst().id())).hasSize(30);
    }

    @Test
    void putExecutionsRefusesAnUndeclaredPropertyNamingItAndStoresNothing() {
        assertThatExceptionOfType(InvalidSpecException.class).isThrownBy(() -> store.putExecutions(List.of(
                        new ExecutionRecord(Execution.of("Step").withName("ok"), List.of(), List.of()),
                        new ExecutionRecord(Execution.of("Step").withName("bad").withProperty("colour", PropertyValue.of("red")),
                                List.of(), List.of()))))
                .withMessageContaining("property 'colour' is not declared");
        assertThat(store.executionsByType("Step")).isEmpty();
    }

    @Test
    void putExecutionsRollsBackTheWholeBatchWhenOneFails() {
        assertThatExceptionOfType(NotFoundException.class).isThrownBy(() -> store.putExecutions(List.of(
                new ExecutionRecord(Execution.of("Step").withName("ok"), List.of(), List.of(Context.of("PipelineRun", "r"))),
                new ExecutionRecord(Execution.of("Step").withName("bad"), List.of(), List.of(Context.of("NoSuchType", "r"))))));
        assertThat(store.executionsByType("Step")).isEmpty();
    }

    // ---- lineage

    @Test
    void upstreamOfTheModelStopsAtTheHopLimit() {
        var g = LineageGraph.build(store);
        var two = store.lineage(LineageQuery.fromArtifacts(Set.of(g.id("model")), UPSTREAM, 2));
        assertThat(g.names(two)).containsExactlyInAnyOrder("model", "train", "features", "hyperparams");
        assertThat(two.artifactHops()).containsEntry(g.id("features"), 2).containsEntry(g.id("model"), 0);
        assertThat(two.executionHops()).containsExactly(Map.entry(g.id("train"), 1));
        assertThat(two.events()).hasSize(3);
        assertThat(two.truncated()).isFalse();

        var four = store.lineage(LineageQuery.fromArtifacts(Set.of(g.id("model")), UPSTREAM, 4));
        assertThat(g.names(four)).containsExactlyInAnyOrder("model", "train", "features", "hyperparams", "preprocess", "train-data");
        assertThat(four.events()).hasSize(5);
        assertThat(four.contexts()).extracting(Context::name).containsExactly("run-1");

        var all = store.lineage(LineageQuery.fromArtifacts(Set.of(g.id("model")), UPSTREAM, 100));
        assertThat(g.names(all)).isEqualTo(g.names(four));
    }

    @Test
    void downstreamOfTheFeaturesFollowsTheFanOut() {
        var g = LineageGraph.build(store);
        var three = store.lineage(LineageQuery.fromArtifacts(Set.of(g.id("features")), DOWNSTREAM, 3));
        assertThat(g.names(three)).containsExactlyInAnyOrder("features", "train", "profile", "model", "stats", "evaluate");
        var one = store.lineage(LineageQuery.fromArtifacts(Set.of(g.id("features")), DOWNSTREAM, 1));
        assertThat(g.names(one)).containsExactlyInAnyOrder("features", "train", "profile");
        var zero = store.lineage(LineageQuery.fromArtifacts(Set.of(g.id("features")), DOWNSTREAM, 0));
        assertThat(g.names(zero)).containsExactly("features");
        assertThat(zero.events()).isEmpty();
        var all = store.lineage(LineageQuery.fromArtifacts(Set.of(g.id("features")), DOWNSTREAM, 10));
        assertThat(g.names(all)).containsExactlyInAnyOrder("features", "train", "profile", "model", "stats", "evaluate", "metrics");
    }

    @Test
    void bothDirectionsAlsoReachSiblingInputsAndOutputs() {
        var g = LineageGraph.build(store);
        var two = store.lineage(LineageQuery.fromArtifacts(Set.of(g.id("model")), BOTH, 2));
        assertThat(g.names(two)).containsExactlyInAnyOrder("model", "train", "evaluate", "features", "hyperparams",
                "test-data", "metrics");
        var three = store.lineage(LineageQuery.fromArtifacts(Set.of(g.id("model")), BOTH, 3));
        assertThat(g.names(three)).containsAll(g.names(two)).contains("preprocess", "profile").doesNotContain("train-data", "stats");
        assertThat(three.artifactHops()).containsEntry(g.id("metrics"), 2);
        assertThat(three.executionHops()).containsEntry(g.id("profile"), 3);
    }

    @Test
    void startingFromExecutionsAndCappingNodes() {
        var g = LineageGraph.build(store);
        var up = store.lineage(LineageQuery.fromExecutions(Set.of(g.id("train")), UPSTREAM, 1));
        assertThat(g.names(up)).containsExactlyInAnyOrder("train", "features", "hyperparams");
        var mixed = store.lineage(new LineageQuery(Set.of(g.id("metrics")), Set.of(g.id("preprocess")), UPSTREAM, 1, 100));
        assertThat(g.names(mixed)).containsExactlyInAnyOrder("metrics", "evaluate", "preprocess", "train-data");

        var capped = store.lineage(LineageQuery.fromArtifacts(Set.of(g.id("model")), BOTH, 10).withMaxNodes(3));
        assertThat(capped.truncated()).isTrue();
        assertThat(g.names(capped)).containsExactlyInAnyOrder("model", "train", "evaluate");
    }

    @Test
    void badLineageQueriesAreRejected() {
        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> LineageQuery.fromArtifacts(Set.of(1L), UPSTREAM, -1))
                .withMessageContaining("maxHops must be between 0 and 100, got -1");
        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> LineageQuery.fromArtifacts(Set.of(1L), UPSTREAM, 101))
                .withMessageContaining("got 101");
        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> LineageQuery.fromArtifacts(Set.of(), UPSTREAM, 3))
                .withMessageContaining("at least one starting");
        assertThatExceptionOfType(NotFoundException.class)
                .isThrownBy(() -> store.lineage(LineageQuery.fromArtifacts(Set.of(777777L), UPSTREAM, 3)))
                .withMessageContaining("777777");
    }

    @Test
    void lineageSurvivesCycles() {
        // MLMD does not forbid an execution reading its own output; the walk must still end.
        var a = store.putArtifact(Artifact.of("Dataset", "file:/a"));
        var e = store.putExecution(Execution.of("Step"));
        store.putEvents(List.of(Event.of(a.id(), e.id(), EventType.INPUT), Event.of(a.id(), e.id(), EventType.OUTPUT)));
        var sub = store.lineage(LineageQuery.fromArtifacts(Set.of(a.id()), BOTH, 100));
        assertThat(sub.artifacts()).hasSize(1);
        assertThat(sub.executions()).hasSize(1);
        assertThat(sub.events()).hasSize(2);
    }
}
