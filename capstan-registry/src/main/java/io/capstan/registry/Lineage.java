package io.capstan.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.Resource;
import io.capstan.metadata.Artifact;
import io.capstan.metadata.Execution;
import io.capstan.metadata.MetadataStore;
import io.capstan.metadata.PropertyValue;
import io.capstan.store.LabelSelector;
import io.capstan.store.ListQuery;
import io.capstan.store.ResourceStore;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;

/**
 * A model version's lineage from data to endpoint: the datasets upstream of the step that made its model artifact,
 * the pipeline run and step (or training job, or Katib trial) that made it, the version, and the InferenceService
 * revisions that serve or served it. Upstream of the version it reads ML Metadata, found by the model artifact's URI,
 * and the artifact's {@code modelSource*} fields; downstream, the InferenceService resources and the registry's own
 * ServeModel records. Only what lies in the version's namespace is shown.
 */
final class Lineage {
    /** How many steps upstream of the model's step are looked at, at most. */
    private static final int MAX_STEPS = 500;
    static final String RUN_CONTEXT = "system.PipelineRun";
    static final String TRAINING_CONTEXT = "capstan.TrainingJob";

    private final RegistryStore store;
    private final MetadataStore metadata;
    private final ResourceStore resources;

    Lineage(RegistryStore store, MetadataStore metadata, ResourceStore resources) {
        this.store = store;
        this.metadata = metadata;
        this.resources = resources;
    }

    /** The artifacts ML Metadata holds at any of {@code uris}, a local path and its {@code file://} URI being the same place. */
    static List<Artifact> artifactsAt(MetadataStore metadata, Collection<String> uris) {
        var all = new LinkedHashSet<String>();
        for (var uri : uris) {
            if (uri == null || uri.isEmpty()) continue;
            all.add(uri);
            if (uri.startsWith("/")) all.add(java.nio.file.Path.of(uri).toUri().toString());
            if (uri.startsWith("file:")) {
                try {
                    var path = java.nio.file.Path.of(java.net.URI.create(uri)).toString();
                    all.add(path);
                    all.add(java.nio.file.Path.of(path).toUri().toString());
                } catch (IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
                    // not a local file URI: looked up as written only
                }
            }
        }
        var out = new ArrayList<Artifact>();
        for (var u : all) out.addAll(metadata.artifactsByUri(u));
        return out;
    }

