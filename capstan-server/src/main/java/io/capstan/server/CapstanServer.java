package io.capstan.server;

import io.capstan.artifacts.ArtifactLocator;
import io.capstan.artifacts.ArtifactStore;
import io.capstan.artifacts.LocalArtifactStore;
import io.capstan.artifacts.S3ArtifactStore;
import io.capstan.backend.LocalBackend;
import io.capstan.core.CapstanConfig;
import io.capstan.core.ResourceKinds;
import io.capstan.core.SecretKeyRing;
import io.capstan.core.SecretSealer;
import io.capstan.metadata.MetadataStore;
import io.capstan.server.http.Bodies;
import io.capstan.server.http.HttpMetricsFilter;
import io.capstan.server.http.LineageApi;
import io.capstan.server.http.ObservabilityApi;
import io.capstan.server.http.ProblemHandlers;
import io.capstan.server.http.Readiness;
import io.capstan.server.http.ResourceApi;
import io.capstan.server.http.RouteTable;
import io.capstan.server.http.StartingFilter;
import io.capstan.server.jobs.JobLogsApi;
import io.capstan.server.jobs.JobReconciler;
import io.capstan.server.jobs.Jobs;
import io.capstan.serving.Serving;
import io.capstan.serving.grpc.OipGrpcServer;
import io.capstan.training.MachineCapacity;
import io.capstan.training.MetadataModelLineage;
import io.capstan.training.TrainingController;
import io.capstan.training.TrainingKinds;
import io.capstan.tuning.ExperimentReconciler;
import io.capstan.tuning.Experiments;
import io.capstan.tuning.TrialApi;
import io.capstan.pipelines.run.PipelineRunReconciler;
import io.capstan.pipelines.run.PipelineRuns;
import io.capstan.server.pipelines.LocalStepRewriter;
import io.capstan.store.ControllerRuntime;
import io.capstan.store.Database;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.LeaderLease;
import io.capstan.store.ResourceStore;
import io.helidon.webserver.WebServer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The assembled platform: database, stores, backend, controllers and the HTTP server, wired by hand in
 * {@link #start}. {@link #close} shuts down gracefully: the HTTP server stops taking requests, controllers stop,
 * and running workloads are left running so that the next start re-adopts them.
 */
public final class CapstanServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(CapstanServer.class.getName());
    public static final String VERSION = versionFromManifest();
    static final Duration STARTUP_TIMEOUT = Duration.ofMinutes(2);
    /** How long {@code /readyz} waits for its checks; a database slower than this counts as not ready. */
    static final Duration READINESS_TIMEOUT = Duration.ofSeconds(2);

    private final CapstanConfig config;
    private final ResourceStore store;
    private final MetadataStore metadata;
    private final ArtifactStore artifacts;
    private final WebServer web;
    private final OipGrpcServer grpc;
    private final Database database;
    private final ControllerRuntime controllers;
    private final Serving serving;
    private final io.capstan.security.TokenStore tokens;
    private final io.capstan.security.AuditLog audit;
    /** Everything to close at shutdown, in the order it was opened; closed last-opened first. */
    private final List<AutoCloseable> resources;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final CountDownLatch terminated = new CountDownLatch(1);

    private CapstanServer(CapstanConfig config, ResourceStore store, MetadataStore metadata, ArtifactStore artifacts,
                          WebServer web, OipGrpcServer grpc, List<AutoCloseable> resources, Database database,
                          ControllerRuntime controllers, Serving serving, io.capstan.security.TokenStore tokens,
                          io.capstan.security.AuditLog audit) {
        this.database = database;
        this.audit = audit;
        this.tokens = tokens;
        this.controllers = controllers;
        this.serving = serving;
        this.config = config;
        this.store = store;
        this.metadata = metadata;
        this.artifacts = artifacts;
        this.web = web;
        this.grpc = grpc;
        this.resources = List.copyOf(resources);
    }

    /** The kinds this server accepts, validated by their structure alone. */
    public static ResourceKinds kinds() {
        return kinds(TrainingKinds.all());
    }

    /** The kinds, with the training kinds' validators checking references (such as a TrainJob's runtime) in {@code store}. */
    private static ResourceKinds kinds(List<io.capstan.core.ResourceKind> trainingKinds) {
        var all = new ArrayList<>(List.of(Jobs.RESOURCE_KIND, PipelineRuns.RESOURCE_KIND));
        all.addAll(io.capstan.server.kfp.KfpKinds.all());
        all.addAll(Experiments.kinds());
        all.addAll(trainingKinds);
        all.addAll(Serving.kinds());
        all.addAll(io.capstan.monitoring.Monitoring.kinds());
        all.addAll(io.capstan.core.CoreKinds.all());
        all.addAll(io.capstan.security.TenancyKinds.all());
        all.addAll(io.capstan.notebooks.Notebooks.kinds());
        return ResourceKinds.of(all);
    }

    /** Starts everything and returns when {@code /readyz} answers 200; no OIDC, and only loopback host names. */
    public static CapstanServer start(CapstanConfig config) {
        return start(config, io.capstan.security.SecuritySettings.defaults());
    }

    /** Starts everything with {@code security}'s OIDC provider and host names, and returns when {@code /readyz} answers 200. */
    public static CapstanServer start(CapstanConfig config, io.capstan.security.SecuritySettings security) {
        return start(config, security, java.util.Optional.empty());
    }

    /** As {@link #start(CapstanConfig, io.capstan.security.SecuritySettings)}, running workloads on {@code workloads} (Kubernetes mode) where given. */
    public static CapstanServer start(CapstanConfig config, io.capstan.security.SecuritySettings security,
                                      java.util.Optional<KubernetesMode.WorkloadBackend> workloads) {
        var clock = Clock.systemUTC();
        var cleanup = new ArrayList<AutoCloseable>();
        try {
            for (var dir : List.of(config.home(), config.artifactsDir(), config.logsDir(), config.workDir())) {
                Files.createDirectories(dir);
            }
            // Read before the database opens: a malformed CAPSTAN_SECRET_KEY stops the start with a clear message.
            var secrets = new SecretSealer(secretKeys(config));
            var database = Database.open(config.dbUrl(), config.dbUser(), config.dbPassword());
            cleanup.add(database);
            // Opening the database and migrating it is the longest step of start-up; everything else overlaps it.
            var startup = Executors.newVirtualThreadPerTaskExecutor();
            cleanup.add(startup::shutdownNow);
            var migrated = startup.submit(() -> {
                database.migrate("store");
                database.migrate("metadata");
                database.migrate("security");
                database.migrate(io.capstan.registry.ModelRegistry.MIGRATIONS);
                return true;
            });
            var meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            cleanup.add(meters::close);
            new JvmMemoryMetrics().bindTo(meters);
            new JvmThreadMetrics().bindTo(meters);
            new ClassLoaderMetrics().bindTo(meters);
            new ProcessorMetrics().bindTo(meters);
            new UptimeMetrics().bindTo(meters);
            var gc = new JvmGcMetrics();
            gc.bindTo(meters);
            cleanup.add(gc);

            // Traces over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise no OpenTelemetry SDK class is even loaded.
            var traces = ServerTraces.fromEnvironment(System.getenv(), VERSION);
            cleanup.add(traces.close());
            var adminToken = io.capstan.security.AdminToken.loadOrCreate(config.home());
            var tokens = new io.capstan.security.TokenStore(database, clock);
            io.capstan.security.Authenticator authenticator = adminToken.orElse(tokens);
            if (security.oidc().isPresent()) authenticator = authenticator.orElse(new io.capstan.security.OidcAuthenticator(security.oidc().get()));
            var audit = new io.capstan.security.AuditLog(database);
            var auditFilter = new io.capstan.server.http.AuditFilter(audit, meters, clock);
            var allowedHosts = new ArrayList<>(security.allowedHosts());
            if (!loopbackHost(config.host()).equals("127.0.0.1")) allowedHosts.add(config.host());
            io.capstan.core.security.WorkloadCredentials workloadCredentials =
                    scope -> tokens.createWorkloadToken(scope, io.capstan.core.security.WorkloadCredentials.TTL).token();
            var store = new JdbiResourceStore(database, clock, meters, secrets);
            var metadata = new MetadataStore(database, clock);
            ArtifactStore configuredArtifacts;
            if (config.s3().isPresent()) {
                var s3 = new S3ArtifactStore(config.s3().get(), clock);
                cleanup.add(s3);
                s3.createBucketIfMissing();
                configuredArtifacts = s3;
            } else {
                configuredArtifacts = new LocalArtifactStore(config.artifactsDir(), clock);
            }
            // Platform metrics on /metrics; every artifact read goes through the integrity failure counter.
            var platformMetrics = new io.capstan.monitoring.PlatformMetrics(store, meters,
                    uid -> metadata.findContext("system.PipelineRun", uid).isPresent());
            var artifacts = platformMetrics.countingIntegrityFailures(configuredArtifacts);
            var registry = new io.capstan.registry.ModelRegistry(database, clock, store, artifacts, io.capstan.registry.ModelRegistry.DEFAULT_MAX_UPLOAD_BYTES, secrets, metadata);
            // Pipeline outputs, initializer data and served models reach s3:// URIs through the configured S3 settings only.
            // Cache hits' outputs checked against their digests count as artifact integrity checks too.
            var locator = ArtifactLocator.of(configuredArtifacts).withConfigured(artifacts).withIntegrityListener(platformMetrics::integrityChecked);

            // The backend is made before the controllers that react to it, so its on-finish hook reaches them
            // through this reference, set once they exist; until then a finished workload is found by the resync.
            var workloadEnded = new AtomicReference<java.util.function.Consumer<io.capstan.backend.WorkloadState>>(s -> { });
            // Per-namespace quotas from Kubeflow Profiles, shared by the backend's workloads and serving's replicas.
            var quotas = new io.capstan.core.quota.QuotaLedger();
            io.capstan.backend.Backend chosenBackend;
            MachineCapacity capacity;
            LocalBackend localBackend = null;
            java.util.Optional<io.capstan.notebooks.NotebookCluster> notebookCluster = java.util.Optional.empty();
            if (workloads.isPresent()) {
                // Kubernetes mode: the cluster schedules (gangs are admitted by the backend), so no machine limits here.
                var remote = workloads.get().open(config.workDir().resolve("kubernetes"));
                cleanup.add(remote);
                notebookCluster = workloads.get().notebooks(remote);
                chosenBackend = remote;
                capacity = new MachineCapacity(Double.MAX_VALUE, Long.MAX_VALUE / 2, Integer.MAX_VALUE / 2);
                for (var phase : io.capstan.backend.WorkloadPhase.values()) {
                    Gauge.builder("capstan.backend.workloads", remote, b -> b.list().stream().filter(w -> w.phase() == phase).count())
                            .tag("phase", phase.name()).register(meters);
                }
            } else {
                var backendOptions = LocalBackend.Options.of(config.workDir().resolve("workloads"))
                        .withOnFinish(s -> workloadEnded.get().accept(s)).withQuotas(quotas);
                localBackend = new LocalBackend(backendOptions);
                cleanup.add(localBackend);
                for (var phase : io.capstan.backend.WorkloadPhase.values()) {
                    Gauge.builder("capstan.backend.workloads", localBackend, b -> b.countsByPhase().getOrDefault(phase, 0))
                            .tag("phase", phase.name()).register(meters);
                }
                chosenBackend = localBackend;
                if (!localBackend.gpus().isEmpty()) {
                    // GPU utilisation per running job, sampled from nvidia-smi every 15 s; no GPUs found, no series.
                    var running = localBackend;
                    var gpuUtilization = new io.capstan.monitoring.GpuUtilization(meters, () -> running.list().stream()
                            .filter(w -> w.phase() == io.capstan.backend.WorkloadPhase.RUNNING && !w.gpus().isEmpty())
                            .collect(java.util.stream.Collectors.toMap(io.capstan.backend.WorkloadState::id, io.capstan.backend.WorkloadState::gpus)),
                            () -> io.capstan.monitoring.GpuUtilization.query(System.getenv().getOrDefault("PATH", ""), Duration.ofSeconds(5)));
                    var sampling = Executors.newSingleThreadScheduledExecutor(Thread.ofVirtual().name("capstan-gpu-utilization").factory());
                    sampling.scheduleWithFixedDelay(() -> {
                        try {
                            gpuUtilization.refresh();
                        } catch (RuntimeException e) {
                            LOG.log(System.Logger.Level.WARNING, "GPU utilisation not sampled: " + e.getMessage());
                        }
                    }, 0, 15, java.util.concurrent.TimeUnit.SECONDS);
                    cleanup.add(sampling::shutdownNow);
                }
                capacity = MachineCapacity.of(backendOptions, localBackend.gpus());
            }
            var replica = Replica.of(config.home(), System.getenv());
            var lease = new LeaderLease(database, "controllers", replica.leaseHolder(), clock, replica.leaseTtl());
            var controllers = new ControllerRuntime(store, lease, clock, config.resync(), meters);
            cleanup.add(controllers);
            // Local mode's backend needs start() once the controllers run; Kubernetes mode's re-adopts by label instead.
            ReplicaBackend replicaBackend = null;
            if (localBackend != null) {
                // Workloads are recorded with this replica, so that a leader elsewhere finds them lost instead of launching them again.
                replicaBackend = new ReplicaBackend(localBackend, localBackend::holdWorkloadsUntil, new io.capstan.store.WorkloadOwners(database, clock),
                        replica, lease, controllers::isLeading, clock);
                cleanup.add(replicaBackend);
            }
            var backend = replicaBackend != null ? replicaBackend : chosenBackend;

            var restricted = workloads.isPresent() ? KubernetesMode.restrict(kinds(TrainingKinds.all(store)), config.s3().isPresent()) : kinds(TrainingKinds.all(store));
            var kinds = workloads.isPresent() && notebookCluster.isEmpty() ? ClusterNotebooks.refused(restricted) : restricted;
            controllers.register(new JobReconciler(store, backend, config.workDir().resolve("jobs"), clock));
            // Steps read their run's artifacts from this server's API, known once the web server listens (before a step launches).
            var apiBase = new AtomicReference<String>("");
            // In Kubernetes mode each step is a pod whose folder crosses through S3; without S3, runs end Failed saying so.
            var pipelineRuns = workloads.isPresent() && config.s3().isPresent()
                    ? PipelineRunReconciler.staged(store, backend, metadata, config.workDir().resolve("runs"), clock, locator, traces.tracer())
                    : new PipelineRunReconciler(store, backend, metadata, config.workDir().resolve("runs"), clock,
                    LocalStepRewriter.install(config.workDir().resolve("python")), locator, workloadCredentials, apiBase::get, traces.tracer());
            controllers.register(workloads.isPresent() && config.s3().isEmpty() ? KubernetesMode.refusingPipelineRuns(store, clock) : pipelineRuns);
            controllers.register(new io.capstan.server.kfp.RecurringRunReconciler(store, clock));
            var training = new TrainingController(store, backend, capacity,
                    config.workDir().resolve("training"), clock, new MetadataModelLineage(metadata), locator, traces.tracer());
            training.reconcilers().forEach(controllers::register);
            // Status URLs name the bound port, known once the web server started (before any reconcile runs).
            var baseUrl = new AtomicReference<String>("http://" + loopbackHost(config.host()) + ":" + config.port());
            var serving = new Serving(store, artifacts, locator::findBucket,
                    config.workDir().resolve("serving"), clock, meters, baseUrl::get, Serving.Options.defaults().withQuotas(quotas).withTracer(traces.tracer()));
            cleanup.add(serving);
            // Kubernetes mode: each revision's predictor is a Deployment; the route between revisions stays here.
            if (chosenBackend instanceof io.capstan.backend.PredictorPlacement.Provider p && p.predictorPlacement() != null) {
                serving.placePredictors(p.predictorPlacement());
            }
            // model-registry:// storage URIs name a version in the registry of the InferenceService's own namespace.
            serving.resolveStorageUris(new io.capstan.serving.api.StorageUriResolver() {
                @Override
                public boolean handles(String uri) {
                    return io.capstan.registry.ModelRegistry.isRegistryUri(uri);
                }

                @Override
                public Resolution resolve(String namespace, String uri) {
                    var r = registry.resolve(uri, namespace);
                    if (!r.namespace().equals(namespace)) {
                        throw new IllegalArgumentException("an InferenceService in namespace '" + namespace + "' may only serve models of its own namespace's registry, not '" + r.namespace() + "'");
                    }
                    var source = new java.util.HashMap<String, String>(java.util.Map.of("registeredModelId", r.registeredModelId(), "modelName", r.modelName(),
                            "modelVersionId", r.modelVersionId(), "versionName", r.versionName(), "uri", uri));
                    if (r.alias() != null) source.put("alias", r.alias());
                    return new Resolution(r.storageUri(), source);
                }
            });
            controllers.register(serving.reconciler());
            controllers.register(serving.graphReconciler());
            controllers.register(serving.trainedModelReconciler());
            // Notebook servers: Kubeflow's ENABLE_CULLING, CULL_IDLE_TIME and IDLENESS_CHECK_PERIOD set the culler.
            var notebooks = new io.capstan.notebooks.Notebooks(store, backend, config.workDir().resolve("notebooks"), clock,
                    workloadCredentials, baseUrl::get, io.capstan.notebooks.NotebookSettings.fromEnvironment(System.getenv()), notebookCluster);
            controllers.register(notebooks.reconciler());
            // Drift-triggered retraining exports windows to the artifact store, registers the new models in the registry, records lineage.
            // References are read from files, the configured stores, pipeline artifacts (ML Metadata) and registry DataSets.
            var monitoring = new io.capstan.monitoring.Monitoring(store, serving, meters, clock, artifacts, new RetrainingLineage(registry, metadata),
                    locator, new ReferenceDatasets(metadata, registry));
            monitoring.reconcilers().forEach(controllers::register);
            // A canary's inputDrift check compares its inputs with its InferenceService's ModelMonitor reference.
            serving.canaryInputsAgainst(monitoring.canaryInputReference());
            // No canary rollout advances while one of its InferenceService's SLOs pages.
            serving.freezeRolloutsWhen(new io.capstan.monitoring.SloRolloutFreeze(store));

            // Migrations, the web server's start-up and the gRPC server's are independent and each takes a good part
            // of a second (mostly loading classes), so they run side by side; until all are done, API requests get 503
            // and /readyz says not ready.
            var ready = new AtomicBoolean();
            var migrationsDone = new AtomicBoolean();
            var readiness = readiness(database, migrationsDone, controllers, lease, serving);
            // Who may do what where: Profiles and RoleBindings in the store, read once the migrations ran; until then
            // the StartingFilter keeps every request that would ask away.
            var profiles = new AtomicReference<io.capstan.security.ProfileAccessPolicy>();
            io.capstan.core.security.AccessPolicy policy = (caller, namespace) -> profiles.get().roleIn(caller, namespace);
            var access = new io.capstan.server.http.Access(policy);
            WebServer web;
            OipGrpcServer grpc;
            var checkedByUi = authenticator;
            var ui = new io.capstan.ui.UiService(store, metadata, backend, policy, clock, checkedByUi::authenticate, registry, meters,
                    locator, security.oidc(), java.util.Optional.ofNullable(System.getenv("CAPSTAN_OIDC_CLIENT_SECRET")));
            cleanup.add(ui);
            try (startup) {
                var checkedBy = authenticator;
                var grpcAuth = new OipGrpcServer.Authentication(token -> checkedBy.authenticate(token).map(io.capstan.core.security.Caller::user),
                        serving.endpoint()::allowsAnonymous, (method, model, reason) -> auditFilter.grpcDenied(method, "", model, reason));
                // Who may do what where, and the namespaces' quotas: read once the migrations ran. Their first reads are
                // the store's first queries (a few hundred classes), so they too overlap the servers' start-up.
                var grantsStarted = startup.submit(() -> {
                    migrated.get();
                    return ProfileFollowers.start(store, quotas);
                });
                var grpcStarted = startup.submit(() -> startGrpc(config, serving, grpcAuth, traces.tracer()));
                var webStarted = startup.submit(() -> WebServer.builder()
                        .host(config.host())
                        .port(config.port())
                        .shutdownHook(false)
                        // Each route enforces its own limit: 4 MiB for the API, an InferenceService's own for inference.
                        .maxPayloadSize(Math.max(Bodies.MAX_BODY_BYTES, Serving.LARGEST_REQUEST_BYTES) + 1024L)
                        .shutdownGracePeriod(Duration.ofSeconds(2))
                        // A response written in more than one segment (a page's headers, then its body) otherwise waits
                        // for the client's delayed ACK: 40 ms on every UI page (bench/ui-bench.sh).
                        .connectionOptions(o -> o.tcpNoDelay(true))
                        .routing(routing -> {
                            routing.addFilter(new HttpMetricsFilter(meters));
                            routing.addFilter(new StartingFilter(ready::get));
                            routing.addFilter(auditFilter);
                            routing.addFilter(new io.capstan.server.http.BrowserGuardFilter(allowedHosts));
                            routing.addFilter(new io.capstan.server.http.AuthenticationFilter(checkedBy, config.metricsPublic(),
                                    serving.access()::allowsAnonymous));
                            routing.addFilter(notebooks.accessFilter(policy));
                            var routes = new RouteTable();
                            ProblemHandlers.register(routing, routes);
                            routes.register(routing, "", new ObservabilityApi(meters, readiness, VERSION));
                            routes.register(routing, "/apis/capstan/v1", new io.capstan.server.http.SecurityApi(tokens, audit, clock));
                            routes.register(routing, "/apis/capstan/v1", new JobLogsApi(store, backend, clock, access));
                            routes.register(routing, "/apis/capstan/v1", new TrialApi(store, backend, clock, policy));
                            routes.register(routing, "/apis/capstan/v1", new io.capstan.server.training.TrainingLogsApi(store, backend, clock, access));
                            routes.register(routing, "/apis/capstan/v1/lineage", new LineageApi(metadata, access));
                            routes.register(routing, "/apis/capstan/v1", new io.capstan.server.pipelines.RunArtifactsApi(store, locator, access));
                            routes.register(routing, "/apis/capstan/v1", new ResourceApi(store, kinds, clock, access, () -> profiles.get().refresh()));
                            routes.register(routing, "/apis/v2beta1", new io.capstan.server.kfp.KfpApi(store, metadata, backend, clock, VERSION, access));
                            routes.register(routing, "", serving.httpService(policy));
                            routes.register(routing, io.capstan.registry.ModelRegistry.BASE_PATH, registry.httpService(policy));
                            routes.register(routing, io.capstan.registry.ModelRegistry.EXTENSION_PATH, registry.extensionService(policy));
                            routes.register(routing, "", notebooks.proxy(policy));
                            routes.register(routing, "", ui);
                        })
                        // Kernels talk over WebSockets, which upgrade before the HTTP filters run: the listener checks the token.
                        .addRouting(notebooks.webSockets(checkedBy::authenticate, io.capstan.ui.UiSession::token, policy))
                        .build()
                        .start());
                ProfileFollowers grants;
                try {
                    try {
                        grpc = awaitStartup(grpcStarted, "the gRPC server on " + config.host() + ":" + config.grpcPort());
                    } catch (RuntimeException e) {
                        stopOnceStarted(webStarted);
                        throw e;
                    }
                    cleanup.add(grpc);
                    web = awaitStartup(webStarted, "the HTTP server on " + config.host() + ":" + config.port());
                    cleanup.add(web::stop);
                    baseUrl.set("http://" + loopbackHost(config.host()) + ":" + web.port());
                    apiBase.set(baseUrl.get() + "/apis/capstan/v1");
                    awaitStartup(migrated, "the database migrations on " + io.capstan.store.Database.describe(config.dbUrl()));
                    migrationsDone.set(true);
                    grants = awaitStartup(grantsStarted, "the Profiles' access grants and quotas");
                } catch (RuntimeException e) {
                    closeOnceStarted(grantsStarted);
                    throw e;
                }
                cleanup.add(grants.access());
                profiles.set(grants.access());
                // Before any controller runs, so that no work is admitted past a quota the store already holds.
                cleanup.add(grants.quotas());
                // Registry webhooks: each event tried 8 times, backing off from 1 s (about 4 minutes in all).
                cleanup.add(registry.startWebhooks(8, Duration.ofSeconds(1)));
                cleanup.add(registry.startSync());
                // Models made by register-model steps, and by training jobs and experiments annotated to register theirs.
                cleanup.add(registry.startRegistrations());
            }
            // Trials report observations to this server's API, so the experiment controller needs its bound port.
            var experiments = new ExperimentReconciler(store, backend, config.workDir().resolve("tuning"), clock,
                    URI.create("http://" + loopbackHost(config.host()) + ":" + web.port() + "/apis/capstan/v1"), workloadCredentials, traces.tracer());
            controllers.register(experiments);
            // A finished workload wakes its owner at once instead of at the owner's next poll.
            workloadEnded.set(s -> {
                pipelineRuns.findRun(s.id()).ifPresent(controllers::enqueue);
                experiments.findExperiment(s.id()).ifPresent(controllers::enqueue);
                training.findJob(s.id()).ifPresent(controllers::enqueue);
                notebooks.findNotebook(s.id()).ifPresent(controllers::enqueue);
            });
            if (replicaBackend != null) replicaBackend.start();
            controllers.start();
            // Models load on every replica: a server that does not lead serves what the leader made ready.
            serving.followWhileNotLeading(controllers::isLeading, config.resync());
            awaitControllers(controllers, lease);
            var server = new CapstanServer(config, store, metadata, artifacts, web, grpc, cleanup, database, controllers, serving, tokens, audit);
            ready.set(true);
            ui.warmUp();
            Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(server::close));
            return server;
        } catch (IOException e) {
            closeAll(cleanup);
            throw new UncheckedIOException("cannot create Capstan's home folders under " + config.home() + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeAll(cleanup);
            throw e;
        }
    }

    /** The keys that encrypt Secrets: {@code home/keys}, with {@code CAPSTAN_SECRET_KEY} as the current one when set. */
    static SecretKeyRing secretKeys(CapstanConfig config) {
        return SecretKeyRing.load(config.home().resolve("keys"),
                config.secretKey().isEmpty() ? java.util.Map.of() : java.util.Map.of(SecretKeyRing.ENV, config.secretKey()));
    }

    /** What {@link #rotateSecretKey} did. */
    public record KeyRotation(String newKeyId, int rewrittenRows, java.util.Set<String> retiredKeyIds) {
    }

    /**
     * Makes a new key current, re-encrypts every stored Secret (and every Secret in the change feed) and registry webhook secret with it, then
     * deletes the old keys no row uses any more. Run it while no server uses the database: a running server keeps the
     * keys it read at start. Crash-safe: until the last step the old keys stay on disk, so a rotation stopped
     * half-way leaves every Secret readable, and running it again finishes the job (with yet another key).
     */
    public static KeyRotation rotateSecretKey(CapstanConfig config) {
        var ring = secretKeys(config).rotate();
        try (var database = Database.open(config.dbUrl(), config.dbUser(), config.dbPassword())) {
            database.migrate("store");
            var sealer = new SecretSealer(ring);
            var store = new JdbiResourceStore(database, Clock.systemUTC(), new io.micrometer.core.instrument.composite.CompositeMeterRegistry(), sealer);
            int rewritten = store.resealSecrets(sealer);
            // Registry webhook secrets are sealed with the same keys.
            database.migrate(io.capstan.registry.ModelRegistry.MIGRATIONS);
            rewritten += io.capstan.registry.ModelRegistry.resealWebhookSecrets(database, sealer);
            var inUse = new java.util.TreeSet<>(store.secretKeyIdsInUse());
            inUse.addAll(io.capstan.registry.ModelRegistry.webhookSecretKeyIds(database));
            var retired = ring.retire(inUse);
            return new KeyRotation(ring.currentKeyId(), rewritten, retired);
        }
    }

    private static <T> T awaitStartup(java.util.concurrent.Future<T> step, String what) {
        try {
            return step.get(STARTUP_TIMEOUT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException("starting " + what + " failed: " + e.getCause().getMessage(), e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new io.capstan.core.TransientException("starting " + what + " took longer than " + STARTUP_TIMEOUT, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting " + what, e);
        }
    }

    /** Access grants and quotas kept equal to the store's Profiles (and RoleBindings) by their change-feed watchers. */
    private record ProfileFollowers(io.capstan.security.ProfileAccessPolicy access, io.capstan.store.ProfileQuotas quotas) {
        static ProfileFollowers start(ResourceStore store, io.capstan.core.quota.QuotaLedger ledger) {
            var access = io.capstan.security.ProfileAccessPolicy.start(store);
            try {
                return new ProfileFollowers(access, new io.capstan.store.ProfileQuotas(store, ledger).start());
            } catch (RuntimeException e) {
                access.close();
                throw e;
            }
        }
    }

    /** Closes the followers once their start, which runs on, has finished; for a start-up that failed elsewhere. */
    private static void closeOnceStarted(java.util.concurrent.Future<ProfileFollowers> started) {
        try {
            var followers = started.get(STARTUP_TIMEOUT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
            followers.quotas().close();
            followers.access().close();
        } catch (Exception e) {
            LOG.log(Level.DEBUG, "the Profiles' followers did not start either", e);
        }
    }

    /** Stops the web server once its start-up, which runs on, has finished; for a start-up that failed elsewhere. */
    private static void stopOnceStarted(java.util.concurrent.Future<WebServer> webStarted) {
        try {
            webStarted.get(STARTUP_TIMEOUT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS).stop();
        } catch (Exception e) {
            LOG.log(Level.DEBUG, "the web server did not start either", e);
        }
    }

    private static OipGrpcServer startGrpc(CapstanConfig config, Serving serving, OipGrpcServer.Authentication auth,
                                           io.opentelemetry.api.trace.Tracer tracer) {
        try {
            return OipGrpcServer.start(serving.endpoint(), config.host(), config.grpcPort(), OipGrpcServer.Options.defaults().withAuthentication(auth).withTracer(tracer));
        } catch (UncheckedIOException e) {
            throw new IllegalStateException("cannot serve the Open Inference Protocol's gRPC on " + config.host() + ":" + config.grpcPort()
                    + ": " + e.getMessage() + "; stop the other process or choose another port (--grpc-port, CAPSTAN_GRPC_PORT)", e);
        }
    }

    /** Where local clients reach a server bound to {@code host}: loopback for a wildcard address. */
    private static String loopbackHost(String host) {
        return host.equals("0.0.0.0") || host.equals("::") || host.isEmpty() ? "127.0.0.1" : host;
    }

    /**
     * What {@code /readyz} checks: the database answers, its migrations ran, this replica's controllers run and lead
     * or follow a live leader, and the model server runs.
     */
    private static Readiness readiness(Database database, AtomicBoolean migrationsDone, ControllerRuntime controllers,
                                       LeaderLease lease, Serving serving) {
        return new Readiness(READINESS_TIMEOUT)
                .with("database", () -> {
                    database.jdbi().withHandle(h -> h.createQuery("SELECT 1").mapTo(Integer.class).one());
                    return Readiness.Outcome.pass(database.dialect().name().toLowerCase(java.util.Locale.ROOT) + " answers");
                })
                .with("migrations", () -> migrationsDone.get()
                        ? Readiness.Outcome.pass("the store and metadata schemas are migrated")
                        : Readiness.Outcome.fail("the database migrations are still running"))
                .with("controllers", () -> controllersState(controllers, lease))
                .with("serving", () -> serving.endpoint().serverReady()
                        ? Readiness.Outcome.pass("the model server runs")
                        : Readiness.Outcome.fail("the model server is shut down"));
    }

    private static Readiness.Outcome controllersState(ControllerRuntime controllers, LeaderLease lease) {
        if (!controllers.isRunning()) return Readiness.Outcome.fail("the controller runtime is not running");
        if (controllers.isLeading()) return Readiness.Outcome.pass("this replica leads the controllers");
        return lease.liveHolder()
                .map(holder -> Readiness.Outcome.pass("following the live leader " + holder))
                .orElse(Readiness.Outcome.fail("no replica holds the '" + lease.name() + "' lease"));
    }

    /** Waits for the controllers' first lease round (a few milliseconds), so that start() returns ready. */
    private static void awaitControllers(ControllerRuntime controllers, LeaderLease lease) {
        long deadline = System.nanoTime() + lease.ttl().toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (controllersState(controllers, lease).passed()) return;
            } catch (RuntimeException e) {
                // The database hiccuped; /readyz reports it if it lasts.
            }
            java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(2).toNanos());
        }
        LOG.log(Level.WARNING, "the controllers took no lease within " + lease.ttl() + "; /readyz says not ready until they do");
    }

    Database database() {
        return database;
    }

    ControllerRuntime controllers() {
        return controllers;
    }

    Serving serving() {
        return serving;
    }

    /** Users' and workloads' API tokens. */
    public io.capstan.security.TokenStore tokens() {
        return tokens;
    }

    /** The audit log of mutating and refused requests. */
    public io.capstan.security.AuditLog audit() {
        return audit;
    }

    public int port() {
        return web.port();
    }

    /** The port of the Open Inference Protocol's gRPC service. */
    public int grpcPort() {
        return grpc.port();
    }

    /** The base URL, such as {@code http://127.0.0.1:8080}. */
    public String url() {
        return "http://" + config.host() + ":" + port();
    }

    public CapstanConfig config() {
        return config;
    }

    public ResourceStore store() {
        return store;
    }

    public MetadataStore metadata() {
        return metadata;
    }

    public ArtifactStore artifacts() {
        return artifacts;
    }

    /** Blocks until the server is shut down (by {@link #close} or a JVM shutdown signal). */
    public void awaitTermination() throws InterruptedException {
        terminated.await();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        // The web server stops first (it was started last), then controllers, the backend and the database.
        closeAll(resources);
        terminated.countDown();
    }

    private static void closeAll(List<AutoCloseable> resources) {
        RuntimeException failure = null;
        for (var r : resources.reversed()) {
            try {
                r.close();
            } catch (Exception e) {
                if (failure == null) failure = new IllegalStateException("shutdown failed", e);
                else failure.addSuppressed(e);
            }
        }
        if (failure != null) LOG.log(Level.WARNING, "shutdown was not clean", failure);
    }

    private static String versionFromManifest() {
        var v = CapstanServer.class.getPackage().getImplementationVersion();
        return v == null ? "0.1.0-SNAPSHOT" : v;
    }
}
