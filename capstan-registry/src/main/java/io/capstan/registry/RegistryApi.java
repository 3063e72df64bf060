package io.capstan.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.Json;
import io.capstan.core.Names;
import io.capstan.core.security.AccessDeniedException;
import io.capstan.core.security.AccessPolicy;
import io.capstan.core.security.Caller;
import io.capstan.core.security.Role;
import io.capstan.registry.FilterQuery.FilterException;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kubeflow Model Registry REST API v1alpha3, every operation of its OpenAPI spec, registered under
 * {@code /api/model_registry/v1alpha3}. Entities live in a namespace, named by the {@code namespace} query parameter
 * ({@code default} when absent); reading needs the view role there, writing the edit role.
 *
 * <p>Bodies are decoded as upstream's Go server decodes them: field names match case-insensitively, unknown fields
 * are refused (400), a missing required field answers 422. Errors are {@code {code, message}}.
 */
final class RegistryApi implements HttpService {
    static final String BASE = "/api/model_registry/v1alpha3";
    static final int DEFAULT_PAGE_SIZE = 20;
    private static final int MAX_BODY_BYTES = Json.MAX_DOCUMENT_BYTES;
    private static final Set<String> READ_ONLY = Set.of("id", "createTimeSinceEpoch", "lastUpdateTimeSinceEpoch");
    private static final Set<String> METADATA_TYPES = Set.of("MetadataIntValue", "MetadataDoubleValue", "MetadataStringValue",
            "MetadataStructValue", "MetadataProtoValue", "MetadataBoolValue");
    private static final Logger LOG = LoggerFactory.getLogger(RegistryApi.class);

    private final RegistryStore store;
    private final AccessPolicy policy;
    private final Clock clock;
    /** Null where no resource store was given: then nothing deploys. */
    private final Deployer deployer;
    /** Null where no artifact store was given: then uploads answer 501. */
    private final Uploads uploads;
    private final Events events;
    private final Lineage lineage;

    RegistryApi(RegistryStore store, AccessPolicy policy, Clock clock, Deployer deployer, Uploads uploads, Events events, Lineage lineage) {
        this.store = store;
        this.lineage = lineage;
        this.events = events;
        this.policy = policy;
        this.clock = clock;
        this.deployer = deployer;
        this.uploads = uploads;
    }

    @Override
    public void routing(HttpRules rules) {
        top(rules, "registered_models", "registered_model", Kind.REGISTERED_MODEL);
        top(rules, "serving_environments", "serving_environment", Kind.SERVING_ENVIRONMENT);
        top(rules, "experiments", "experiment", Kind.EXPERIMENT);
        top(rules, "model_versions", "model_version", Kind.MODEL_VERSION);
        top(rules, "inference_services", "inference_service", Kind.INFERENCE_SERVICE);
        // Before experiment_runs/{id}, which would take it otherwise.
        rules.get("/experiment_runs/metric_history", handle(Role.VIEW, (req, ns) -> metricHistory(req, ns, null)));
        top(rules, "experiment_runs", "experiment_run", Kind.EXPERIMENT_RUN);
        children(rules, "registered_models/{id}/versions", Kind.MODEL_VERSION);
        children(rules, "serving_environments/{id}/inference_services", Kind.INFERENCE_SERVICE);
        children(rules, "experiments/{id}/experiment_runs", Kind.EXPERIMENT_RUN);
        children(rules, "inference_services/{id}/serves", Kind.SERVE_MODEL);
        rules.get("/inference_services/{id}/model", handle(Role.VIEW, (req, ns) -> {
            var isvc = existing(ns, Kind.INFERENCE_SERVICE, pathId(req));
            return ok(existing(ns, Kind.REGISTERED_MODEL, Long.parseLong(isvc.text("registeredModelId"))).json());
        }));
        rules.get("/inference_services/{id}/version", handle(Role.VIEW, (req, ns) -> ok(servedVersion(ns, existing(ns, Kind.INFERENCE_SERVICE, pathId(req))).json())));
        // Capstan's extension: POST .../model_versions/{id}:deploy makes or updates the InferenceService serving it.
        rules.post("/model_versions/{id}", handle(Role.EDIT, this::deploy));
        // Capstan's extension: real deletes, refused while an inference service deploys what they would remove.
        rules.delete("/registered_models/{id}", handle(Role.EDIT, (req, ns) -> deleteModel(ns, existing(ns, Kind.REGISTERED_MODEL, pathId(req)), force(req))));
        rules.delete("/model_versions/{id}", handle(Role.EDIT, (req, ns) -> deleteVersion(ns, existing(ns, Kind.MODEL_VERSION, pathId(req)), force(req))));
        // Artifacts of every type.
        rules.get("/artifacts", handle(Role.VIEW, (req, ns) -> list(req, ns, artifactKinds(req), null, null, null)));
        rules.post("/artifacts", handle(Role.EDIT, (req, ns) -> {
            var raw = readJson(req);
            var kind = artifactKind(raw, null);
            return new Answer(201, store.create(ns, kind, 0, decode(raw, kind, true)).json());
        }));
        rules.get("/artifacts/{id}", handle(Role.VIEW, (req, ns) -> ok(existing(ns, Kind.ARTIFACTS, pathId(req), "artifact").json())));
        rules.patch("/artifacts/{id}", handle(Role.EDIT, (req, ns) -> ok(patch(req, ns, existing(ns, Kind.ARTIFACTS, pathId(req), "artifact")).json())));
        rules.get("/artifact", handle(Role.VIEW, (req, ns) -> find(req, ns, Kind.ARTIFACTS, true)));
        rules.get("/model_artifacts", handle(Role.VIEW, (req, ns) -> list(req, ns, List.of(Kind.MODEL_ARTIFACT), null, null, null)));
        rules.post("/model_artifacts", handle(Role.EDIT, (req, ns) -> {
            var raw = readJson(req);
            var kind = artifactKind(raw, Kind.MODEL_ARTIFACT);
            return new Answer(201, store.create(ns, kind, 0, decode(raw, kind, true)).json());
        }));
        rules.get("/model_artifacts/{id}", handle(Role.VIEW, (req, ns) -> ok(existing(ns, Kind.MODEL_ARTIFACT, pathId(req)).json())));
        rules.patch("/model_artifacts/{id}", handle(Role.EDIT, (req, ns) -> ok(patch(req, ns, existing(ns, Kind.MODEL_ARTIFACT, pathId(req))).json())));
        rules.get("/model_artifact", handle(Role.VIEW, (req, ns) -> find(req, ns, List.of(Kind.MODEL_ARTIFACT), true)));
        rules.get("/model_versions/{id}/artifacts", handle(Role.VIEW, (req, ns) -> {
            var version = existing(ns, Kind.MODEL_VERSION, pathId(req));
            return list(req, ns, artifactKinds(req), null, version.id(), null);
        }));
        rules.post("/model_versions/{id}/artifacts", handle(Role.EDIT, (req, ns) -> upsertArtifact(req, ns, existing(ns, Kind.MODEL_VERSION, pathId(req)))));
        rules.get("/experiment_runs/{id}/artifacts", handle(Role.VIEW, (req, ns) -> {
            var run = existing(ns, Kind.EXPERIMENT_RUN, pathId(req));
            return list(req, ns, artifactKinds(req), null, run.id(), null);
        }));
        rules.post("/experiment_runs/{id}/artifacts", handle(Role.EDIT, (req, ns) -> upsertArtifact(req, ns, existing(ns, Kind.EXPERIMENT_RUN, pathId(req)))));
        rules.get("/experiment_runs/{id}/metric_history", handle(Role.VIEW, (req, ns) -> metricHistory(req, ns, existing(ns, Kind.EXPERIMENT_RUN, pathId(req)))));
    }

