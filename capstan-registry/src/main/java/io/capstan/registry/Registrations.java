package io.capstan.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.ConflictException;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.metadata.Artifact;
import io.capstan.metadata.ArtifactAndEvent;
import io.capstan.metadata.ArtifactState;
import io.capstan.metadata.ArtifactType;
import io.capstan.metadata.Context;
import io.capstan.metadata.Execution;
import io.capstan.metadata.ExecutionState;
import io.capstan.metadata.ExecutionType;
import io.capstan.metadata.MetadataStore;
import io.capstan.metadata.MetadataType;
import io.capstan.metadata.PropertyValue;
import io.capstan.store.LabelSelector;
import io.capstan.store.ListQuery;
import io.capstan.store.ResourceStore;
import io.capstan.store.WatchQuery;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registers models made by pipelines, training jobs and Katib trials, with {@code modelSource*} naming what made them
 * and an execution of type {@value #EXECUTION_TYPE} in ML Metadata from the made model to the registered version, in
 * the maker's context. It watches resources, as every engine does, and acts on three signs:
 * <ul>
 *   <li>a PipelineRun task that succeeded with an output artifact carrying {@value #REQUEST} metadata (the built-in
 *       {@code register-model} component writes it): the task's input {@code model} becomes a version
 *       ({@code modelSourceKind=kfp, modelSourceClass=pipelinerun});</li>
 *   <li>a TrainJob, PyTorchJob or XGBoostJob annotated {@value #MODEL_ANNOTATION}{@code : NAME} that Succeeded with a
 *       {@code status.modelUri} ({@code modelSourceKind=training, modelSourceClass=} its kind in lower case);</li>
 *   <li>a Katib Experiment annotated the same way that Succeeded: its best trial's training job's model
 *       ({@code modelSourceKind=katib, modelSourceClass=trial}), with the trial's parameters as custom properties.</li>
 * </ul>
 * The annotations {@value #VERSION_ANNOTATION}, {@value #ALIAS_ANNOTATION} and {@value #FORMAT_ANNOTATION} name the
 * version (default: the next {@code vN}), an alias to move to it, and the model format. Each registration is keyed by
 * the version's {@code externalId} ({@code kfp:RUN_UID:TASK}, {@code training:JOB_UID}, {@code katib:TRIAL_UID}) and
 * marked complete in a custom property once its artifact, alias and lineage are written, so that a restart half-way
 * finishes it and never registers twice.
 */
final class Registrations implements AutoCloseable {
    static final String MODEL_ANNOTATION = "registry.capstan.io/register-model";
    static final String VERSION_ANNOTATION = "registry.capstan.io/version";
    static final String ALIAS_ANNOTATION = "registry.capstan.io/alias";
    static final String FORMAT_ANNOTATION = "registry.capstan.io/model-format";
    /** The status condition that says whether a training job's or Experiment's model was registered, and if not why. */
    static final String CONDITION = "ModelRegistered";
    /** The metadata key of the register-model component's output artifact. */
    static final String REQUEST = "capstan.registry/register";
    static final String EXECUTION_TYPE = "capstan.RegisterModel";
    static final String COMPLETE_PROPERTY = "capstan_registration";
    static final List<String> JOB_KINDS = List.of("TrainJob", "PyTorchJob", "XGBoostJob");
    static final List<String> KINDS = List.of("PipelineRun", "TrainJob", "PyTorchJob", "XGBoostJob", "Experiment");
    static final Duration RESYNC = Duration.ofSeconds(10);
    private static final Logger LOG = LoggerFactory.getLogger(Registrations.class);

    /** What to register. */
    record Request(String modelName, String versionName, String format, String alias, String description) {
    }

    /** What made the model: upstream's modelSource* fields. */
    record Source(String kind, String sourceClass, String group, String name, String id) {
    }

    private final RegistryStore store;
    private final ResourceStore resources;
    private final MetadataStore metadata;
    private final Events events;
    private final Deployer deployer;
    private volatile boolean closed;
    private Thread thread;

    Registrations(RegistryStore store, ResourceStore resources, MetadataStore metadata, Events events, Deployer deployer) {
        this.store = store;
        this.resources = resources;
        this.metadata = metadata;
        this.events = events;
        this.deployer = deployer;
    }

    synchronized Registrations start() {
        if (thread == null) thread = Thread.ofVirtual().name("registry-registrations").start(this::run);
        return this;
    }

    private void run() {
        long after = 0;
        long nextResync = System.nanoTime();
        while (!closed) {
            try {
                if (System.nanoTime() - nextResync >= 0) {
                    after = resources.currentVersion();
                    for (var kind : KINDS) {
                        Optional<String> token = Optional.empty();
                        do {
                            var page = resources.list(new ListQuery(kind, Optional.empty(), LabelSelector.EVERYTHING, ListQuery.MAX_LIMIT, token));
                            page.items().forEach(this::safely);
                            token = page.continueToken();
                        } while (token.isPresent() && !closed);
                    }
                    nextResync = System.nanoTime() + RESYNC.toNanos();
                }
                for (var change : resources.changes(WatchQuery.EVERYTHING, after, 200, Duration.ofSeconds(1))) {
                    after = Math.max(after, change.resourceVersion());
                    if (KINDS.contains(change.resource().kind()) && change.type() != io.capstan.store.WatchEvent.Type.DELETED) safely(change.resource());
                }
            } catch (RuntimeException e) {
                if (closed) return;
                LOG.warn("registry registrations: cannot read resources: {}", e.toString());
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException stop) {
                    return;
                }
            }
        }
    }

    private void safely(Resource r) {
        try {
            process(r);
        } catch (RuntimeException e) {
            LOG.warn("registering the model of {} {}/{} failed: {}", r.kind(), r.metadata().namespace(), r.metadata().name(), e.toString());
        }
    }

    /** Registers what {@code r} asks for, if it is done and not registered yet; for the watch and for tests. */
    void process(Resource r) {
        switch (r.kind()) {
            case "PipelineRun" -> pipelineRun(r);
            case "Experiment" -> experiment(r);
            default -> {
                if (JOB_KINDS.contains(r.kind())) job(r);
            }
        }
    }

    private void pipelineRun(Resource run) {
        var tasks = run.status().field("tasks").orElse(null);
        if (tasks == null || !tasks.isObject()) return;
        var ns = run.metadata().namespace();
        for (var task : tasks.properties()) {
            var state = task.getValue().path("state").asText("");
            if (!state.equals("SUCCEEDED") && !state.equals("CACHED")) continue;
            // A DAG task that passes a step's outputs on is not the step: only the step registers.
            if (state.equals("SUCCEEDED") && task.getValue().path("workloadId").asText("").isEmpty()) continue;
            for (var output : task.getValue().path("outputs").path("artifacts").properties()) {
                for (var artifact : output.getValue()) {
                    var ask = artifact.path("metadata").path(REQUEST);
                    if (!ask.isObject()) continue;
                    var request = new Request(ask.path("modelName").asText(""), ask.path("versionName").asText(""), ask.path("modelFormatName").asText(""),
                            ask.path("alias").asText(""), ask.path("description").asText(""));
                    var uri = task.getValue().path("inputArtifacts").path("model").path(0).path("uri").asText(ask.path("sourceUri").asText(""));
                    var props = new LinkedHashMap<String, String>();
                    props.put("kfp_run", run.metadata().name());
                    props.put("kfp_task", task.getKey());
                    producerTask(tasks, uri).ifPresent(p -> props.put("kfp_producer_task", p));
                    var source = new Source("kfp", "pipelinerun", ns, run.metadata().name(), run.metadata().uid());
                    try {
                        register(ns, request, uri, source, "kfp:" + run.metadata().uid() + ":" + task.getKey(), props,
                                metadata == null ? List.of() : metadata.findContext("system.PipelineRun", run.metadata().uid()).stream().toList());
                    } catch (RegistryException e) {
                        LOG.warn("not registering the model of task {} of PipelineRun {}/{}: {}", task.getKey(), ns, run.metadata().name(), e.getMessage());
                    }
                }
            }
        }
    }

    /** The task whose output is stored at {@code uri}. */
    private static Optional<String> producerTask(JsonNode tasks, String uri) {
        for (var task : tasks.properties()) {
            for (var output : task.getValue().path("outputs").path("artifacts").properties()) {
                for (var a : output.getValue()) if (a.path("uri").asText().equals(uri)) return Optional.of(task.getKey());
            }
        }
        return Optional.empty();
    }

    private void job(Resource job) {
        var name = job.metadata().annotations().get(MODEL_ANNOTATION);
        if (name == null || !job.status().phase().equals("Succeeded")) return;
        var request = request(job, job.kind().equals("XGBoostJob") ? "xgboost" : "");
        var problem = checkAnnotations(request);
        if (problem.isPresent()) {
            report(job, false, "InvalidAnnotation", problem.get());
            return;
        }
        var uri = job.status().field("modelUri").map(JsonNode::asText).orElse("");
        var ns = job.metadata().namespace();
        if (uri.isEmpty()) {
            report(job, false, "NoModel", "the job asks to register model '" + name + "' but wrote no model (status.modelUri is empty); "
                    + "write its files to $CAPSTAN_MODEL_DIR");
            return;
        }
        var source = new Source("training", job.kind().toLowerCase(java.util.Locale.ROOT), ns, job.metadata().name(), job.metadata().uid());
        registerAndReport(job, request, uri, source, "training:" + job.metadata().uid(),
                Map.of("training_job", job.kind() + "/" + job.metadata().name()), trainingContexts(job));
    }

    /** Registers, and says on {@code owner}'s status that it did, or why it could not. */
    private void registerAndReport(Resource owner, Request request, String uri, Source source, String externalId, Map<String, String> properties,
                                   List<Context> contexts) {
        Entity version;
        try {
            version = register(owner.metadata().namespace(), request, uri, source, externalId, properties, contexts);
        } catch (RegistryException e) {
            report(owner, false, "RegistrationFailed", e.getMessage());
            throw e;
        }
        report(owner, true, "Registered", "version '" + version.name() + "' (id " + version.id() + ") of registered model '" + request.modelName()
                + "'" + (request.alias().isEmpty() ? "" : ", alias '" + request.alias() + "'"));
    }

    /**
     * The {@value #CONDITION} condition on a training job's or Experiment's status: the annotations' outcome, where the
     * user looks, not only in the server's log. Written only when it changes; a write that races the job's own
     * controller is retried by the next change or resync.
     */
    private void report(Resource owner, boolean registered, String reason, String message) {
        var current = owner.status().condition(CONDITION);
        if (current.isPresent() && current.get().reason().equals(reason) && current.get().message().equals(message)) return;
        if (!registered) LOG.warn("{} {}/{}: not registering its model: {}", owner.kind(), owner.metadata().namespace(), owner.metadata().name(), message);
        try {
            resources.updateStatus(owner, owner.status().withCondition(CONDITION, registered, reason, message, java.time.Instant.now()));
        } catch (io.capstan.core.ConflictException | io.capstan.core.NotFoundException e) {
            LOG.debug("{} {}/{} changed while its registration was reported; the next pass reports again", owner.kind(),
                    owner.metadata().namespace(), owner.metadata().name());
        }
    }

    private void experiment(Resource experiment) {
        if (!experiment.metadata().annotations().containsKey(MODEL_ANNOTATION) || !experiment.status().phase().equals("Succeeded")) return;
        var ns = experiment.metadata().namespace();
        var optimal = experiment.status().field("currentOptimalTrial").orElse(null);
        var trialName = optimal == null ? "" : optimal.path("bestTrialName").asText("");
        if (trialName.isEmpty()) return;
        Resource job = null;
        for (var kind : JOB_KINDS) {
            var found = resources.find(new ResourceKey(kind, ns, trialName));
            if (found.isPresent()) job = found.get();
        }
        var request = request(experiment, job != null && job.kind().equals("XGBoostJob") ? "xgboost" : "");
        var problem = checkAnnotations(request);
        if (problem.isPresent()) {
            report(experiment, false, "InvalidAnnotation", problem.get());
            return;
        }
        var uri = job == null ? "" : job.status().field("modelUri").map(JsonNode::asText).orElse("");
        if (uri.isEmpty()) {
            report(experiment, false, "NoModel", "the Experiment asks to register its best trial's model, but trial " + trialName
                    + " ran no training job that wrote a model (TrainJob, PyTorchJob or XGBoostJob with status.modelUri)");
            return;
        }
        var trialUid = resources.find(new ResourceKey("Trial", ns, trialName)).map(t -> t.metadata().uid()).orElse(job.metadata().uid());
        var props = new LinkedHashMap<String, String>();
        props.put("katib_experiment", experiment.metadata().name());
        props.put("katib_trial", trialName);
        props.put("training_job", job.kind() + "/" + job.metadata().name());
        for (var p : optimal.path("parameterAssignments")) props.put("hp_" + p.path("name").asText(), p.path("value").asText());
        for (var m : optimal.path("observation").path("metrics")) props.put("metric_" + m.path("name").asText(), m.path("latest").asText(m.path("value").asText("")));
        var source = new Source("katib", "trial", ns, trialName, trialUid);
        registerAndReport(experiment, request, uri, source, "katib:" + trialUid, props, trainingContexts(job));
    }

    private static Request request(Resource r, String defaultFormat) {
        var a = r.metadata().annotations();
        return new Request(a.get(MODEL_ANNOTATION), a.getOrDefault(VERSION_ANNOTATION, ""), a.getOrDefault(FORMAT_ANNOTATION, defaultFormat),
                a.getOrDefault(ALIAS_ANNOTATION, ""), "");
    }

    private List<Context> trainingContexts(Resource job) {
        if (metadata == null) return List.of();
        return metadata.findContext("capstan.TrainingJob", job.metadata().namespace() + "/" + job.metadata().name()).stream().toList();
    }

    /**
     * Registers the model at {@code uri} and returns its version; only returns the version when {@code externalId} is
     * registered already (and complete).
     *
     * @throws RegistryException when {@code request} names what the registry cannot take
     */
    Entity register(String ns, Request request, String modelUri, Source source, String externalId, Map<String, String> properties, List<Context> contexts) {
        var problem = check(request);
        if (problem.isPresent()) throw RegistryException.badRequest(problem.get());
        var uri = storageUri(modelUri);
        var existing = store.find(ns, List.of(Kind.MODEL_VERSION), null, externalId, null, null);
        if (existing.isPresent() && existing.get().body().path("customProperties").has(COMPLETE_PROPERTY)) return existing.get();
        var nodes = JsonNodeFactory.instance;
        var model = store.find(ns, List.of(Kind.REGISTERED_MODEL), request.modelName(), null, null, null).orElseGet(() -> {
            try {
                return store.create(ns, Kind.REGISTERED_MODEL, 0, nodes.objectNode().put("name", request.modelName()).put("state", "LIVE"));
            } catch (RegistryException e) {
                return store.find(ns, List.of(Kind.REGISTERED_MODEL), request.modelName(), null, null, null).orElseThrow(() -> e);
            }
        });
        Entity version;
        boolean created = false;
        if (existing.isPresent()) {
            version = existing.get();
        } else {
            var body = nodes.objectNode();
            body.put("registeredModelId", Long.toString(model.id())).put("state", "LIVE").put("externalId", externalId)
                    .put("author", source.kind() + " " + source.sourceClass() + " " + source.name());
            if (!request.description().isEmpty()) body.put("description", request.description());
            var custom = body.putObject("customProperties");
            properties.forEach((k, v) -> custom.putObject(k).put("metadataType", "MetadataStringValue").put("string_value", v));
            version = createVersion(ns, model, request.versionName(), body);
            created = true;
        }
        if (store.linked(ns, List.of(Kind.MODEL_ARTIFACT), version.id()).isEmpty()) {
            var artifact = nodes.objectNode().put("artifactType", Kind.MODEL_ARTIFACT.artifactType).put("name", model.name() + "-" + version.name())
                    .put("uri", uri).put("state", "LIVE").put("modelSourceKind", source.kind()).put("modelSourceClass", source.sourceClass())
                    .put("modelSourceGroup", source.group()).put("modelSourceName", source.name()).put("modelSourceId", source.id());
            if (!request.format().isEmpty()) artifact.put("modelFormatName", request.format());
            artifact.putObject("customProperties");
            var made = store.create(ns, Kind.MODEL_ARTIFACT, version.id(), artifact);
            store.link(version.id(), made.id());
        }
        if (created) {
            events.record(ns, "VERSION_CREATED", nodes.objectNode().put("registeredModelId", Long.toString(model.id()))
                    .put("modelVersionId", Long.toString(version.id())).put("versionName", version.name()));
        }
        if (!request.alias().isEmpty()) moveAlias(ns, model, request.alias(), version);
        if (metadata != null) recordLineage(ns, model, version, uri, modelUri, source, externalId, contexts);
        var done = version.body().deepCopy();
        var custom = done.get("customProperties") instanceof ObjectNode o ? o : done.putObject("customProperties");
        custom.putObject(COMPLETE_PROPERTY).put("metadataType", "MetadataStringValue").put("string_value", "complete");
        store.update(version, done);
        LOG.info("registered {} {} in namespace '{}' from {} {}", model.name(), version.name(), ns, source.sourceClass(), source.name());
        return version;
    }

    /**
     * The URI serving reads the model from: a local path as its {@code file://} URI, without the trailing slash a
     * folder's URI has (training records its model folder so), which serving refuses as an empty path element.
     */
    static String storageUri(String modelUri) {
        var uri = modelUri.startsWith("/") ? java.nio.file.Path.of(modelUri).toUri().toString() : modelUri;
        if (uri.startsWith("file:")) while (uri.endsWith("/") && !uri.endsWith(":///") && !uri.endsWith(":/")) uri = uri.substring(0, uri.length() - 1);
        return uri;
    }

    private Entity createVersion(String ns, Entity model, String versionName, ObjectNode body) {
        if (!versionName.isEmpty()) return store.create(ns, Kind.MODEL_VERSION, model.id(), body.put("name", versionName));
        int next = store.children(ns, List.of(Kind.MODEL_VERSION), model.id()).size() + 1;
        for (int attempt = 0; ; attempt++, next++) {
            try {
                return store.create(ns, Kind.MODEL_VERSION, model.id(), body.deepCopy().put("name", "v" + next));
            } catch (RegistryException e) {
                if (attempt >= 100) throw e;
            }
        }
    }

    private void moveAlias(String ns, Entity model, String alias, Entity version) {
        var previous = store.alias(model.id(), alias);
        if (previous.isPresent() && previous.get().versionId() == version.id()) return;
        store.setAlias(model.id(), alias, version.id());
        var event = JsonNodeFactory.instance.objectNode().put("registeredModelId", Long.toString(model.id())).put("alias", alias)
                .put("modelVersionId", Long.toString(version.id()));
        previous.ifPresent(p -> event.put("previousModelVersionId", Long.toString(p.versionId())));
        events.record(ns, "ALIAS_MOVED", event);
        if (deployer == null) return;
        for (var d : deployer.follow(ns, model, alias, version)) {
            var body = JsonNodeFactory.instance.objectNode().put("registeredModelId", d.registeredModelId()).put("modelVersionId", d.modelVersionId())
                    .put("inferenceService", d.name()).put("storageUri", d.storageUri()).put("alias", alias);
            events.record(ns, "VERSION_DEPLOYED", body);
        }
    }

    /** The registry URI ML Metadata knows a registered version by. */
    static String versionUri(String ns, String model, String version) {
        return ModelUris.SCHEME + model + "/" + version + "?namespace=" + ns;
    }

    private void recordLineage(String ns, Entity model, Entity version, String uri, String givenUri, Source source, String externalId, List<Context> contexts) {
        putType(ArtifactType.of("system.Model", Map.of()));
        putType(ExecutionType.of(EXECUTION_TYPE, Map.of()));
        var name = ns + "/" + externalId;
        if (metadata.findExecution(EXECUTION_TYPE, name).isPresent()) return;
        var made = Lineage.artifactsAt(metadata, List.of(givenUri, uri)).stream().filter(a -> a.type().equals("system.Model")).findFirst()
                .orElseGet(() -> Artifact.of("system.Model", uri).withState(ArtifactState.LIVE));
        var registryUri = versionUri(ns, model.name(), version.name());
        var registered = metadata.artifactsByUri(registryUri).stream().findFirst().orElseGet(() -> Artifact.of("system.Model", registryUri)
                .withName(model.name() + "/" + version.name()).withState(ArtifactState.LIVE)
                .withCustomProperty("namespace", PropertyValue.of(ns))
                .withCustomProperty("registered_model_id", PropertyValue.of(Long.toString(model.id())))
                .withCustomProperty("model_version_id", PropertyValue.of(Long.toString(version.id()))));
        var execution = Execution.of(EXECUTION_TYPE).withName(name).withState(ExecutionState.COMPLETE)
                .withCustomProperty("namespace", PropertyValue.of(ns))
                .withCustomProperty("model_source_kind", PropertyValue.of(source.kind()))
                .withCustomProperty("model_source_class", PropertyValue.of(source.sourceClass()))
                .withCustomProperty("model_source_name", PropertyValue.of(source.name()))
                .withCustomProperty("model_source_id", PropertyValue.of(source.id()));
        metadata.putExecution(execution, List.of(ArtifactAndEvent.input(made, "model"), ArtifactAndEvent.output(registered, "registered_version")),
                new ArrayList<>(contexts));
    }

    private void putType(MetadataType type) {
        try {
            metadata.putType(type);
        } catch (ConflictException e) {
            metadata.putType(type);
        }
    }

    /** {@link #check} in the words of the annotations that made {@code r}. */
    static Optional<String> checkAnnotations(Request r) {
        var problem = check(r);
        if (problem.isEmpty()) return problem;
        String field;
        if (problem.get().startsWith("model name")) field = MODEL_ANNOTATION;
        else if (problem.get().startsWith("version name")) field = VERSION_ANNOTATION;
        else field = ALIAS_ANNOTATION;
        return Optional.of("metadata.annotations[" + field + "]: " + problem.get());
    }

    static Optional<String> check(Request r) {
        if (r.modelName() == null || !RegistryNames.NAME.matcher(r.modelName()).matches()) {
            return Optional.of("model name '" + r.modelName() + "' is not 1 to 253 letters, digits, '.', '_' or '-' starting with a letter or digit");
        }
        if (!r.versionName().isEmpty() && !RegistryNames.NAME.matcher(r.versionName()).matches()) {
            return Optional.of("version name '" + r.versionName() + "' is not 1 to 253 letters, digits, '.', '_' or '-' starting with a letter or digit");
        }
        if (!r.alias().isEmpty() && !ModelUris.ALIAS.matcher(r.alias()).matches()) {
            return Optional.of("alias '" + r.alias() + "' must start with a lower-case letter and hold at most 63 lower-case letters, digits, '-' or '_'");
        }
        return Optional.empty();
    }

    @Override
    public void close() {
        closed = true;
        BackgroundThreads.stop(thread);
    }

    /** Names a registration may use. */
    static final class RegistryNames {
        static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,252}");

        private RegistryNames() {
        }
    }
}
