package io.capstan.registry;

import io.capstan.core.security.AccessPolicy;
import io.capstan.store.Database;
import io.helidon.webserver.http.HttpService;
import java.time.Clock;

/**
 * The Model Registry: registered models, their versions and artifacts, serving environments, inference services,
 * experiments and runs, in tables of its own ({@code db/migration/registry}). {@link #httpService} answers the Kubeflow
 * Model Registry REST API v1alpha3; register it under {@link #BASE_PATH}.
 */
public final class ModelRegistry {
    public static final String BASE_PATH = RegistryApi.BASE;
    /** The module name for {@link Database#migrate(String)}. */
    public static final String MIGRATIONS = "registry";

    private final RegistryStore store;
    private final Clock clock;
    private final Deployer deployer;
    private final Uploads uploads;
    private final Events events;
    private final io.capstan.store.ResourceStore resources;
    /** Null where no lineage graph was given: lineage then shows the registry's side only. */
    private final io.capstan.metadata.MetadataStore metadata;

    /** A registry that cannot deploy: {@code :deploy} answers 501. */
    public ModelRegistry(Database database, Clock clock) {
        this(database, clock, null);
    }

    /** A registry that deploys versions as InferenceService resources in {@code resources}; uploads answer 501. */
    public ModelRegistry(Database database, Clock clock, io.capstan.store.ResourceStore resources) {
        this(database, clock, resources, null, 0);
    }

    /**
     * A registry that deploys into {@code resources} and keeps uploaded model files in {@code artifacts}, refusing
     * uploads over {@code maxUploadBytes}. Webhook secrets are sealed with a key that lives only as long as this
     * process: a server passes its own keys instead.
     */
    public ModelRegistry(Database database, Clock clock, io.capstan.store.ResourceStore resources, io.capstan.artifacts.ArtifactStore artifacts,
                         long maxUploadBytes) {
        this(database, clock, resources, artifacts, maxUploadBytes, new io.capstan.core.SecretSealer(io.capstan.core.SecretKeyRing.ofKey(processKey())));
    }

    /** As above, sealing webhook secrets with {@code secrets}' keys, as the server seals its Secret resources. */
    public ModelRegistry(Database database, Clock clock, io.capstan.store.ResourceStore resources, io.capstan.artifacts.ArtifactStore artifacts,
                         long maxUploadBytes, io.capstan.core.SecretSealer secrets) {
        this(database, clock, resources, artifacts, maxUploadBytes, secrets, null);
    }

    /**
     * As above, with the lineage graph: {@code .../model_versions/{id}/lineage} reads it, and models registered from
     * pipeline steps, training jobs and trials ({@link #startRegistrations}) are linked in it.
     */
    public ModelRegistry(Database database, Clock clock, io.capstan.store.ResourceStore resources, io.capstan.artifacts.ArtifactStore artifacts,
                         long maxUploadBytes, io.capstan.core.SecretSealer secrets, io.capstan.metadata.MetadataStore metadata) {
        this.metadata = metadata;
        this.store = new RegistryStore(database, clock);
        this.clock = clock;
        this.deployer = resources == null ? null : new Deployer(store, resources, artifacts);
        this.uploads = artifacts == null ? null : new Uploads(store, artifacts, maxUploadBytes);
        this.events = new Events(database, clock, secrets.ring());
        this.resources = resources;
    }

    private static byte[] processKey() {
        var key = new byte[32];
        new java.security.SecureRandom().nextBytes(key);
        return key;
    }

    /**
     * Seals every webhook secret that is not sealed with the current key (rows from before secrets were sealed, or
     * sealed with an older key), in the migrated {@code database}; returns how many rows it rewrote. For key rotation;
     * a starting registry does the same in {@link #startWebhooks}.
     */
    public static int resealWebhookSecrets(Database database, io.capstan.core.SecretSealer secrets) {
        return new Events(database, Clock.systemUTC(), secrets.ring()).resealSecrets();
    }

    /** The ids of the keys that sealed the stored webhook secrets, which key rotation must not retire. */
    public static java.util.Set<String> webhookSecretKeyIds(Database database) {
        return new Events(database, Clock.systemUTC(), io.capstan.core.SecretKeyRing.ofKey(processKey())).keyIdsInUse();
    }

    /**
     * Starts keeping the registry's InferenceService and ServeModel entities in step with the InferenceService
     * resources serving registry models, those applied by hand included; closing the result stops it.
     */
    public AutoCloseable startSync() {
        if (resources == null) throw new IllegalStateException("this registry has no resource store to follow");
        return new RegistrySync(store, resources).start();
    }

    /**
     * Starts registering the models that pipeline steps ({@code register-model}), training jobs and Katib experiments
     * (annotated {@code registry.capstan.io/register-model}) made, once they succeed; closing the result stops it.
     */
    public AutoCloseable startRegistrations() {
        if (resources == null) throw new IllegalStateException("this registry has no resource store to follow");
        return new Registrations(store, resources, metadata, events, deployer).start();
    }

    /** The annotation that asks for a succeeded training job's or Katib experiment's model to be registered under its value. */
    public static final String REGISTER_MODEL_ANNOTATION = Registrations.MODEL_ANNOTATION;

    /**
     * Seals the webhook secrets stored in plain text (or with an older key), then starts sending the registry's
     * events to its webhooks, each tried up to {@code maxAttempts} times with a backoff
     * doubling from {@code firstBackoff}; closing the result stops it.
     */
    public AutoCloseable startWebhooks(int maxAttempts, java.time.Duration firstBackoff) {
        events.resealSecrets();
        events.startDeliveries(maxAttempts, firstBackoff);
        return events;
    }