    /**
     * Capstan's extension, under {@code /apis/capstan/v1/registry}: aliases on a model's versions, and what a
     * {@code model-registry://} URI resolves to.
     */
    void extensionRouting(HttpRules rules) {
        rules.get("/registered_models/{id}/aliases", handle(Role.VIEW, (req, ns) -> {
            var model = existing(ns, Kind.REGISTERED_MODEL, pathId(req));
            var out = JsonNodeFactory.instance.objectNode();
            var items = out.putArray("items");
            store.aliases(model.id()).forEach(a -> items.add(aliasJson(a)));
            return ok(out);
        }));
        rules.get("/registered_models/{id}/aliases/{alias}", handle(Role.VIEW, (req, ns) -> {
            var model = existing(ns, Kind.REGISTERED_MODEL, pathId(req));
            var alias = aliasName(req);
            var a = store.alias(model.id(), alias).orElseThrow(() -> RegistryException.notFound("registered model '" + model.name() + "' has no alias '" + alias + "'"));
            return ok(existing(ns, Kind.MODEL_VERSION, a.versionId()).json());
        }));
        rules.put("/registered_models/{id}/aliases/{alias}", handle(Role.EDIT, (req, ns) -> {
            var model = existing(ns, Kind.REGISTERED_MODEL, pathId(req));
            var alias = aliasName(req);
            var raw = readJson(req);
            for (var key : keys(raw)) {
                if (!key.equalsIgnoreCase("modelVersionId")) throw RegistryException.badRequest("json: unknown field \"" + key + "\"; an alias takes modelVersionId");
            }
            var id = field(raw, "modelVersionId");
            if (id == null || !id.isTextual()) throw RegistryException.badRequest("modelVersionId: required, the id of one of the model's versions, as a string");
            var version = store.get(ns, parseId(id.asText(), "modelVersionId"), List.of(Kind.MODEL_VERSION))
                    .orElseThrow(() -> RegistryException.notFound("no model version with id " + id.asText()));
            if (version.parentId() != model.id()) {
                throw RegistryException.badRequest("model version " + version.id() + " belongs to registered model " + version.parentId() + ", not " + model.id());
            }
            // A service following the alias must keep its signature, checked before the alias moves.
            if (deployer != null) deployer.followers(ns, model.id(), alias).forEach(name -> deployer.checkSignature(ns, version, name, false));
            var previous = store.alias(model.id(), alias);
            var out = aliasJson(store.setAlias(model.id(), alias, version.id()));
            var event = JsonNodeFactory.instance.objectNode().put("registeredModelId", Long.toString(model.id())).put("alias", alias)
                    .put("modelVersionId", Long.toString(version.id()));
            previous.ifPresent(p -> event.put("previousModelVersionId", Long.toString(p.versionId())));
            events.record(ns, "ALIAS_MOVED", event);
            // Every InferenceService following the alias now serves the version it names.
            var moved = out.putArray("redeployed");
            if (deployer != null) {
                for (var d : deployer.follow(ns, model, alias, version)) {
                    moved.add(d.name());
                    deployed(ns, d);
                }
            }
            return ok(out);
        }));
        rules.delete("/registered_models/{id}/aliases/{alias}", handle(Role.EDIT, (req, ns) -> {
            var model = existing(ns, Kind.REGISTERED_MODEL, pathId(req));
            var alias = aliasName(req);
            if (!store.deleteAlias(model.id(), alias)) throw RegistryException.notFound("registered model '" + model.name() + "' has no alias '" + alias + "'");
            return new Answer(204, null);
        }));
        rules.post("/upload", handle(Role.EDIT, this::upload));
        rules.get("/events", handle(Role.VIEW, this::events));
        rules.get("/webhooks", handle(Role.VIEW, (req, ns) -> {
            var out = JsonNodeFactory.instance.objectNode();
            var items = out.putArray("items");
            events.webhooks(ns).forEach(w -> items.add(w.json()));
            return ok(out);
        }));
        rules.post("/webhooks", handle(Role.EDIT, this::addWebhook));
        rules.delete("/webhooks/{id}", handle(Role.EDIT, (req, ns) -> {
            if (!events.deleteWebhook(ns, pathId(req))) throw RegistryException.notFound("no webhook with id " + pathId(req));
            return new Answer(204, null);
        }));
        rules.get("/model_versions/{id}/lineage", handle(Role.VIEW, (req, ns) -> ok(lineage.of(ns, existing(ns, Kind.MODEL_VERSION, pathId(req))))));
        rules.get("/model_versions/{id}/signature", handle(Role.VIEW, (req, ns) -> {
            var version = existing(ns, Kind.MODEL_VERSION, pathId(req));
            var signature = Signatures.of(version);
            if (signature == null) throw RegistryException.notFound("model version '" + version.name() + "' records no signature; upload an ONNX model to record one");
            return ok(signature);
        }));
        rules.get("/resolve", handle(Role.VIEW, (req, ns) -> {
            var uri = query(req, "uri");
            if (uri == null) throw RegistryException.badRequest("uri: required, such as model-registry://iris@champion");
            // A URI naming another namespace needs view there too, asked before anything is looked up there.
            var target = ModelUris.namespace(uri, ns);
            Names.checkLabel(target).ifPresent(problem -> {
                throw RegistryException.badRequest("uri: namespace '" + target + "' " + problem);
            });
            policy.require(req.context().get(Caller.class).orElseThrow(), target, Role.VIEW);
            return ok(Json.json().valueToTree(ModelUris.resolve(store, uri, ns)));
        }));
    }