    ObjectNode of(String ns, Entity version) {
        var nodes = JsonNodeFactory.instance;
        var out = nodes.objectNode();
        var model = store.get(ns, version.parentId(), List.of(Kind.REGISTERED_MODEL)).orElseThrow();
        var v = out.putObject("modelVersion");
        v.put("id", Long.toString(version.id()));
        v.put("name", version.name());
        v.put("registeredModelId", Long.toString(model.id()));
        v.put("registeredModelName", model.name());
        v.put("uri", ModelUris.SCHEME + model.name() + "/" + version.name() + "?namespace=" + ns);
        var aliases = v.putArray("aliases");
        store.aliases(model.id()).stream().filter(a -> a.versionId() == version.id()).forEach(a -> aliases.add(a.alias()));

        // The version in the lineage graph: the artifact a registration wrote, and the execution that wrote it.
        if (metadata != null) {
            for (var a : metadata.artifactsByUri(Registrations.versionUri(ns, model.name(), version.name()))) {
                v.put("metadataArtifactId", Long.toString(a.id()));
                for (var e : metadata.eventsByArtifact(a.id())) {
                    if (!e.type().isOutput()) continue;
                    var x = metadata.getExecution(e.executionId());
                    v.putObject("registeredBy").put("executionId", Long.toString(x.id())).put("type", x.type());
                }
            }
        }

        var artifacts = store.linked(ns, List.of(Kind.MODEL_ARTIFACT), version.id());
        var modelArtifacts = out.putArray("modelArtifacts");
        var uris = new ArrayList<String>();
        for (var a : artifacts) {
            var json = a.json();
            var entry = modelArtifacts.addObject();
            for (var f : List.of("id", "name", "uri", "modelFormatName", "modelSourceKind", "modelSourceClass", "modelSourceGroup", "modelSourceName", "modelSourceId")) {
                if (json.hasNonNull(f)) entry.set(f, json.get(f));
            }
            if (json.hasNonNull("uri")) uris.add(json.get("uri").asText());
        }

        // Upstream: the steps that made the model's files, their runs and the datasets they read.
        var producers = new LinkedHashMap<Long, Execution>();
        if (metadata != null) {
            for (var a : artifactsAt(metadata, uris)) {
                for (var e : metadata.eventsByArtifact(a.id())) {
                    if (!e.type().isOutput()) continue;
                    var x = metadata.getExecution(e.executionId());
                    if (x.type().equals(Registrations.EXECUTION_TYPE)) continue;
                    if (namespaceOf(x).filter(ns::equals).isPresent()) producers.put(x.id(), x);
                }
            }
        }
        var upstream = upstream(producers.values(), ns);
        var runs = out.putArray("runs");
        var trainingJobs = out.putArray("trainingJobs");
        var seenRuns = new LinkedHashMap<String, ObjectNode>();
        for (var x : upstream.steps()) {
            for (var c : metadata.contextsByExecution(x.id())) {
                if (c.type().equals(RUN_CONTEXT)) {
                    var run = seenRuns.computeIfAbsent(c.name(), uid -> {
                        var r = runs.addObject();
                        r.put("uid", uid);
                        findRun(ns, uid).ifPresent(res -> r.put("name", res.metadata().name()).put("namespace", ns).put("phase", res.status().phase()));
                        r.putArray("steps");
                        return r;
                    });
                    var step = ((ArrayNode) run.get("steps")).addObject();
                    step.put("task", text(x.properties().get("task_name")).orElse(x.name()));
                    step.put("executionId", Long.toString(x.id()));
                    step.put("state", x.lastKnownState().name());
                } else if (c.type().equals(TRAINING_CONTEXT)) {
                    var job = trainingJobs.addObject();
                    job.put("kind", text(x.customProperties().get("kind")).orElse(""));
                    job.put("name", text(x.customProperties().get("name")).orElse(c.name()));
                    job.put("namespace", ns);
                    job.put("uid", x.name());
                    job.put("executionId", Long.toString(x.id()));
                }
            }
        }
        var sources = out.putArray("sources");
        for (var a : artifacts) {
            var json = a.json();
            if (!json.hasNonNull("modelSourceKind")) continue;
            var s = sources.addObject();
            for (var f : List.of("modelSourceKind", "modelSourceClass", "modelSourceGroup", "modelSourceName", "modelSourceId")) {
                if (json.hasNonNull(f)) s.set(f, json.get(f));
            }
        }
        var datasets = out.putArray("datasets");
        for (var d : upstream.datasets()) {
            var entry = datasets.addObject();
            entry.put("metadataArtifactId", Long.toString(d.id()));
            entry.put("type", d.type());
            entry.put("uri", d.uri());
            var display = text(d.customProperties().get("display_name")).filter(s -> !s.isEmpty()).orElse(d.name());
            if (!display.isEmpty()) entry.put("name", display);
        }

        // Downstream: the services serving it now, and every service that served it, from the registry's ServeModels.
        var services = out.putArray("inferenceServices");
        var current = new LinkedHashMap<String, Resource>();
        if (resources != null) {
            Optional<String> token = Optional.empty();
            do {
                var page = resources.list(new ListQuery(Deployer.KIND, Optional.of(ns), LabelSelector.EVERYTHING, ListQuery.MAX_LIMIT, token));
                for (var r : page.items()) {
                    var source = r.status().field("modelSource").map(n -> n.path("modelVersionId").asText("")).orElse("");
                    var label = r.metadata().labels().getOrDefault(Deployer.VERSION_LABEL, "");
                    if (source.equals(Long.toString(version.id())) || (source.isEmpty() && label.equals(Long.toString(version.id())))) {
                        current.put(r.metadata().name(), r);
                    }
                }
                token = page.continueToken();
            } while (token.isPresent());
        }
        var seenServices = new HashSet<String>();
        for (var r : current.values()) {
            seenServices.add(r.metadata().name());
            var s = services.addObject();
            s.put("name", r.metadata().name());
            s.put("namespace", ns);
            s.put("serving", true);
            s.put("phase", r.status().phase());
            var predictor = r.status().field("components").map(c -> c.path("predictor")).orElse(nodes.missingNode());
            var revision = predictor.path("latestReadyRevision").asText("");
            if (!revision.isEmpty()) s.put("revision", revision);
            var created = predictor.path("latestCreatedRevision").asText("");
            if (!created.isEmpty()) s.put("latestCreatedRevision", created);
            var url = r.status().field("url").map(JsonNode::asText).orElse(predictor.path("url").asText(""));
            if (!url.isEmpty()) s.put("url", url);
            r.status().field("modelSource").ifPresent(src -> {
                for (var f : List.of("uri", "storageUri", "alias")) if (src.hasNonNull(f)) s.set(f, src.get(f));
            });
        }
        for (var sm : store.referencing(ns, List.of(Kind.SERVE_MODEL), "modelVersionId", version.id())) {
            var isvc = store.get(ns, sm.parentId(), List.of(Kind.INFERENCE_SERVICE));
            if (isvc.isEmpty() || !seenServices.add(isvc.get().name())) continue;
            var s = services.addObject();
            s.put("name", isvc.get().name());
            s.put("namespace", ns);
            s.put("serving", false);
            s.put("lastKnownState", sm.text("lastKnownState"));
            s.put("nowServingModelVersionId", isvc.get().text("modelVersionId"));
        }

        // The chain in one line per link, in order from data to endpoint.
        var chain = out.putArray("chain");
        datasets.forEach(d -> chain.addObject().put("type", "dataset").put("name", d.path("name").asText(d.path("uri").asText())).put("uri", d.path("uri").asText()));
        runs.forEach(r -> {
            chain.addObject().put("type", "pipelineRun").put("name", r.path("name").asText(r.path("uid").asText())).put("uid", r.path("uid").asText());
            r.path("steps").forEach(st -> chain.addObject().put("type", "step").put("name", st.path("task").asText()).put("run", r.path("name").asText(r.path("uid").asText())));
        });
        sources.forEach(s -> {
            if (s.path("modelSourceKind").asText().equals("katib")) chain.addObject().put("type", "trial").put("name", s.path("modelSourceName").asText());
        });
        trainingJobs.forEach(j -> chain.addObject().put("type", "trainingJob").put("name", j.path("kind").asText() + "/" + j.path("name").asText()));
        chain.addObject().put("type", "modelVersion").put("name", model.name() + "/" + version.name()).put("id", Long.toString(version.id()));
        services.forEach(s -> {
            var link = chain.addObject().put("type", "inferenceService").put("name", s.path("name").asText()).put("serving", s.path("serving").asBoolean());
            if (s.has("revision")) link.put("revision", s.path("revision").asText());
        });
        return out;
    }

