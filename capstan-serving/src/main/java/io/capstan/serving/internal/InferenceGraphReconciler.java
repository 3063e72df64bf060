package io.capstan.serving.internal;

import com.fasterxml.jackson.databind.node.TextNode;
import io.capstan.core.Problems;
import io.capstan.core.ResourceKey;
import io.capstan.serving.http.InferenceGraphs;
import io.capstan.serving.spec.InferenceGraphSpec;
import io.capstan.serving.spec.ServingKinds;
import io.capstan.store.Reconciler;
import io.capstan.store.ResourceStore;
import java.time.Clock;

/** Publishes each InferenceGraph to the in-process graph router and reports its URL. */
public final class InferenceGraphReconciler implements Reconciler {
    private final ResourceStore store;
    private final InferenceGraphs graphs;
    private final Clock clock;
    private final java.util.function.Supplier<String> baseUrl;

    public InferenceGraphReconciler(ResourceStore store, InferenceGraphs graphs, Clock clock, String baseUrl) {
        this(store, graphs, clock, () -> baseUrl);
    }

    /** As the other constructor, with the base URL known only once the HTTP server has its port. */
    public InferenceGraphReconciler(ResourceStore store, InferenceGraphs graphs, Clock clock, java.util.function.Supplier<String> baseUrl) {
        this.store = store;
        this.graphs = graphs;
        this.clock = clock;
        this.baseUrl = baseUrl;
    }

    @Override
    public String kind() {
        return ServingKinds.INFERENCE_GRAPH;
    }

    @Override
    public Result reconcile(ResourceKey key) {
        var found = store.find(key);
        if (found.isEmpty()) {
            graphs.remove(key.namespace(), key.name());
            return Result.done();
        }
        var graph = found.get();
        var problems = new Problems();
        var spec = InferenceGraphSpec.parse(graph.spec(), problems);
        var now = clock.instant();
        var status = graph.status().withObservedGeneration(graph.metadata().generation());
        if (spec == null) {
            graphs.remove(key.namespace(), key.name());
            status = status.withPhase("Failed").withCondition("Ready", false, "InvalidSpec",
                    problems.errors().stream().map(Object::toString).reduce((a, b) -> a + "; " + b).orElse(""), now);
        } else {
            graphs.put(key.namespace(), key.name(), spec);
            status = status.withPhase("Ready")
                    .withField("url", TextNode.valueOf(InferenceServiceReconciler.trimmed(baseUrl.get()) + "/serving/" + key.namespace() + "/graphs/" + key.name()))
                    .withCondition("Ready", true, "GraphPublished", "", now);
        }
        if (!status.equals(graph.status())) store.updateStatus(key, "", status);
        return Result.done();
    }
}