    private static String aliasName(ServerRequest req) {
        var alias = req.path().pathParameters().get("alias");
        if (!ModelUris.ALIAS.matcher(alias).matches()) {
            throw RegistryException.badRequest("alias: '" + alias + "' must start with a lower-case letter and hold at most 63 lower-case letters, digits, '-' or '_'");
        }
        return alias;
    }

    private static ObjectNode aliasJson(RegistryStore.Alias a) {
        var out = JsonNodeFactory.instance.objectNode();
        out.put("alias", a.alias());
        out.put("registeredModelId", Long.toString(a.modelId()));
        out.put("modelVersionId", Long.toString(a.versionId()));
        out.put("lastUpdateTimeSinceEpoch", Long.toString(a.updateTime()));
        return out;
    }

    private static List<String> keys(ObjectNode node) {
        var out = new ArrayList<String>();
        node.fieldNames().forEachRemaining(out::add);
        return out;
    }

    /** A collection at the top level: list, create, get, patch, and its find endpoint. */
    private void top(HttpRules rules, String plural, String singular, Kind kind) {
        rules.get("/" + plural, handle(Role.VIEW, (req, ns) -> list(req, ns, List.of(kind), null, null, null)));
        // The spec declares 200, not 201, for a created inference service.
        int created = kind == Kind.INFERENCE_SERVICE ? 200 : 201;
        rules.post("/" + plural, handle(Role.EDIT, (req, ns) -> new Answer(created, create(ns, kind, readJson(req), null).json())));
        rules.get("/" + plural + "/{id}", handle(Role.VIEW, (req, ns) -> ok(existing(ns, kind, pathId(req)).json())));
        rules.patch("/" + plural + "/{id}", handle(Role.EDIT, (req, ns) -> ok(patch(req, ns, existing(ns, kind, pathId(req))).json())));
        rules.get("/" + singular, handle(Role.VIEW, (req, ns) -> find(req, ns, List.of(kind), kind.parentKind != null)));
    }

    /** A collection under a parent: list (with name and externalId) and create. */
    private void children(HttpRules rules, String path, Kind kind) {
        rules.get("/" + path, handle(Role.VIEW, (req, ns) -> {
            var parent = existing(ns, kind.parentKind, pathId(req));
            return list(req, ns, List.of(kind), parent.id(), null, null);
        }));
        rules.post("/" + path, handle(Role.EDIT, (req, ns) -> {
            var parent = existing(ns, kind.parentKind, pathId(req));
            return new Answer(201, create(ns, kind, readJson(req), parent).json());
        }));
    }

    // ---- operations

    private Entity create(String ns, Kind kind, ObjectNode raw, Entity pathParent) {
        var body = decode(raw, kind, true);
        if (pathParent != null && kind.parentField != null && kind != Kind.SERVE_MODEL) {
            var given = body.get(kind.parentField);
            if (given != null && !given.asText().equals(Long.toString(pathParent.id()))) {
                throw RegistryException.badRequest(kind.parentField + " '" + given.asText() + "' differs from the " + kind.parentKind.noun
                        + " id " + pathParent.id() + " in the path");
            }
            body.put(kind.parentField, Long.toString(pathParent.id()));
        }
        for (var field : kind.required) {
            var v = body.get(field);
            if (v == null || v.asText().isEmpty()) throw RegistryException.unprocessable("required field '" + field + "' is zero value.");
        }
        long parentId = 0;
        if (kind == Kind.SERVE_MODEL) {
            parentId = pathParent.id();
            existingRef(ns, Kind.MODEL_VERSION, body, "modelVersionId");
        } else if (kind.parentField != null) {
            parentId = existingRef(ns, kind.parentKind, body, kind.parentField).id();
        }
        if (kind == Kind.INFERENCE_SERVICE) {
            var model = existingRef(ns, Kind.REGISTERED_MODEL, body, "registeredModelId");
            if (body.hasNonNull("modelVersionId")) checkVersionOf(ns, model, body.get("modelVersionId").asText());
        }
        if (kind == Kind.EXPERIMENT_RUN && !body.hasNonNull("startTimeSinceEpoch")) body.put("startTimeSinceEpoch", Long.toString(clock.millis()));
        kind.defaults.forEach((field, value) -> {
            if (!body.hasNonNull(field)) body.put(field, value);
        });
        var created = store.create(ns, kind, parentId, body);
        if (kind == Kind.MODEL_VERSION) versionCreated(ns, created);
        return created;
    }

    private void versionCreated(String ns, Entity version) {
        events.record(ns, "VERSION_CREATED", JsonNodeFactory.instance.objectNode().put("registeredModelId", Long.toString(version.parentId()))
                .put("modelVersionId", Long.toString(version.id())).put("versionName", version.name()));
    }

    private void deployed(String ns, Deployer.Deployment d) {
        var body = JsonNodeFactory.instance.objectNode().put("registeredModelId", d.registeredModelId()).put("modelVersionId", d.modelVersionId())
                .put("inferenceService", d.name()).put("storageUri", d.storageUri());
        if (d.alias() != null) body.put("alias", d.alias());
        events.record(ns, "VERSION_DEPLOYED", body);
    }

