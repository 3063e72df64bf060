package io.capstan.registry;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.ObjectMeta;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.store.LabelSelector;
import io.capstan.store.ListQuery;
import io.capstan.store.ResourceStore;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Optional;

/**
 * Deploys a model version as a KServe InferenceService resource (which the serving controller then serves), and
 * keeps the registry's own InferenceService entity in step. A service deployed through an alias follows it: moving
 * the alias points the service's storageUri at the new version, and serving rolls out a new revision (with its canary
 * settings, if the service has them). The resource carries upstream's controller labels
 * ({@code modelregistry.kubeflow.org/registered-model-id}, {@code .../model-version-id},
 * {@code .../inference-service-id}).
 */
final class Deployer {
    static final String API_VERSION = "serving.kserve.io/v1beta1";
    static final String KIND = "InferenceService";
    static final String MODEL_LABEL = "modelregistry.kubeflow.org/registered-model-id";
    static final String VERSION_LABEL = "modelregistry.kubeflow.org/model-version-id";
    static final String ISVC_LABEL = "modelregistry.kubeflow.org/inference-service-id";
    static final String ALIAS_ANNOTATION = "registry.capstan.io/alias";
    /**
     * Set on a hand-written InferenceService whose storageUri is {@code model-registry://MODEL@ALIAS} when the alias
     * moves: serving counts it among the annotations that make a revision, so the service rolls out a revision that
     * resolves the URI again, to the version the alias now names.
     */
    static final String FOLLOWED_VERSION_ANNOTATION = "serving.capstan.io/registry-version";

    private final RegistryStore registry;
    private final ResourceStore resources;
    /** Where uploaded models live; null where the registry has none, and then digests go unchecked. */
    private final io.capstan.artifacts.ArtifactStore artifacts;

    Deployer(RegistryStore registry, ResourceStore resources, io.capstan.artifacts.ArtifactStore artifacts) {
        this.registry = registry;
        this.resources = resources;
        this.artifacts = artifacts;
    }

    /**
     * Refuses to deploy {@code version} as {@code name} where clients would break: an uploaded artifact whose stored
     * bytes no longer have the digest its signature was read from, or a signature other than the one of the version
     * the service serves now (unless {@code allowSignatureChange}).
     */
    void checkSignature(String ns, Entity version, String name, boolean allowSignatureChange) {
        var artifacts = registry.list(ns, new RegistryStore.ListQuery(List.of(Kind.MODEL_ARTIFACT), null, version.id(), null, java.util.Set.of(),
                "CREATE_TIME", "DESC", 1, null, null, List.of())).items();
        if (!artifacts.isEmpty() && this.artifacts != null) {
            var artifact = artifacts.getFirst();
            var key = artifact.text("storageKey");
            var digest = artifact.body().path("customProperties").path("sha256").path("string_value").asText(null);
            if (key != null && digest != null && key.startsWith(Uploads.KEY_PREFIX)) {
                if (!"LIVE".equals(artifact.text("state"))) {
                    throw RegistryException.unprocessable("model artifact " + artifact.id() + " is " + artifact.text("state") + ", not LIVE: its upload did not finish");
                }
                var stored = this.artifacts.stat(key);
                if (stored.isEmpty() || !stored.get().sha256().equals(digest)) {
                    throw RegistryException.conflict("model artifact " + artifact.id() + " records sha256 " + digest + " but the artifact store holds "
                            + stored.map(i -> "sha256 " + i.sha256()).orElse("nothing") + " under " + key);
                }
            }
        }
        var signature = Signatures.of(version);
        if (allowSignatureChange) return;
        var existing = resources.find(new ResourceKey(KIND, ns, name));
        if (existing.isEmpty()) return;
        var servedId = existing.get().metadata().labels().get(VERSION_LABEL);
        if (servedId == null || servedId.equals(Long.toString(version.id()))) return;
        var served = registry.get(ns, Long.parseLong(servedId), List.of(Kind.MODEL_VERSION)).map(Signatures::of).orElse(null);
        if (signature == null || served == null) return;
        var problem = Signatures.mismatch(served, signature);
        if (problem != null) {
            throw RegistryException.conflict("InferenceService '" + name + "' serves version " + servedId + ", whose signature differs from version '"
                    + version.name() + "''s (" + problem.replace("the version records", "the served version has").replace("the model file has", "this version has")
                    + "); its clients would break. Deploy under another name, or pass \"allowSignatureChange\": true");
        }
    }