    /** The namespace of the pipeline run or training job that {@code x} belongs to, as recorded in its contexts. */
    private Optional<String> namespaceOf(Execution x) {
        for (var c : metadata.contextsByExecution(x.id())) {
            if (c.type().equals(TRAINING_CONTEXT)) return Optional.of(c.name().substring(0, Math.max(0, c.name().indexOf('/'))));
            if (c.type().equals(RUN_CONTEXT)) {
                var ns = text(c.customProperties().get("namespace")).or(() -> text(c.properties().get("namespace")));
                if (ns.isPresent()) return ns;
                return runNamespace(c.name());
            }
        }
        return text(x.customProperties().get("namespace"));
    }

    private Optional<String> runNamespace(String uid) {
        if (resources == null) return Optional.empty();
        Optional<String> token = Optional.empty();
        do {
            var page = resources.list(new ListQuery("PipelineRun", Optional.empty(), LabelSelector.EVERYTHING, ListQuery.MAX_LIMIT, token));
            for (var r : page.items()) if (r.metadata().uid().equals(uid)) return Optional.of(r.metadata().namespace());
            token = page.continueToken();
        } while (token.isPresent());
        return Optional.empty();
    }

    private Optional<Resource> findRun(String ns, String uid) {
        if (resources == null) return Optional.empty();
        Optional<String> token = Optional.empty();
        do {
            var page = resources.list(new ListQuery("PipelineRun", Optional.of(ns), LabelSelector.EVERYTHING, ListQuery.MAX_LIMIT, token));
            for (var r : page.items()) if (r.metadata().uid().equals(uid)) return Optional.of(r);
            token = page.continueToken();
        } while (token.isPresent());
        return Optional.empty();
    }

    /** The steps upstream of the model (its maker included) and the datasets they read, each from the data on. */
    private record Upstream(List<Execution> steps, List<Artifact> datasets) {
    }

    /**
     * Upstream of {@code makers}, transitively and within namespace {@code ns}: the steps, and the {@code system.Dataset} artifacts they read (or, where
     * none is typed so, the artifacts they read that no recorded step made), each listed from the data on.
     */
    private Upstream upstream(Collection<Execution> makers, String ns) {
        var typed = new ArrayList<Artifact>();
        var roots = new ArrayList<Artifact>();
        var steps = new ArrayList<Execution>();
        if (metadata == null) return new Upstream(steps, typed);
        var seenSteps = new HashSet<Long>();
        var seenArtifacts = new HashSet<Long>();
        var queue = new ArrayDeque<>(makers);
        while (!queue.isEmpty() && seenSteps.size() < MAX_STEPS) {
            var x = queue.poll();
            if (!seenSteps.add(x.id())) continue;
            steps.add(x);
            for (var e : metadata.eventsByExecution(x.id())) {
                if (!e.type().isInput() || !seenArtifacts.add(e.artifactId())) continue;
                var artifact = metadata.getArtifact(e.artifactId());
                if (artifact.type().equals("system.Dataset")) typed.add(artifact);
                var made = metadata.eventsByArtifact(e.artifactId()).stream().filter(ev -> ev.type().isOutput()).toList();
                if (made.isEmpty()) roots.add(artifact);
                else made.forEach(ev -> {
                    // Only steps of this namespace: a step of another namespace's run is not shown, nor is what it read.
                    var maker = metadata.getExecution(ev.executionId());
                    if (namespaceOf(maker).filter(ns::equals).isPresent()) queue.add(maker);
                });
            }
        }
        java.util.Collections.reverse(steps);
        var datasets = typed.isEmpty() ? roots : typed;
        java.util.Collections.reverse(datasets);
        return new Upstream(steps, datasets);
    }

    private static Optional<String> text(PropertyValue v) {
        return v instanceof PropertyValue.StringValue s ? Optional.of(s.value()) : Optional.empty();
    }
}