    private Entity patch(ServerRequest req, String ns, Entity entity) {
        var raw = readJson(req);
        var kind = entity.kind() == Kind.METRIC_HISTORY ? Kind.METRIC : entity.kind();
        if (kind.isArtifact()) {
            var type = field(raw, "artifactType");
            if (type != null && !type.isNull() && !type.asText().equals(kind.artifactType)) {
                throw RegistryException.badRequest("artifactType '" + type.asText() + "' differs from the artifact's type '" + kind.artifactType
                        + "'; an artifact's type never changes");
            }
        }
        var changes = decode(raw, kind, false);
        var body = entity.body().deepCopy();
        changes.properties().forEach(e -> body.set(e.getKey(), e.getValue()));
        if (kind == Kind.INFERENCE_SERVICE && changes.hasNonNull("modelVersionId")) {
            checkVersionOf(ns, existing(ns, Kind.REGISTERED_MODEL, Long.parseLong(entity.text("registeredModelId"))), changes.get("modelVersionId").asText());
        }
        var updated = store.update(entity, body);
        if (kind == Kind.MODEL_VERSION && "ARCHIVED".equals(updated.text("state")) && !"ARCHIVED".equals(entity.text("state"))) {
            events.record(ns, "VERSION_ARCHIVED", JsonNodeFactory.instance.objectNode().put("registeredModelId", Long.toString(entity.parentId()))
                    .put("modelVersionId", Long.toString(entity.id())).put("versionName", entity.name()));
        }
        return updated;
    }

    private Answer upsertArtifact(ServerRequest req, String ns, Entity owner) {
        var raw = readJson(req);
        var kind = artifactKind(raw, null);
        var idNode = field(raw, "id");
        Entity existing = null;
        if (idNode != null && !idNode.isNull()) {
            existing = store.get(ns, parseId(idNode.asText(), "id"), Kind.ARTIFACTS)
                    .orElseThrow(() -> RegistryException.notFound("no artifact with id " + idNode.asText()));
            if (existing.kind() != kind) {
                throw RegistryException.badRequest("artifactType '" + kind.artifactType + "' differs from artifact " + existing.id() + "'s type '"
                        + existing.kind().artifactType + "'");
            }
        } else {
            var name = field(raw, "name");
            if (name != null && !name.isNull()) existing = store.find(ns, List.of(kind), name.asText(), null, null, owner.id()).orElse(null);
        }
        var body = decode(raw, kind, true);
        if (owner.kind() == Kind.EXPERIMENT_RUN) {
            body.put("experimentId", owner.text("experimentId"));
            body.put("experimentRunId", Long.toString(owner.id()));
        }
        Entity saved;
        int status;
        if (existing == null) {
            saved = store.create(ns, kind, owner.id(), body);
            status = 201;
        } else {
            body.remove("name");
            var merged = existing.body().deepCopy();
            body.properties().forEach(e -> merged.set(e.getKey(), e.getValue()));
            saved = store.update(existing, merged);
            status = 200;
        }
        store.link(owner.id(), saved.id());
        if (owner.kind() == Kind.EXPERIMENT_RUN && kind == Kind.METRIC) {
            var entry = saved.body().deepCopy();
            entry.remove("artifactType");
            if (!entry.hasNonNull("timestamp")) entry.put("timestamp", Long.toString(clock.millis()));
            store.create(ns, Kind.METRIC_HISTORY, owner.id(), entry);
        }
        return new Answer(status, saved.json());
    }

    private Answer deploy(ServerRequest req, String ns) {
        var target = req.path().pathParameters().get("id");
        if (!target.endsWith(":deploy")) throw RegistryException.notFound("no operation '" + target + "'; POST .../model_versions/{id}:deploy deploys a version");
        var version = existing(ns, Kind.MODEL_VERSION, parseId(target.substring(0, target.length() - ":deploy".length()), "id"));
        if (deployer == null) throw new RegistryException(501, "this registry has no resource store to deploy into");
        var model = existing(ns, Kind.REGISTERED_MODEL, version.parentId());
        var raw = req.content().hasEntity() ? readJson(req) : JsonNodeFactory.instance.objectNode();
        for (var key : keys(raw)) {
            if (!key.equalsIgnoreCase("name") && !key.equalsIgnoreCase("alias") && !key.equalsIgnoreCase("allowSignatureChange")) {
                throw RegistryException.badRequest("json: unknown field \"" + key + "\"; a deploy takes name, alias and allowSignatureChange");
            }
        }
        var nameNode = field(raw, "name");
        var name = nameNode == null || nameNode.isNull() ? model.name() : nameNode.asText();
        Names.checkLabel(name).ifPresent(problem -> {
            throw RegistryException.badRequest("name: the InferenceService name '" + name + "' " + problem
                    + (nameNode == null ? "; the model's name is used unless the body gives {\"name\": ...}" : ""));
        });
        var aliasNode = field(raw, "alias");
        String alias = null;
        if (aliasNode != null && !aliasNode.isNull()) {
            alias = aliasNode.asText();
            var a = store.alias(model.id(), alias).orElseThrow(() -> RegistryException.notFound("registered model '" + model.name() + "' has no alias '"
                    + aliasNode.asText() + "'"));
            if (a.versionId() != version.id()) {
                throw RegistryException.conflict("alias '" + a.alias() + "' points at version " + a.versionId() + ", not " + version.id());
            }
        }
        var allow = field(raw, "allowSignatureChange");
        if (allow != null && !allow.isNull() && !allow.isBoolean()) throw typeError("allowSignatureChange", "true or false", allow);
        deployer.checkSignature(ns, version, name, allow != null && allow.asBoolean());
        var d = deployer.deploy(ns, version, name, alias);
        deployed(ns, d);
        ObjectNode out = Json.json().valueToTree(d);
        var signature = Signatures.of(version);
        if (signature != null) out.set("signature", signature);
        return ok(out);
    }

    private Answer events(ServerRequest req, String ns) {
        var after = query(req, "after");
        long from = after == null ? 0 : parseId(after, "after");
        var limitText = query(req, "limit");
        int limit = 100;
        if (limitText != null) {
            if (!limitText.matches("[1-9][0-9]{0,3}") || Integer.parseInt(limitText) > 1000) throw RegistryException.badRequest("limit: '" + limitText + "' is not 1 to 1000");
            limit = Integer.parseInt(limitText);
        }
        var watch = query(req, "watch");
        int seconds = 0;
        if (watch != null) {
            if (!watch.matches("[0-9]{1,2}") || Integer.parseInt(watch) > 60) throw RegistryException.badRequest("watch: '" + watch + "' is not 0 to 60 seconds");
            seconds = Integer.parseInt(watch);
        }
        List<Events.Event> found;
        try {
            found = events.after(ns, from, limit, java.time.Duration.ofSeconds(seconds));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new io.capstan.core.TransientException("interrupted while waiting for events");
        }
        var out = JsonNodeFactory.instance.objectNode();
        var items = out.putArray("items");
        found.forEach(e -> items.add(e.json()));
        out.put("lastEventId", Long.toString(found.isEmpty() ? from : found.getLast().id()));
        return ok(out);
    }