    /** The result of one deploy: the resource's key and what it now serves. */
    record Deployment(String namespace, String name, String registeredModelId, String modelVersionId, String storageUri, String alias,
                      String inferenceServiceId) {
    }

    /**
     * Creates or updates InferenceService {@code name} to serve {@code version}'s newest model artifact.
     *
     * @param alias the alias the service follows from now on, or null for none
     */
    Deployment deploy(String ns, Entity version, String name, String alias) {
        // The serving controller writes the resource's status meanwhile; an update based on what it replaced is retried.
        for (int attempt = 1; ; attempt++) {
            try {
                return deployOnce(ns, version, name, alias);
            } catch (io.capstan.core.ConflictException e) {
                if (attempt >= 5) throw e;
            }
        }
    }

    private Deployment deployOnce(String ns, Entity version, String name, String alias) {
        var model = registry.get(ns, version.parentId(), List.of(Kind.REGISTERED_MODEL)).orElseThrow();
        var artifacts = registry.list(ns, new RegistryStore.ListQuery(List.of(Kind.MODEL_ARTIFACT), null, version.id(), null, java.util.Set.of(),
                "CREATE_TIME", "DESC", 1, null, null, List.of())).items();
        if (artifacts.isEmpty()) {
            throw RegistryException.unprocessable("model version '" + version.name() + "' has no model artifact to deploy; add one with POST .../model_versions/"
                    + version.id() + "/artifacts");
        }
        var artifact = artifacts.getFirst();
        var uri = artifact.text("uri");
        var format = artifact.text("modelFormatName");
        if (uri == null || uri.isEmpty()) throw RegistryException.unprocessable("model artifact " + artifact.id() + " has no uri");
        if (format == null || format.isEmpty()) {
            throw RegistryException.unprocessable("model artifact " + artifact.id() + " has no modelFormatName (such as onnx or xgboost); serving needs one");
        }
        var key = new ResourceKey(KIND, ns, name);
        var existing = resources.find(key);
        if (existing.isPresent() && !existing.get().metadata().labels().containsKey(MODEL_LABEL)) {
            throw RegistryException.conflict("InferenceService '" + name + "' in namespace '" + ns + "' exists and was not deployed from the registry; pick another name");
        }
        if (existing.isPresent() && !existing.get().metadata().labels().get(MODEL_LABEL).equals(Long.toString(model.id()))) {
            throw RegistryException.conflict("InferenceService '" + name + "' serves registered model " + existing.get().metadata().labels().get(MODEL_LABEL)
                    + ", not '" + model.name() + "'");
        }
        // The registry's side: a serving environment per namespace, an InferenceService entity per resource.
        var env = registry.find(ns, List.of(Kind.SERVING_ENVIRONMENT), ns, null, null, null).orElseGet(() -> {
            var body = JsonNodeFactory.instance.objectNode().put("name", ns).put("description", "Capstan namespace " + ns);
            return registry.create(ns, Kind.SERVING_ENVIRONMENT, 0, body);
        });
        var entity = registry.find(ns, List.of(Kind.INFERENCE_SERVICE), name, null, env.id(), null);
        Entity isvc;
        if (entity.isPresent()) {
            var body = entity.get().body().deepCopy();
            body.put("modelVersionId", Long.toString(version.id()));
            body.put("desiredState", "DEPLOYED");
            isvc = registry.update(entity.get(), body);
        } else {
            var body = JsonNodeFactory.instance.objectNode().put("name", name).put("registeredModelId", Long.toString(model.id()))
                    .put("servingEnvironmentId", Long.toString(env.id())).put("modelVersionId", Long.toString(version.id()))
                    .put("desiredState", "DEPLOYED").put("runtime", format);
            body.putObject("customProperties");
            isvc = registry.create(ns, Kind.INFERENCE_SERVICE, env.id(), body);
        }
        var labels = new HashMap<String, String>(existing.map(r -> r.metadata().labels()).orElse(java.util.Map.of()));
        labels.put(MODEL_LABEL, Long.toString(model.id()));
        labels.put(VERSION_LABEL, Long.toString(version.id()));
        labels.put(ISVC_LABEL, Long.toString(isvc.id()));
        var annotations = new HashMap<String, String>(existing.map(r -> r.metadata().annotations()).orElse(java.util.Map.of()));
        if (alias != null) annotations.put(ALIAS_ANNOTATION, alias);
        else annotations.remove(ALIAS_ANNOTATION);
        ObjectNode spec = existing.map(Resource::spec).orElseGet(JsonNodeFactory.instance::objectNode);
        var predictor = spec.has("predictor") && spec.get("predictor").isObject() ? (ObjectNode) spec.get("predictor") : spec.putObject("predictor");
        var modelNode = predictor.has("model") && predictor.get("model").isObject() ? (ObjectNode) predictor.get("model") : predictor.putObject("model");
        var formatNode = modelNode.putObject("modelFormat").put("name", format);
        if (artifact.text("modelFormatVersion") != null) formatNode.put("version", artifact.text("modelFormatVersion"));
        modelNode.put("storageUri", uri);
        if (existing.isPresent()) {
            var current = existing.get();
            resources.update(current.withMetadata(current.metadata().withLabels(labels).withAnnotations(annotations)).withSpec(spec));
        } else {
            resources.create(Resource.of(API_VERSION, KIND, ObjectMeta.named(ns, name).withLabels(labels).withAnnotations(annotations), spec));
        }
        return new Deployment(ns, name, Long.toString(model.id()), Long.toString(version.id()), uri, alias, Long.toString(isvc.id()));
    }

