package io.capstan.metadata;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The hand-built test graph: train-data → preprocess → features → train → model → evaluate → metrics, with
 * hyperparams also read by train, test-data also read by evaluate, and features also read by profile → stats.
 * Names are artifact URIs and execution names.
 */
final class LineageGraph {
    private final Map<String, Long> ids = new HashMap<>();
    private final Map<Long, String> artifactNames = new HashMap<>();
    private final Map<Long, String> executionNames = new HashMap<>();

    static LineageGraph build(MetadataStore store) {
        var g = new LineageGraph();
        g.step(store, "preprocess", List.of("train-data"), List.of("features"));
        g.step(store, "train", List.of("features", "hyperparams"), List.of("model"));
        g.step(store, "evaluate", List.of("model", "test-data"), List.of("metrics"));
        g.step(store, "profile", List.of("features"), List.of("stats"));
        return g;
    }

    long id(String name) {
        return ids.get(name);
    }

    TreeSet<String> names(LineageSubgraph sub) {
        var names = new TreeSet<String>();
        sub.artifacts().forEach(a -> names.add(artifactNames.get(a.id())));
        sub.executions().forEach(e -> names.add(executionNames.get(e.id())));
        return names;
    }

    private void step(MetadataStore store, String name, List<String> inputs, List<String> outputs) {
        var events = new java.util.ArrayList<ArtifactAndEvent>();
        for (var in : inputs) events.add(ArtifactAndEvent.input(artifact(store, in), in));
        for (var out : outputs) events.add(ArtifactAndEvent.output(Artifact.of("Dataset", out), out));
        var recorded = store.putExecution(Execution.of("Step").withName(name), events, List.of(Context.of("PipelineRun", "run-1")));
        ids.put(name, recorded.execution().id());
        executionNames.put(recorded.execution().id(), name);
        for (var a : recorded.artifacts()) {
            ids.put(a.uri(), a.id());
            artifactNames.put(a.id(), a.uri());
        }
    }

    private Artifact artifact(MetadataStore store, String uri) {
        var existing = store.artifactsByUri(uri);
        return existing.isEmpty() ? Artifact.of("Dataset", uri) : existing.get(0);
    }
}