    private Answer addWebhook(ServerRequest req, String ns) {
        var raw = readJson(req);
        for (var key : keys(raw)) {
            if (!Set.of("url", "secret", "events").contains(key)) throw RegistryException.badRequest("json: unknown field \"" + key + "\"; a webhook takes url, secret and events");
        }
        var url = raw.get("url");
        if (url == null || !url.isTextual()) throw RegistryException.badRequest("url: required, the http(s) URL events are POSTed to");
        java.net.URI uri;
        try {
            uri = new java.net.URI(url.asText());
        } catch (java.net.URISyntaxException e) {
            throw RegistryException.badRequest("url: '" + url.asText() + "' is not a URL: " + e.getReason());
        }
        if (uri.getScheme() == null || !List.of("http", "https").contains(uri.getScheme().toLowerCase(java.util.Locale.ROOT)) || uri.getHost() == null
                || url.asText().length() > 2048) {
            throw RegistryException.badRequest("url: '" + url.asText() + "' is not an absolute http:// or https:// URL of at most 2048 characters");
        }
        var secret = raw.get("secret");
        if (secret == null || !secret.isTextual() || secret.asText().length() < 16 || secret.asText().length() > 256) {
            throw RegistryException.badRequest("secret: required, 16 to 256 characters; each delivery carries " + Events.SIGNATURE_HEADER
                    + ": sha256=HMAC-SHA256(secret, body) in hex");
        }
        var types = new java.util.TreeSet<String>();
        var given = raw.get("events");
        if (given == null || given.isNull()) {
            types.addAll(Events.TYPES);
        } else {
            if (!given.isArray() || given.isEmpty()) throw RegistryException.badRequest("events: must be a non-empty array of " + String.join(", ", new java.util.TreeSet<>(Events.TYPES)));
            for (var t : given) {
                if (!t.isTextual() || !Events.TYPES.contains(t.asText())) {
                    throw RegistryException.badRequest("events: " + describe(t) + " is not one of " + String.join(", ", new java.util.TreeSet<>(Events.TYPES)));
                }
                types.add(t.asText());
            }
        }
        return new Answer(201, events.addWebhook(ns, uri.toString(), secret.asText(), types).json());
    }

    private Answer upload(ServerRequest req, String ns) {
        if (uploads == null) throw new RegistryException(501, "this registry has no artifact store to upload into");
        var declared = req.headers().contentLength();
        if (declared.isPresent() && declared.getAsLong() > uploads.maxBytes()) {
            throw new RegistryException(413, "the upload of " + declared.getAsLong() + " bytes exceeds the limit of " + uploads.maxBytes() + " bytes");
        }
        var contentType = req.headers().first(HeaderNames.CONTENT_TYPE).orElse(null);
        Multipart.boundary(contentType);
        java.nio.file.Path work = null;
        try {
            work = java.nio.file.Files.createTempDirectory("capstan-upload");
            var body = work.resolve("body");
            try (var in = req.content().inputStream()) {
                uploads.spool(in, body);
            }
            var registered = uploads.register(ns, body, contentType, work);
            var v = registered.path("modelVersion");
            events.record(ns, "VERSION_CREATED", JsonNodeFactory.instance.objectNode().put("registeredModelId", v.path("registeredModelId").asText())
                    .put("modelVersionId", v.path("id").asText()).put("versionName", v.path("name").asText()));
            return new Answer(201, registered);
        } catch (IOException e) {
            throw new io.capstan.core.TransientException("cannot store the upload: " + e.getMessage(), e);
        } finally {
            if (work != null) deleteTree(work);
        }
    }

    private static void deleteTree(java.nio.file.Path dir) {
        try (var paths = java.nio.file.Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            LOG.warn("cannot remove upload scratch directory {}: {}", dir, e.getMessage());
        }
    }

    private Answer deleteModel(String ns, Entity model, boolean force) {
        var services = store.referencing(ns, List.of(Kind.INFERENCE_SERVICE), "registeredModelId", model.id());
        var deployed = services.stream().filter(s -> "DEPLOYED".equals(s.text("desiredState"))).toList();
        if (!force && !deployed.isEmpty()) throw deployedConflict("registered model '" + model.name() + "'", deployed);
        var ids = new ArrayList<Long>();
        for (var s : services) {
            store.children(ns, List.of(Kind.SERVE_MODEL), s.id()).forEach(sm -> ids.add(sm.id()));
            ids.add(s.id());
        }
        store.children(ns, List.of(Kind.MODEL_VERSION), model.id()).forEach(v -> ids.add(v.id()));
        ids.add(model.id());
        store.deleteWithArtifacts(ids);
        return new Answer(204, null);
    }

    private Answer deleteVersion(String ns, Entity version, boolean force) {
        var latest = store.list(ns, new RegistryStore.ListQuery(List.of(Kind.MODEL_VERSION), version.parentId(), null, null, Set.of(), "ID", "DESC", 1,
                null, null, List.of())).items().getFirst();
        // A service names its version, or serves its model's latest one.
        var deployed = store.referencing(ns, List.of(Kind.INFERENCE_SERVICE), "registeredModelId", version.parentId()).stream()
                .filter(s -> "DEPLOYED".equals(s.text("desiredState")))
                .filter(s -> Long.toString(version.id()).equals(s.text("modelVersionId")) || (s.text("modelVersionId") == null && latest.id() == version.id()))
                .toList();
        if (!force && !deployed.isEmpty()) throw deployedConflict("model version '" + version.name() + "'", deployed);
        var ids = new ArrayList<Long>();
        store.referencing(ns, List.of(Kind.SERVE_MODEL), "modelVersionId", version.id()).forEach(sm -> ids.add(sm.id()));
        ids.add(version.id());
        store.deleteWithArtifacts(ids);
        return new Answer(204, null);
    }

    private static RegistryException deployedConflict(String what, List<Entity> services) {
        return RegistryException.conflict(what + " is deployed by inference service " + String.join(", ",
                services.stream().map(s -> "'" + s.name() + "' (id " + s.id() + ")").toList())
                + "; set its desiredState to UNDEPLOYED first, or delete with ?force=true");
    }