    /** Redeploys every InferenceService of {@code model} that follows {@code alias}, now pointing at {@code version}. */
    List<Deployment> follow(String ns, Entity model, String alias, Entity version) {
        var out = new ArrayList<Deployment>();
        Optional<String> token = Optional.empty();
        do {
            var page = resources.list(new ListQuery(KIND, Optional.of(ns), LabelSelector.parse(MODEL_LABEL + "=" + model.id()), ListQuery.MAX_LIMIT, token));
            for (var r : page.items()) {
                if (alias.equals(r.metadata().annotations().get(ALIAS_ANNOTATION))) out.add(deploy(ns, version, r.metadata().name(), alias));
            }
            token = page.continueToken();
        } while (token.isPresent());
        // Services applied by hand that name the alias in their storageUri.
        token = Optional.empty();
        do {
            var page = resources.list(new ListQuery(KIND, Optional.of(ns), LabelSelector.EVERYTHING, ListQuery.MAX_LIMIT, token));
            for (var r : page.items()) {
                if (r.metadata().labels().containsKey(MODEL_LABEL)) continue;
                var uri = r.spec().path("predictor").path("model").path("storageUri").asText("");
                if (!namesAlias(uri, ns, model.name(), alias)) continue;
                for (int attempt = 1; ; attempt++) {
                    try {
                        var current = resources.find(new ResourceKey(KIND, ns, r.metadata().name())).orElse(null);
                        if (current == null) break;
                        var annotations = new HashMap<String, String>(current.metadata().annotations());
                        annotations.put(FOLLOWED_VERSION_ANNOTATION, Long.toString(version.id()));
                        resources.update(current.withMetadata(current.metadata().withAnnotations(annotations)));
                        break;
                    } catch (io.capstan.core.ConflictException e) {
                        if (attempt >= 5) throw e;
                    }
                }
                out.add(new Deployment(ns, r.metadata().name(), Long.toString(model.id()), Long.toString(version.id()), uri, alias, null));
            }
            token = page.continueToken();
        } while (token.isPresent());
        return out;
    }

    /** Whether {@code uri} is {@code model-registry://[HOST/]MODEL@ALIAS[?namespace=NS]} for this model and namespace. */
    static boolean namesAlias(String uri, String ns, String model, String alias) {
        if (!uri.startsWith(ModelUris.SCHEME)) return false;
        if (!ModelUris.namespace(uri, ns).equals(ns)) return false;
        var rest = uri.substring(ModelUris.SCHEME.length());
        int q = rest.indexOf('?');
        if (q >= 0) rest = rest.substring(0, q);
        rest = rest.substring(rest.lastIndexOf('/') + 1);
        return java.net.URLDecoder.decode(rest, java.nio.charset.StandardCharsets.UTF_8).equals(model + "@" + alias);
    }

    /** The InferenceService resources of {@code model} that follow {@code alias}. */
    List<String> followers(String ns, long modelId, String alias) {
        var out = new ArrayList<String>();
        var page = resources.list(new ListQuery(KIND, Optional.of(ns), LabelSelector.parse(MODEL_LABEL + "=" + modelId), ListQuery.MAX_LIMIT, Optional.empty()));
        for (var r : page.items()) {
            if (alias.equals(r.metadata().annotations().get(ALIAS_ANNOTATION))) out.add(r.metadata().name());
        }
        return out;
    }
}
