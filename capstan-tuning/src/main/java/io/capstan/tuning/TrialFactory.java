package io.capstan.tuning;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.ConflictException;
import io.capstan.core.ObjectMeta;
import io.capstan.core.Resource;
import io.capstan.search.Suggestion;
import io.capstan.store.ResourceStore;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Makes an experiment's trials: names them {@code <experiment>-<n>}, substitutes the trial parameters and trial
 * metadata into the template, and stores them owned by the experiment. Config-map templates are files under
 * {@code <workRoot>/trial-templates/<namespace>/<configMapName>/<templatePath>}, as there are no ConfigMaps locally.
 */
final class TrialFactory {
    private final ResourceStore store;
    private final Path workRoot;

    TrialFactory(ResourceStore store, Path workRoot) {
        this.store = store;
        this.workRoot = workRoot;
    }

    Resource create(Resource experiment, ExperimentSpec spec, ObjectNode template, Suggestion suggestion, int index) {
        var name = trialName(experiment.metadata().name(), index);
        var namespace = experiment.metadata().namespace();
        var values = new HashMap<String, String>();
        for (var p : spec.trialTemplate().trialParameters()) {
            var ref = p.reference();
            var value = suggestion.assignment().get(ref);
            if (value == null) value = metadataValue(ref, template, name, namespace);
            values.put(p.name(), value);
        }
        var runSpec = TrialCommand.substitute(template, n -> values.getOrDefault(n, "${trialParameters." + n + "}"));
        var meta = runSpec.with("metadata");
        meta.put("name", name);
        meta.put("namespace", namespace);
        var assignment = new LinkedHashMap<String, String>();
        for (var p : spec.space().parameters()) {
            var v = suggestion.assignment().get(p.name());
            if (v != null) assignment.put(p.name(), v);
        }
        var trialSpec = new TrialSpec(assignment, runSpec, spec.trialTemplate().primaryContainerName(), suggestion.labels());
        var owner = new ObjectMeta.OwnerReference(Experiments.API_VERSION, Experiments.EXPERIMENT, experiment.metadata().name(),
                experiment.metadata().uid(), true);
        var metadata = ObjectMeta.named(namespace, name).withLabels(Map.of(Experiments.EXPERIMENT_LABEL, experiment.metadata().name()))
                .withOwnerReferences(List.of(owner));
        try {
            return store.create(Resource.of(Experiments.API_VERSION, Experiments.TRIAL, metadata, trialSpec.toTree()));
        } catch (ConflictException e) {
            // A trial of that name exists but was not listed as ours: a leftover of a deleted experiment of the same name.
            throw new ConflictException("trial " + namespace + "/" + name + " exists and belongs to no live run of experiment "
                    + experiment.metadata().name() + "; delete it and the experiment continues");
        }
    }

    private static String metadataValue(String reference, ObjectNode template, String name, String namespace) {
        var m = TrialTemplateReader.METADATA_REFERENCE.matcher(reference);
        if (!m.matches()) return reference;
        var what = m.group(1);
        if (what.equals("Name")) return name;
        if (what.equals("Namespace")) return namespace;
        if (what.equals("Kind")) return template.path("kind").asText();
        if (what.equals("APIVersion")) return template.path("apiVersion").asText();
        var key = what.substring(what.indexOf('[') + 1, what.length() - 1);
        var field = what.startsWith("Labels") ? "labels" : "annotations";
        return template.path("metadata").path(field).path(key).asText("");
    }

    static String trialName(String experiment, int index) {
        var suffix = "-" + index;
        var base = experiment.length() + suffix.length() > 253 ? experiment.substring(0, 253 - suffix.length()) : experiment;
        return base + suffix;
    }

    static int nextIndex(Resource experiment, List<Resource> trials) {
        int max = 0;
        var prefix = experiment.metadata().name() + "-";
        for (var t : trials) {
            var name = t.metadata().name();
            if (!name.startsWith(prefix)) continue;
            try {
                max = Math.max(max, Integer.parseInt(name.substring(prefix.length())));
            } catch (NumberFormatException e) {
                // Not one of our numbered names (a truncated long name): the count below still keeps names unique.
                max = Math.max(max, trials.size());
            }
        }
        return max + 1;
    }

    Optional<ObjectNode> template(Resource experiment, ExperimentSpec spec) {
        var inline = spec.trialTemplate().trialSpec();
        if (inline.isPresent()) return inline;
        var file = templatePath(experiment, spec);
        if (!java.nio.file.Files.isRegularFile(file)) return Optional.empty();
        try {
            var node = io.capstan.core.Json.yaml().readTree(file.toFile());
            return node instanceof ObjectNode o ? Optional.of(o) : Optional.empty();
        } catch (java.io.IOException e) {
            throw new io.capstan.core.TransientException("cannot read trial template " + file + ": " + e.getMessage(), e);
        }
    }

    Path templatePath(Resource experiment, ExperimentSpec spec) {
        var ref = spec.trialTemplate().configMap().orElseThrow();
        var ns = ref.namespace().isEmpty() ? experiment.metadata().namespace() : ref.namespace();
        return workRoot.resolve("trial-templates").resolve(ns).resolve(ref.name()).resolve(ref.templatePath());
    }
}