    private static boolean force(ServerRequest req) {
        var force = query(req, "force");
        if (force == null || force.equals("false")) return false;
        if (force.equals("true") || force.isEmpty()) return true;
        throw RegistryException.badRequest("force: '" + force + "' is not true or false");
    }

    private Answer metricHistory(ServerRequest req, String ns, Entity run) {
        var params = new ArrayList<Object>();
        var conditions = new ArrayList<String>();
        var name = query(req, "name");
        if (name != null) {
            conditions.add("e.name = ?");
            params.add(name);
        }
        var stepIds = query(req, "stepIds");
        if (stepIds != null) {
            if (!stepIds.matches("[0-9]{1,9}(,[0-9]{1,9})*")) throw RegistryException.badRequest("stepIds: must be a comma-separated list of step numbers, such as 1,2,3");
            var steps = stepIds.split(",");
            conditions.add("EXISTS (SELECT 1 FROM registry_property s WHERE s.entity_id = e.id AND s.is_custom = FALSE AND s.name = 'step' AND s.int_value IN ("
                    + String.join(", ", java.util.Collections.nCopies(steps.length, "?")) + "))");
            for (var s : steps) params.add(Long.parseLong(s));
        }
        return list(req, ns, List.of(Kind.METRIC_HISTORY), run == null ? null : run.id(), null,
                conditions.isEmpty() ? null : new Condition(String.join(" AND ", conditions), params));
    }

    private record Condition(String sql, List<Object> params) {
    }

    private Answer list(ServerRequest req, String ns, List<Kind> kinds, Long parentId, Long ownerId, Condition extra) {
        var conditions = new ArrayList<String>();
        var params = new ArrayList<Object>();
        if (extra != null) {
            conditions.add(extra.sql());
            params.addAll(extra.params());
        }
        // Lists under a parent may be narrowed by name and externalId.
        if (parentId != null || ownerId != null) {
            for (var p : List.of("name", "externalId")) {
                var v = query(req, p);
                if (v != null && !(extra != null && p.equals("name"))) {
                    conditions.add(p.equals("name") ? "e.name = ?" : "e.external_id = ?");
                    params.add(v);
                }
            }
        }
        FilterQuery.Expr filter;
        try {
            filter = FilterQuery.parse(query(req, "filterQuery"));
        } catch (FilterException e) {
            throw RegistryException.badRequest(e.getMessage());
        }
        var wellKnown = new HashSet<String>();
        kinds.forEach(k -> wellKnown.addAll(k.wellKnown));
        var orderBy = Optional.ofNullable(query(req, "orderBy")).orElse("ID");
        if (!List.of("ID", "CREATE_TIME", "LAST_UPDATE_TIME").contains(orderBy)) {
            throw RegistryException.badRequest("orderBy: '" + orderBy + "' is not one of ID, CREATE_TIME, LAST_UPDATE_TIME");
        }
        var sortOrder = Optional.ofNullable(query(req, "sortOrder")).orElse("ASC");
        if (!List.of("ASC", "DESC").contains(sortOrder)) throw RegistryException.badRequest("sortOrder: '" + sortOrder + "' is not ASC or DESC");
        int pageSize = DEFAULT_PAGE_SIZE;
        var size = query(req, "pageSize");
        if (size != null) {
            if (!size.matches("[1-9][0-9]{0,8}")) throw RegistryException.badRequest("pageSize: '" + size + "' is not a positive whole number");
            pageSize = Integer.parseInt(size);
        }
        RegistryStore.Page page;
        try {
            page = store.list(ns, new RegistryStore.ListQuery(kinds, parentId, ownerId, filter, wellKnown, orderBy, sortOrder, pageSize,
                    query(req, "nextPageToken"), conditions.isEmpty() ? null : String.join(" AND ", conditions), params));
        } catch (FilterException e) {
            throw RegistryException.badRequest(e.getMessage());
        }
        var out = JsonNodeFactory.instance.objectNode();
        var items = out.putArray("items");
        page.items().forEach(e -> items.add(e.json()));
        out.put("size", page.items().size());
        out.put("pageSize", page.pageSize());
        out.put("nextPageToken", page.nextPageToken());
        return ok(out);
    }

    private Answer find(ServerRequest req, String ns, List<Kind> kinds, boolean hasParent) {
        var name = query(req, "name");
        var externalId = query(req, "externalId");
        var parent = hasParent ? query(req, "parentResourceId") : null;
        if (name == null && externalId == null) throw RegistryException.badRequest("give name or externalId to find a " + kinds.getFirst().noun);
        if (hasParent && name != null && externalId == null && parent == null) {
            throw RegistryException.badRequest("parentResourceId is needed to find a " + kinds.getFirst().noun + " by name");
        }
        Long parentId = parent == null ? null : parseId(parent, "parentResourceId");
        boolean linked = kinds.getFirst().isArtifact();
        var found = store.find(ns, kinds, name, externalId, linked ? null : parentId, linked ? parentId : null);
        var what = kinds.size() > 1 ? "artifact" : kinds.getFirst().noun;
        return ok(found.orElseThrow(() -> RegistryException.notFound("no " + what + " found for "
                + (name != null ? "name '" + name + "'" : "") + (name != null && externalId != null ? " and " : "")
                + (externalId != null ? "externalId '" + externalId + "'" : "") + (parentId != null ? " under " + parentId : ""))).json());
    }

    /** The version an inference service serves: its modelVersionId, else its model's latest version. */
    private Entity servedVersion(String ns, Entity isvc) {
        var id = isvc.text("modelVersionId");
        if (id != null) return existing(ns, Kind.MODEL_VERSION, Long.parseLong(id));
        var page = store.list(ns, new RegistryStore.ListQuery(List.of(Kind.MODEL_VERSION), Long.parseLong(isvc.text("registeredModelId")), null, null,
                Set.of(), "ID", "DESC", 1, null, null, List.of()));
        if (page.items().isEmpty()) throw RegistryException.notFound("inference service " + isvc.id() + "'s model has no version");
        return page.items().getFirst();
    }

    private void checkVersionOf(String ns, Entity model, String versionId) {
        var version = store.get(ns, parseId(versionId, "modelVersionId"), List.of(Kind.MODEL_VERSION))
                .orElseThrow(() -> RegistryException.notFound("no model version with id " + versionId));
        if (version.parentId() != model.id()) {
            throw RegistryException.badRequest("model version " + versionId + " belongs to registered model " + version.parentId() + ", not " + model.id());
        }
    }