    /** The largest upload a server accepts unless configured otherwise: 1 GiB. */
    public static final long DEFAULT_MAX_UPLOAD_BYTES = 1L << 30;

    /** Where {@link #extensionService} goes: Capstan's aliases and URI resolution, beside the upstream API. */
    public static final String EXTENSION_PATH = "/apis/capstan/v1/registry";

    /** Capstan's extension endpoints (aliases, resolve), with the same access rules as {@link #httpService}. */
    public HttpService extensionService(AccessPolicy policy) {
        var api = new RegistryApi(store, policy, clock, deployer, uploads, events, new Lineage(store, metadata, resources));
        return api::extensionRouting;
    }

    /**
     * What {@code model-registry://MODEL[/VERSION][?namespace=NS]} or {@code model-registry://MODEL@ALIAS} names, looked
     * up in {@code namespace} unless the URI names one.
     *
     * @throws IllegalArgumentException naming what is missing: the model, the version, the alias or the artifact
     */
    public ResolvedModel resolve(String uri, String namespace) {
        try {
            return ModelUris.resolve(store, uri, namespace);
        } catch (RegistryException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /**
     * Registers version {@code versionName} of model {@code modelName} (the model is made if new) with one model artifact
     * at {@code artifactUri}, as {@code POST .../model_versions} and {@code .../artifacts} would; for Capstan's own callers
     * (drift-triggered retraining). Returns the version's {@code model-registry://MODEL/VERSION} URI.
     *
     * @throws IllegalArgumentException when the version exists already, or a name is not acceptable
     */
    public String register(String namespace, String modelName, String versionName, String artifactUri, String format, String description) {
        var nodes = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance;
        try {
            var model = store.find(namespace, java.util.List.of(Kind.REGISTERED_MODEL), modelName, null, null, null)
                    .orElseGet(() -> store.create(namespace, Kind.REGISTERED_MODEL, 0, nodes.objectNode().put("name", modelName).put("state", "LIVE")));
            var version = store.create(namespace, Kind.MODEL_VERSION, model.id(), nodes.objectNode().put("name", versionName)
                    .put("registeredModelId", Long.toString(model.id())).put("state", "LIVE").put("description", description));
            var artifact = store.create(namespace, Kind.MODEL_ARTIFACT, version.id(), nodes.objectNode().put("name", versionName)
                    .put("artifactType", Kind.MODEL_ARTIFACT.artifactType).put("uri", artifactUri).put("modelFormatName", format).put("state", "LIVE"));
            store.link(version.id(), artifact.id());
            return ModelUris.SCHEME + modelName + "/" + versionName;
        } catch (RegistryException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /**
     * The URI of DataSet artifact {@code nameOrId} of {@code namespace}'s registry: by id when all digits, else by name
     * (the first made with that name); for a ModelMonitor's {@code registry-dataset://} reference.
     *
     * @throws IllegalArgumentException when there is no such DataSet, or it has no URI
     */
    public String datasetUri(String namespace, String nameOrId) {
        var kinds = java.util.List.of(Kind.DATA_SET);
        var found = nameOrId.matches("[0-9]{1,18}") ? store.get(namespace, Long.parseLong(nameOrId), kinds)
                : store.find(namespace, kinds, nameOrId, null, null, null);
        var dataset = found.orElseThrow(() -> new IllegalArgumentException("the model registry of namespace '" + namespace
                + "' has no DataSet artifact '" + nameOrId + "'"));
        var uri = dataset.text("uri");
        if (uri == null || uri.isBlank()) throw new IllegalArgumentException("DataSet artifact '" + nameOrId + "' has no uri");
        return uri;
    }

    /** The namespaces that hold registered models, sorted: for the web UI, which lists models across namespaces. */
    public java.util.List<String> namespaces() {
        return store.namespaces(Kind.REGISTERED_MODEL);
    }

    /** The registered models of {@code namespace}, as the API shows them, by name. */
    public java.util.List<com.fasterxml.jackson.databind.node.ObjectNode> models(String namespace) {
        return store.all(namespace, Kind.REGISTERED_MODEL).stream().sorted(java.util.Comparator.comparing(Entity::name)).map(Entity::json).toList();
    }

    /** One registered model, as the API shows it, with its versions, each with its artifacts under {@code "artifacts"}, and its aliases (name to version id). */
    public java.util.Optional<com.fasterxml.jackson.databind.node.ObjectNode> model(String namespace, long id) {
        return store.get(namespace, id, java.util.List.of(Kind.REGISTERED_MODEL)).map(model -> {
            var out = model.json();
            var versions = out.putArray("versions");
            for (var v : store.children(namespace, java.util.List.of(Kind.MODEL_VERSION), model.id())) {
                var json = v.json();
                var artifacts = json.putArray("artifacts");
                store.linked(namespace, Kind.ARTIFACTS, v.id()).forEach(a -> artifacts.add(a.json()));
                versions.add(json);
            }
            var aliases = out.putObject("aliases");
            store.aliases(model.id()).forEach(a -> aliases.put(a.alias(), Long.toString(a.versionId())));
            return out;
        });
    }

    public static boolean isRegistryUri(String uri) {
        return uri != null && uri.startsWith(ModelUris.SCHEME);
    }

    /** The REST API, each request needing view (reads) or edit (writes) in its namespace under {@code policy}. */
    public HttpService httpService(AccessPolicy policy) {
        return new RegistryApi(store, policy, clock, deployer, uploads, events, new Lineage(store, metadata, resources));
    }
}
