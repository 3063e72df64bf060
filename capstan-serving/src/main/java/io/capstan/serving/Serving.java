package io.capstan.serving;

import io.capstan.artifacts.ArtifactStore;
import io.capstan.core.ResourceKind;
import io.capstan.serving.api.InferenceEndpoint;
import io.capstan.serving.http.InferenceGraphs;
import io.capstan.serving.http.InferenceHttpService;
import io.capstan.serving.internal.InferenceGraphReconciler;
import io.capstan.serving.internal.InferenceServiceReconciler;
import io.capstan.serving.internal.ModelServer;
import io.capstan.serving.internal.ModelStorage;
import io.capstan.serving.internal.ServingFollower;
import io.capstan.serving.internal.TrainedModelReconciler;
import io.capstan.serving.internal.RevisionSettings;
import io.capstan.serving.python.ContainerProcessLauncher;
import io.capstan.serving.python.ModelProcesses;
import io.capstan.serving.python.SklearnModelRuntime;
import io.capstan.serving.runtime.Runtimes;
import io.capstan.serving.spec.ServingKinds;
import io.capstan.store.Reconciler;
import io.capstan.store.ResourceStore;
import io.helidon.webserver.http.HttpService;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * Model serving, assembled: the in-process {@link InferenceEndpoint}, the InferenceService
 * reconciler that loads revisions into it, and the OIP REST / V1 HTTP service over it.
 *
 * <pre>{@code
 * var serving = new Serving(store, artifacts, bucket -> Optional.empty(), home.resolve("serving"),
 *         clock, meters, "http://localhost:8080", Serving.Options.defaults());
 * kinds.addAll(Serving.kinds());
 * runtime.register(serving.reconciler());
 * runtime.register(serving.graphReconciler());
 * runtime.register(serving.trainedModelReconciler());
 * serving.followWhileNotLeading(runtime::isLeading, Duration.ofMinutes(10));
 * routing.register(serving.httpService());
 * }</pre>
 */
public final class Serving implements AutoCloseable {
    /**
     * The largest inference request any InferenceService may accept (its {@code serving.capstan.io/max-request-bytes}
     * annotation is at most this): the HTTP server's own payload limit must be at least this large.
     */
    public static final int LARGEST_REQUEST_BYTES = InferenceHttpService.MAX_REQUEST_BYTES_CEILING;

    /**
     * @param maxBodyBytes the largest OIP/V1 request body, for an InferenceService that sets no limit of its own
     * @param autoscaleInterval how often replicas are adjusted
     * @param downloadTimeout longest model download
     * @param quotas the per-namespace quotas each model replica is charged to (one pod plus the predictor's
     *               {@code resources.requests}); share it with the backend so that both count against one quota
     */
    public record Options(int maxBodyBytes, Duration autoscaleInterval, Duration downloadTimeout, io.capstan.core.quota.QuotaLedger quotas,
                          io.opentelemetry.api.trace.Tracer tracer) {
        public Options {
            java.util.Objects.requireNonNull(quotas, "quotas");
            java.util.Objects.requireNonNull(tracer, "tracer");
        }

        /** With no traces. */
        public Options(int maxBodyBytes, Duration autoscaleInterval, Duration downloadTimeout, io.capstan.core.quota.QuotaLedger quotas) {
            this(maxBodyBytes, autoscaleInterval, downloadTimeout, quotas, io.capstan.core.tracing.Traces.off());
        }

        /** With a ledger of its own and no quotas. */
        public Options(int maxBodyBytes, Duration autoscaleInterval, Duration downloadTimeout) {
            this(maxBodyBytes, autoscaleInterval, downloadTimeout, new io.capstan.core.quota.QuotaLedger());
        }

        public static Options defaults() {
            return new Options(InferenceHttpService.DEFAULT_MAX_BODY_BYTES, Duration.ofSeconds(2), Duration.ofMinutes(10));
        }

        public Options withQuotas(io.capstan.core.quota.QuotaLedger ledger) {
            return new Options(maxBodyBytes, autoscaleInterval, downloadTimeout, ledger, tracer);
        }

        /** A span per inference request from {@code tracer}, with model, revision, batch and queue time. */
        public Options withTracer(io.opentelemetry.api.trace.Tracer newTracer) {
            return new Options(maxBodyBytes, autoscaleInterval, downloadTimeout, quotas, newTracer);
        }
    }

    private final ModelServer server;
    private final InferenceServiceReconciler reconciler;
    private final InferenceHttpService http;
    private final io.capstan.serving.http.InferenceAccess access;
    private final InferenceGraphReconciler graphReconciler;
    private final TrainedModelReconciler trainedModels;
    private final ResourceStore store;
    private final Clock clock;
    private volatile ServingFollower follower;

    /**
     * @param artifacts the store that {@code capstan://artifacts/...} storage URIs read from; may be null
     * @param s3Buckets the artifact store for an {@code s3://bucket/...} storage URI's bucket, where configured
     * @param workDir the model cache and working files
     * @param baseUrl this server's base URL, for the InferenceService status URLs
     */
    public Serving(ResourceStore store, ArtifactStore artifacts, Function<String, Optional<ArtifactStore>> s3Buckets,
                   Path workDir, Clock clock, MeterRegistry meters, String baseUrl, Options options) {
        this(store, artifacts, s3Buckets, workDir, clock, meters, () -> baseUrl, options);
    }