    private Entity existingRef(String ns, Kind kind, ObjectNode body, String field) {
        var id = body.get(field).asText();
        return store.get(ns, parseId(id, field), List.of(kind))
                .orElseThrow(() -> RegistryException.unprocessable(field + ": no " + kind.noun + " with id " + id));
    }

    private Entity existing(String ns, Kind kind, long id) {
        return existing(ns, List.of(kind), id, kind.noun);
    }

    private Entity existing(String ns, List<Kind> kinds, long id, String noun) {
        return store.get(ns, id, kinds).orElseThrow(() -> RegistryException.notFound("no " + noun + " with id " + id));
    }

    private static List<Kind> artifactKinds(ServerRequest req) {
        var type = query(req, "artifactType");
        if (type == null) return Kind.ARTIFACTS;
        return List.of(Kind.ofArtifactType(type).orElseThrow(() -> RegistryException.badRequest(
                "artifactType: '" + type + "' is not one of model-artifact, doc-artifact, dataset-artifact, metric, parameter")));
    }

    /** The artifact kind a body's artifactType names; {@code fallback} where it names none (null: required). */
    private static Kind artifactKind(ObjectNode raw, Kind fallback) {
        var type = field(raw, "artifactType");
        if (type == null || type.isNull()) {
            if (fallback != null) return fallback;
            throw RegistryException.badRequest("artifactType: required; one of model-artifact, doc-artifact, dataset-artifact, metric, parameter");
        }
        var kind = Kind.ofArtifactType(type.asText()).orElseThrow(() -> RegistryException.badRequest("artifactType: '" + type.asText()
                + "' is not one of model-artifact, doc-artifact, dataset-artifact, metric, parameter"));
        if (fallback != null && kind != fallback) throw RegistryException.badRequest("artifactType: must be '" + fallback.artifactType + "' here");
        return kind;
    }

    // ---- decoding, as Go's encoding/json with DisallowUnknownFields

    /** {@code raw}'s value for {@code name}, matched as Go matches keys: exactly, else ignoring case. */
    private static JsonNode field(ObjectNode raw, String name) {
        var exact = raw.get(name);
        if (exact != null) return exact;
        for (var e : raw.properties()) {
            if (e.getKey().equalsIgnoreCase(name)) return e.getValue();
        }
        return null;
    }

    /** The fields of {@code raw} that {@code kind}'s create or update schema has, checked and under their own names. */
    static ObjectNode decode(ObjectNode raw, Kind kind, boolean create) {
        var fields = create ? kind.createFields() : kind.updateFields();
        var out = JsonNodeFactory.instance.objectNode();
        for (var e : raw.properties()) {
            var key = e.getKey();
            var value = e.getValue();
            var canonical = canonical(key, fields.keySet());
            if (canonical == null && key.equalsIgnoreCase("customProperties")) canonical = "customProperties";
            if (canonical == null) {
                if (READ_ONLY.stream().anyMatch(key::equalsIgnoreCase)
                        || (kind.isArtifact() && (key.equalsIgnoreCase("experimentId") || key.equalsIgnoreCase("experimentRunId")))) continue;
                if (!create && (key.equalsIgnoreCase("name") || key.equalsIgnoreCase(kind.parentField == null ? "" : kind.parentField)
                        || key.equalsIgnoreCase("registeredModelId") || key.equalsIgnoreCase("servingEnvironmentId")
                        || key.equalsIgnoreCase("experimentId") || key.equalsIgnoreCase("modelVersionId"))) {
                    throw RegistryException.badRequest("json: field \"" + key + "\" cannot be changed: a " + kind.noun + "'s name and parent are immutable");
                }
                throw RegistryException.badRequest("json: unknown field \"" + key + "\" in a " + kind.noun);
            }
            if (value.isNull()) continue;
            if (canonical.equals("customProperties")) {
                out.set("customProperties", customProperties(value));
                continue;
            }
            if (canonical.equals("artifactType")) continue;
            out.set(canonical, check(fields.get(canonical), value, kind));
        }
        return out;
    }

    private static String canonical(String key, Set<String> names) {
        if (names.contains(key)) return key;
        for (var n : names) {
            if (n.equalsIgnoreCase(key)) return n;
        }
        return null;
    }

    private static JsonNode check(Kind.Field field, JsonNode value, Kind kind) {
        var name = field.name();
        switch (field.type()) {
            case STRING -> {
                if (!value.isTextual()) throw typeError(name, "a string", value);
                if (name.equals("name") && value.asText().isEmpty()) throw RegistryException.badRequest("name: must not be empty");
                if (name.equals("name") && value.asText().length() > 1024) throw RegistryException.badRequest("name: longer than 1024 characters");
            }
            case ID -> {
                if (!value.isTextual()) throw typeError(name, "a string holding an id", value);
                parseId(value.asText(), name);
            }
            case EPOCH -> {
                if (!value.isTextual() || !value.asText().matches("[0-9]{1,19}")) throw typeError(name, "a string of milliseconds since the epoch", value);
            }
            case NUMBER -> {
                if (!value.isNumber()) throw typeError(name, "a number", value);
            }
            case INTEGER -> {
                if (!value.isIntegralNumber() || !value.canConvertToLong()) throw typeError(name, "a whole number", value);
            }
            case STRING_ARRAY -> {
                if (!value.isArray()) throw typeError(name, "an array of strings", value);
                for (var item : value) {
                    if (!item.isTextual()) throw typeError(name + "[]", "a string", item);
                }
            }
            case ENUM -> {
                if (!value.isTextual() || !field.values().contains(value.asText())) {
                    throw RegistryException.badRequest(name + ": " + describe(value) + " is not one of " + String.join(", ", field.values()));
                }
            }
        }
        return value;
    }

