package io.capstan.training;

import io.capstan.artifacts.ArtifactLocator;
import io.capstan.artifacts.ArtifactStore;
import io.capstan.backend.Backend;
import io.capstan.core.ResourceKey;
import io.capstan.store.Reconciler;
import io.capstan.store.ResourceStore;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Runs training jobs (TrainJob, PyTorchJob, XGBoostJob; TFJob, MPIJob, PaddleJob and JAXJob are refused with a
 * reason) on the backend, one workload per rank, admitted as a gang.
 *
 * <pre>{@code
 * var training = new TrainingController(store, backend, MachineCapacity.of(options, backend.gpus()),
 *         workDir.resolve("training"), clock, new MetadataModelLineage(metadata));
 * training.reconcilers().forEach(controllers::register);
 * onFinish: training.findJob(state.id()).ifPresent(controllers::enqueue);
 * }</pre>
 */
public final class TrainingController {
    private final ResourceStore store;
    private final Backend backend;
    private final MachineCapacity capacity;
    private final Path workRoot;
    private final Clock clock;
    private final ModelLineage lineage;
    private final Optional<ArtifactLocator> artifacts;
    private final io.capstan.core.ConfigResolver configs;
    /** Job uid to key, filled by every reconcile, read by {@link #findJob}; thread-safe. */
    private final Map<String, ResourceKey> owners = new ConcurrentHashMap<>();
    /** Held while a job checks what other gangs hold and records its own admission, so two gangs never both fit. */
    private final ReentrantLock admission = new ReentrantLock();
    private final JobSpans spans;

    /** A controller whose TrainJobs may not use s3:// or capstan:// initializers (they fail with that reason). */
    public TrainingController(ResourceStore store, Backend backend, MachineCapacity capacity, Path workRoot, Clock clock, ModelLineage lineage) {
        this(store, backend, capacity, workRoot, clock, lineage, Optional.empty(), io.capstan.core.tracing.Traces.off());
    }

    /**
     * A controller that copies capstan:// initializer data from {@code artifacts} before a job starts, and s3:// data
     * only when {@code artifacts} is in S3 (through its endpoint and credentials, from the bucket the URI names).
     */
    public TrainingController(ResourceStore store, Backend backend, MachineCapacity capacity, Path workRoot, Clock clock, ModelLineage lineage,
                              ArtifactStore artifacts) {
        this(store, backend, capacity, workRoot, clock, lineage, ArtifactLocator.of(artifacts));
    }

    /** A controller that copies s3:// and capstan:// initializer data from where {@code artifacts} says before a job starts. */
    public TrainingController(ResourceStore store, Backend backend, MachineCapacity capacity, Path workRoot, Clock clock, ModelLineage lineage,
                              ArtifactLocator artifacts) {
        this(store, backend, capacity, workRoot, clock, lineage, Optional.of(artifacts), io.capstan.core.tracing.Traces.off());
    }

    /** As the constructor above, with a span per job from {@code tracer}, whose context every rank finds in {@code TRACEPARENT}. */
    public TrainingController(ResourceStore store, Backend backend, MachineCapacity capacity, Path workRoot, Clock clock, ModelLineage lineage,
                              ArtifactLocator artifacts, io.opentelemetry.api.trace.Tracer tracer) {
        this(store, backend, capacity, workRoot, clock, lineage, Optional.of(artifacts), tracer);
    }

    private TrainingController(ResourceStore store, Backend backend, MachineCapacity capacity, Path workRoot, Clock clock, ModelLineage lineage,
                               Optional<ArtifactLocator> artifacts, io.opentelemetry.api.trace.Tracer tracer) {
        this.spans = new JobSpans(tracer);
        this.artifacts = artifacts;
        this.store = Objects.requireNonNull(store, "store");
        this.backend = Objects.requireNonNull(backend, "backend");
        this.capacity = Objects.requireNonNull(capacity, "capacity");
        this.workRoot = Objects.requireNonNull(workRoot, "workRoot");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.lineage = Objects.requireNonNull(lineage, "lineage");
        this.configs = new io.capstan.core.ConfigResolver(io.capstan.core.ConfigResolver.Source.of(store::find));
    }

    /** One reconciler per job kind in {@link TrainingKinds#JOB_KINDS}, to register with the controller runtime. */
    public List<Reconciler> reconcilers() {
        return TrainingKinds.JOB_KINDS.stream().<Reconciler>map(k -> reconciler(k.kind())).toList();
    }

    /** The reconciler of one job kind, such as {@code PyTorchJob}. */
    public Reconciler reconciler(String kind) {
        if (!TrainingKinds.isJobKind(kind)) throw new IllegalArgumentException(kind + " is not a training job kind");
        return new TrainingJobReconciler(kind, this);
    }

    /**
     * The job that owns {@code workloadId}, for the backend's on-finish hook: known once the job has been reconciled
     * by this controller (after a restart, the first resync fills it in).
     */
    public Optional<ResourceKey> findJob(String workloadId) {
        return TrainingWorkloads.ownerUid(workloadId).map(owners::get);
    }

    /** Reads the Secrets and ConfigMaps that job containers reference. */
    io.capstan.core.ConfigResolver configs() {
        return configs;
    }

    ResourceStore store() {
        return store;
    }

    Backend backend() {
        return backend;
    }

    MachineCapacity capacity() {
        return capacity;
    }

    Clock clock() {
        return clock;
    }

    ModelLineage lineage() {
        return lineage;
    }

    Optional<ArtifactLocator> artifacts() {
        return artifacts;
    }

    JobSpans spans() {
        return spans;
    }

    ReentrantLock admission() {
        return admission;
    }

    void remember(String uid, ResourceKey key) {
        owners.put(uid, key);
    }

    void forget(String uid) {
        owners.remove(uid);
    }

    /** {@code <workRoot>/<namespace>/<name>-<uid>}: a re-created job of the same name gets a fresh folder. */
    Path jobDir(io.capstan.core.Resource job) {
        return workRoot.resolve(job.metadata().namespace()).resolve(job.metadata().name() + "-" + job.metadata().uid());
    }

    TrainingKinds.RuntimeCatalog runtimes() {
        return new TrainingKinds.RuntimeCatalog(store);
    }
}
