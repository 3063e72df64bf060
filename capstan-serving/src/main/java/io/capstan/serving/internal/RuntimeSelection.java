package io.capstan.serving.internal;

import io.capstan.backend.ContainerOptions;
import io.capstan.backend.ContainerOptions.Execution;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.serving.python.ContainerModelRuntime;
import io.capstan.serving.python.ModelProcesses;
import io.capstan.serving.runtime.ModelLoadException;
import io.capstan.serving.runtime.ModelRuntime;
import io.capstan.serving.runtime.Runtimes;
import io.capstan.serving.spec.InferenceServiceSpec.ModelSpec;
import io.capstan.serving.spec.ServingKinds;
import io.capstan.serving.spec.ServingRuntimeSpec;
import io.capstan.store.LabelSelector;
import io.capstan.store.ListQuery;
import io.capstan.store.ResourceStore;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Chooses how to serve a model, as KServe does: the runtime the model names (a ServingRuntime in
 * its namespace, a ClusterServingRuntime, or a built-in runtime's name), else the auto-selectable
 * ServingRuntime or ClusterServingRuntime of highest priority that supports the format, else
 * Capstan's built-in runtime for the format. A chosen ServingRuntime whose first container has a command runs it as
 * a model-server process ({@link ContainerModelRuntime}), as does one without whose image can run in a container with
 * its own entrypoint; otherwise the model is served by the built-in runtime for its format.
 */
final class RuntimeSelection {
    /** The chosen runtime: its name as configured (for the status) and the runtime that loads the model. */
    record Choice(String runtimeName, ModelRuntime implementation) {
    }

    private final ResourceStore store;
    private final Runtimes runtimes;
    private final ModelProcesses processes;

    RuntimeSelection(ResourceStore store, Runtimes runtimes, ModelProcesses processes) {
        this.store = store;
        this.runtimes = runtimes;
        this.processes = processes;
    }

    /**
     * The ServingRuntime's container as the model's runtime, when it has a command to run or its image can run in a
     * container with its own entrypoint ({@code execution} is the InferenceService's {@code capstan.io/execution}).
     */
    private Optional<Choice> container(String name, ServingRuntimeSpec spec, com.fasterxml.jackson.databind.JsonNode raw,
                                       Execution execution) throws ModelLoadException {
        var container = spec.container();
        if (container == null || processes == null) return Optional.empty();
        ContainerOptions options;
        try {
            options = ContainerPlacement.of(execution, raw, "spec");
        } catch (ModelLoadException e) {
            throw new ModelLoadException("runtime '" + name + "': " + e.getMessage(), e);
        }
        if (container.command().isEmpty()
                && (container.image() == null || !processes.runsInContainer(container.image(), options))) {
            return Optional.empty();
        }
        return Optional.of(new Choice(name, new ContainerModelRuntime(name, spec.supportedModelFormats(), container, processes,
                RevisionSettings.defaults().timeout(), options)));
    }

    Choice choose(String namespace, ModelSpec model) throws ModelLoadException {
        return choose(namespace, model, Execution.AUTO);
    }

    Choice choose(String namespace, ModelSpec model, Execution execution) throws ModelLoadException {
        // a format Capstan has no runtime for fails with what to do instead (implementation), unless a ServingRuntime
        // with a command serves it
        if (model.runtime() != null) {
            var builtIn = runtimes.byName(model.runtime());
            if (builtIn.isPresent()) {
                if (builtIn.get().supportedFormats().stream().noneMatch(f -> f.matches(model.format(), model.formatVersion()))) {
                    throw new ModelLoadException("runtime " + model.runtime() + " does not serve model format " + model.format());
                }
                return new Choice(model.runtime(), builtIn.get());
            }
            var named = namedRuntime(namespace, model.runtime()).orElseThrow(() -> new ModelLoadException(
                    "runtime '" + model.runtime() + "' does not exist: apply a ServingRuntime or ClusterServingRuntime with that name, "
                            + "or leave " + model.path() + ".runtime out to choose one automatically"));
            if (named.disabled()) throw new ModelLoadException("runtime '" + model.runtime() + "' is disabled");
            if (named.supportedModelFormats().stream().noneMatch(f -> f.matches(model.format(), model.formatVersion()))) {
                throw new ModelLoadException("runtime '" + model.runtime() + "' does not list model format " + model.format()
                        + " in its supportedModelFormats");
            }
            var process = container(model.runtime(), named, namedSpec(namespace, model.runtime()), execution);
            if (process.isPresent()) return process.get();
            return new Choice(model.runtime(), implementation(model));
        }
        record Candidate(String name, int priority, boolean namespaced, ServingRuntimeSpec spec,
                         com.fasterxml.jackson.databind.JsonNode raw) { }
        var candidates = new ArrayList<Candidate>();
        for (var kind : List.of(ServingKinds.SERVING_RUNTIME, ServingKinds.CLUSTER_SERVING_RUNTIME)) {
            boolean namespaced = kind.equals(ServingKinds.SERVING_RUNTIME);
            for (var resource : list(kind, namespaced ? Optional.of(namespace) : Optional.empty())) {
                var spec = parse(resource);
                if (spec == null || spec.disabled()) continue;
                spec.supportedModelFormats().stream()
                        .filter(f -> f.autoSelect() && f.matches(model.format(), model.formatVersion()))
                        .findFirst()
                        .ifPresent(f -> candidates.add(new Candidate(resource.metadata().name(), f.priority(), namespaced, spec,
                                resource.spec())));
            }
        }
        var best = candidates.stream().max(Comparator.comparingInt(Candidate::priority)
                .thenComparing(Candidate::namespaced).thenComparing(Candidate::name, Comparator.reverseOrder()));
        if (best.isPresent()) {
            var process = container(best.get().name(), best.get().spec(), best.get().raw(), execution);
            if (process.isPresent()) return process.get();
        }
        var implementation = implementation(model);
        return new Choice(best.map(Candidate::name).orElse(implementation.name()), implementation);
    }

    private ModelRuntime implementation(ModelSpec model) throws ModelLoadException {
        var byFormat = runtimes.all().stream()
                .filter(r -> r.supportedFormats().stream().anyMatch(f -> f.matches(model.format(), model.formatVersion())))
                .findFirst();
        if (byFormat.isPresent()) return byFormat.get();
        var advice = UnservableFormats.advice(model.format());
        throw new ModelLoadException(advice.orElse("Capstan has no runtime for model format '" + model.format()
                + "'; it serves onnx, xgboost, lightgbm and custom Java formats "
                + runtimes.all().stream().flatMap(r -> r.supportedFormats().stream()).map(f -> f.name()).distinct().sorted().toList()));
    }

    private com.fasterxml.jackson.databind.JsonNode namedSpec(String namespace, String name) {
        var local = store.find(new ResourceKey(ServingKinds.SERVING_RUNTIME, namespace, name));
        if (local.isPresent()) return local.get().spec();
        return list(ServingKinds.CLUSTER_SERVING_RUNTIME, Optional.empty()).stream().filter(r -> r.metadata().name().equals(name))
                .findFirst().<com.fasterxml.jackson.databind.JsonNode>map(Resource::spec)
                .orElse(com.fasterxml.jackson.databind.node.MissingNode.getInstance());
    }

    private Optional<ServingRuntimeSpec> namedRuntime(String namespace, String name) {
        var local = store.find(new ResourceKey(ServingKinds.SERVING_RUNTIME, namespace, name));
        if (local.isPresent()) return Optional.ofNullable(parse(local.get()));
        return list(ServingKinds.CLUSTER_SERVING_RUNTIME, Optional.empty()).stream()
                .filter(r -> r.metadata().name().equals(name)).findFirst().map(RuntimeSelection::parse);
    }

    private List<Resource> list(String kind, Optional<String> namespace) {
        return store.list(new ListQuery(kind, namespace, LabelSelector.EVERYTHING, ListQuery.MAX_LIMIT, Optional.empty())).items();
    }

    private static ServingRuntimeSpec parse(Resource resource) {
        return ServingRuntimeSpec.parse(resource.spec(), new io.capstan.core.Problems());
    }
}