    /**
     * As the other constructor, with the base URL asked for only when a status is written: a server on an
     * ephemeral port knows it only after its HTTP server started, which needs {@link #httpService()} first.
     */
    public Serving(ResourceStore store, ArtifactStore artifacts, Function<String, Optional<ArtifactStore>> s3Buckets,
                   Path workDir, Clock clock, MeterRegistry meters, java.util.function.Supplier<String> baseUrl, Options options) {
        this.store = store;
        this.clock = clock;
        this.server = new ModelServer(options.autoscaleInterval());
        var storage = new ModelStorage(workDir.resolve("model-cache"), artifacts, s3Buckets, options.downloadTimeout());
        // custom containers run their image in Podman or Docker when it can be had (CAPSTAN_EXECUTION), else their command here
        var processes = new ModelProcesses(ContainerProcessLauncher.fromEnvironment(System.getenv()),
                workDir.resolve("processes"),
                InferenceServiceReconciler.DEFAULT_START_TIMEOUT);
        var runtimes = Runtimes.builtIn().with(new SklearnModelRuntime(processes, RevisionSettings.defaults().timeout()));
        this.reconciler = new InferenceServiceReconciler(store, server, storage, runtimes, meters, clock, baseUrl, workDir, processes,
                options.quotas());
        this.trainedModels = new TrainedModelReconciler(store, server, storage, runtimes, meters, clock, baseUrl);
        var graphs = new InferenceGraphs(server);
        this.graphReconciler = new InferenceGraphReconciler(store, graphs, clock, baseUrl);
        this.http = new InferenceHttpService(server, options.maxBodyBytes(), graphs, io.capstan.core.security.AccessPolicy.serverAdminOnly(),
                options.tracer());
        this.access = new io.capstan.serving.http.InferenceAccess(server);
    }

    /** InferenceService, ServingRuntime, ClusterServingRuntime, InferenceGraph and TrainedModel. */
    public static List<ResourceKind> kinds() {
        return ServingKinds.all();
    }

    /** What the OIP gRPC service and other in-process callers infer through. */
    public InferenceEndpoint endpoint() {
        return server;
    }

    /**
     * Starts (or keeps) recording the last {@code capacity} answered requests of an InferenceService, for in-process
     * readers such as drift monitors; see {@link io.capstan.serving.api.PayloadTap}.
     */
    public io.capstan.serving.api.PayloadTap payloadTap(String namespace, String name, int capacity) {
        return server.tap(namespace, name, capacity, clock);
    }

    /** Stops recording an InferenceService's payloads. */
    public void removePayloadTap(String namespace, String name) {
        server.untap(namespace, name);
    }

    /** The InferenceService reconciler. */
    public Reconciler reconciler() {
        return reconciler;
    }

    /** The TrainedModel reconciler (multi-model serving). */
    public Reconciler trainedModelReconciler() {
        return trainedModels;
    }

    /** The InferenceGraph reconciler. */
    public Reconciler graphReconciler() {
        return graphReconciler;
    }

    /**
     * Serves, while this server does not lead, every InferenceService the leader made ready (the reconciler runs only
     * on the leader, and without this a follower answered 404). Call once, after the store is migrated; stopped by
     * {@link #close()}.
     *
     * @param leading whether this server leads now, such as the controller runtime's {@code isLeading}
     * @param resync how often every InferenceService is looked at again, in case a change was missed
     */
    public void followWhileNotLeading(java.util.function.BooleanSupplier leading, Duration resync) {
        if (follower != null) throw new IllegalStateException("already following");
        follower = ServingFollower.start(store, reconciler, leading, resync);
    }

    /** Which inference requests may come without a token: those to a model whose InferenceService opted out. */
    public io.capstan.serving.http.InferenceAccess access() {
        return access;
    }

    /** OIP v2 REST and V1 routes; register at the routing's root. */
    public HttpService httpService() {
        return http;
    }

    /**
     * Reads storage URIs that the model storage cannot, such as the Model Registry's {@code model-registry://}: each
     * revision resolves its URI when it first loads, and its status records what it resolved to.
     */
    public void resolveStorageUris(io.capstan.serving.api.StorageUriResolver resolver) {
        reconciler.setStorageUriResolver(resolver);
    }

    /**
     * Runs each InferenceService revision's predictor where {@code placement} puts it (a Kubernetes backend's
     * Deployment) instead of in this process; the route between revisions stays here.
     */
    public void placePredictors(io.capstan.backend.PredictorPlacement placement) {
        reconciler.setPredictorPlacement(placement);
    }

    /** Holds every canary rollout (the {@code serving.capstan.io/rollout} annotation) while {@code freeze} gives a reason. */
    public void freezeRolloutsWhen(io.capstan.serving.api.RolloutFreeze freeze) {
        reconciler.setRolloutFreeze(freeze);
    }

    /** Gives the {@code inputDrift} check of canary rollouts the InferenceService's training reference, where {@code reference} has one. */
    public void canaryInputsAgainst(io.capstan.serving.api.CanaryInputReference reference) {
        reconciler.setCanaryInputReference(reference);
    }

    /** As {@link #httpService()}, each model route needing view in its namespace under {@code policy}. */
    public HttpService httpService(io.capstan.core.security.AccessPolicy policy) {
        return http.withAccessPolicy(policy);
    }

    @Override
    public void close() {
        if (follower != null) follower.close();
        server.close();
    }
}