    /** customProperties in their canonical form: each value an object with its metadataType and that type's value. */
    private static ObjectNode customProperties(JsonNode value) {
        if (!value.isObject()) throw typeError("customProperties", "an object", value);
        var out = JsonNodeFactory.instance.objectNode();
        for (var e : value.properties()) {
            var key = e.getKey();
            var where = "customProperties." + key;
            if (key.isEmpty() || key.length() > 255) throw RegistryException.badRequest(where + ": a property name must have 1 to 255 characters");
            if (!(e.getValue() instanceof ObjectNode prop)) throw typeError(where, "an object with a metadataType", e.getValue());
            var type = field(prop, "metadataType");
            if (type == null || !type.isTextual() || !METADATA_TYPES.contains(type.asText())) {
                throw RegistryException.badRequest(where + ".metadataType: " + (type == null ? "missing" : describe(type) + " is not") + " one of "
                        + String.join(", ", new java.util.TreeSet<>(METADATA_TYPES)));
            }
            var canonical = out.putObject(key);
            canonical.put("metadataType", type.asText());
            switch (type.asText()) {
                case "MetadataIntValue" -> {
                    var v = required(prop, "int_value", where);
                    try {
                        canonical.put("int_value", Long.toString(v.isIntegralNumber() ? v.asLong() : Long.parseLong(v.asText())));
                    } catch (NumberFormatException ex) {
                        throw typeError(where + ".int_value", "a string holding a 64-bit integer", v);
                    }
                    if (!v.isTextual() && !v.canConvertToLong()) throw typeError(where + ".int_value", "a string holding a 64-bit integer", v);
                }
                case "MetadataDoubleValue" -> {
                    var v = required(prop, "double_value", where);
                    if (!v.isNumber()) throw typeError(where + ".double_value", "a number", v);
                    canonical.put("double_value", v.asDouble());
                }
                case "MetadataBoolValue" -> {
                    var v = required(prop, "bool_value", where);
                    if (!v.isBoolean()) throw typeError(where + ".bool_value", "true or false", v);
                    canonical.put("bool_value", v.asBoolean());
                }
                case "MetadataStringValue" -> canonical.put("string_value", text(required(prop, "string_value", where), where + ".string_value"));
                case "MetadataStructValue" -> canonical.put("struct_value", text(required(prop, "struct_value", where), where + ".struct_value"));
                default -> {
                    canonical.put("type", text(required(prop, "type", where), where + ".type"));
                    canonical.put("proto_value", text(required(prop, "proto_value", where), where + ".proto_value"));
                }
            }
        }
        return out;
    }

    private static JsonNode required(ObjectNode prop, String name, String where) {
        var v = field(prop, name);
        if (v == null || v.isNull()) throw RegistryException.badRequest(where + "." + name + ": required for metadataType " + prop.path("metadataType").asText());
        return v;
    }

    private static String text(JsonNode v, String where) {
        if (!v.isTextual()) throw typeError(where, "a string", v);
        return v.asText();
    }

    private static RegistryException typeError(String field, String expected, JsonNode value) {
        return RegistryException.badRequest(field + ": must be " + expected + ", not " + describe(value));
    }

    private static String describe(JsonNode value) {
        var text = value.toString();
        return text.length() > 60 ? text.substring(0, 60) + "…" : text;
    }

    static long parseId(String id, String what) {
        if (id == null || !id.matches("[0-9]{1,18}")) throw RegistryException.badRequest(what + ": '" + id + "' is not an id (a whole number)");
        return Long.parseLong(id);
    }

    // ---- HTTP plumbing

    private record Answer(int status, JsonNode body) {
    }

    private static Answer ok(JsonNode body) {
        return new Answer(200, body);
    }

    @FunctionalInterface
    private interface Operation {
        Answer run(ServerRequest req, String namespace);
    }

    private Handler handle(Role role, Operation op) {
        return (req, res) -> {
            Answer answer;
            try {
                var ns = Optional.ofNullable(query(req, "namespace")).orElse("default");
                Names.checkLabel(ns).ifPresent(problem -> {
                    throw RegistryException.badRequest("namespace: " + problem);
                });
                var caller = req.context().get(Caller.class).orElseThrow(() -> new RegistryException(401, "this endpoint needs a token: send 'Authorization: Bearer <token>'"));
                policy.require(caller, ns, role);
                answer = op.run(req, ns);
            } catch (RegistryException e) {
                answer = error(e.status, e.getMessage());
            } catch (AccessDeniedException e) {
                answer = error(403, e.getMessage());
            } catch (io.capstan.core.ConflictException e) {
                answer = error(409, e.getMessage());
            } catch (io.capstan.core.InvalidSpecException e) {
                answer = error(400, e.getMessage());
            } catch (io.capstan.core.TransientException e) {
                answer = error(503, e.getMessage());
            } catch (RuntimeException e) {
                LOG.error("model registry request {} {} failed", req.prologue().method().text(), req.path().path(), e);
                answer = error(500, "internal error: " + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
            }
            res.status(Status.create(answer.status()));
            if (answer.body() == null) {
                res.send();
                return;
            }
            res.header(HeaderNames.CONTENT_TYPE, "application/json");
            try {
                res.send(Json.json().writeValueAsBytes(answer.body()));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        };
    }

    private static Answer error(int status, String message) {
        var body = JsonNodeFactory.instance.objectNode();
        body.put("code", Integer.toString(status));
        body.put("message", message);
        return new Answer(status, body);
    }

    private static String query(ServerRequest req, String name) {
        var all = req.query().all(name, List::of);
        return all.isEmpty() ? null : all.getFirst();
    }

    private static long pathId(ServerRequest req) {
        return parseId(req.path().pathParameters().get("id"), "id");
    }

    private static ObjectNode readJson(ServerRequest req) {
        byte[] bytes;
        try (InputStream in = req.content().inputStream()) {
            var out = new ByteArrayOutputStream();
            var buffer = new byte[8192];
            int n;
            while ((n = in.read(buffer)) > 0) {
                out.write(buffer, 0, n);
                if (out.size() > MAX_BODY_BYTES) throw new RegistryException(413, "the request body exceeds " + MAX_BODY_BYTES + " bytes");
            }
            bytes = out.toByteArray();
        } catch (IOException e) {
            throw RegistryException.badRequest("cannot read the request body: " + e.getMessage());
        }
        JsonNode node;
        try {
            node = Json.json().readTree(bytes);
        } catch (JsonProcessingException e) {
            throw RegistryException.badRequest("the body is not JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw RegistryException.badRequest("cannot read the request body: " + e.getMessage());
        }
        if (!(node instanceof ObjectNode object)) throw RegistryException.badRequest("the body must be a JSON object");
        return object;
    }

    static Map<String, Kind.Field> fieldsOf(Kind kind) {
        return kind.createFields();
    }
}
