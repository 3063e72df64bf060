package io.capstan.training;

import io.capstan.core.Resource;
import io.capstan.core.ResourceKind;
import io.capstan.store.ListQuery;
import io.capstan.store.LabelSelector;
import io.capstan.store.ResourceStore;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The training kinds Capstan accepts: Trainer's v1alpha1 TrainJob and runtimes, and the training-operator's v1 jobs.
 * PyTorchJob, XGBoostJob and TrainJob (torch and xgboost runtimes) run; TFJob, MPIJob, PaddleJob and JAXJob are
 * validated and then refused at run time with the reason in their Failed condition.
 */
public final class TrainingKinds {
    public static final String V1_GROUP = "kubeflow.org";

    public static final ResourceKind TRAIN_JOB = new ResourceKind(TrainJobs.GROUP, List.of("v1alpha1"), "TrainJob", "trainjobs",
            List.of("trainjob", "tj"), TrainJobs::validateTrainJob);
    public static final ResourceKind TRAINING_RUNTIME = new ResourceKind(TrainJobs.GROUP, List.of("v1alpha1"), "TrainingRuntime",
            "trainingruntimes", List.of("trainingruntime"), TrainJobs::validateRuntime);
    public static final ResourceKind CLUSTER_TRAINING_RUNTIME = new ResourceKind(TrainJobs.GROUP, List.of("v1alpha1"),
            "ClusterTrainingRuntime", "clustertrainingruntimes", List.of("clustertrainingruntime", "ctr"), TrainJobs::validateRuntime);
    public static final ResourceKind PYTORCH_JOB = v1(V1Jobs.Kind.PYTORCH, List.of("v1"), "pytorchjob");
    public static final ResourceKind XGBOOST_JOB = v1(V1Jobs.Kind.XGBOOST, List.of("v1", "v1alpha1"), "xgboostjob");
    public static final ResourceKind TF_JOB = v1(V1Jobs.Kind.TF, List.of("v1"), "tfjob");
    public static final ResourceKind MPI_JOB = v1(V1Jobs.Kind.MPI, List.of("v1"), "mpijob");
    public static final ResourceKind PADDLE_JOB = v1(V1Jobs.Kind.PADDLE, List.of("v1"), "paddlejob");
    public static final ResourceKind JAX_JOB = v1(V1Jobs.Kind.JAX, List.of("v1"), "jaxjob");

    /** Kinds whose resources are jobs that a {@link TrainingReconciler} reconciles. */
    public static final List<ResourceKind> JOB_KINDS = List.of(TRAIN_JOB, PYTORCH_JOB, XGBOOST_JOB, TF_JOB, MPI_JOB, PADDLE_JOB, JAX_JOB);

    private TrainingKinds() {
    }

    /** Every training kind, with structural validation only. */
    public static List<ResourceKind> all() {
        return List.of(TRAIN_JOB, TRAINING_RUNTIME, CLUSTER_TRAINING_RUNTIME, PYTORCH_JOB, XGBOOST_JOB, TF_JOB, MPI_JOB, PADDLE_JOB, JAX_JOB);
    }

    /**
     * Every training kind, where TrainJob's validator also rejects a {@code runtimeRef} that names neither a built-in
     * runtime nor one stored in {@code store} (at {@code spec.runtimeRef.name}). The server registers these.
     */
    public static List<ResourceKind> all(ResourceStore store) {
        Objects.requireNonNull(store, "store");
        var runtimes = new RuntimeCatalog(store);
        var trainJob = new ResourceKind(TRAIN_JOB.group(), TRAIN_JOB.versions(), TRAIN_JOB.kind(), TRAIN_JOB.plural(), TRAIN_JOB.shortNames(),
                (spec, problems) -> TrainJobs.validateTrainJob(spec, problems, runtimes::findAnywhere));
        return List.of(trainJob, TRAINING_RUNTIME, CLUSTER_TRAINING_RUNTIME, PYTORCH_JOB, XGBOOST_JOB, TF_JOB, MPI_JOB, PADDLE_JOB, JAX_JOB);
    }

    public static boolean isJobKind(String kind) {
        return JOB_KINDS.stream().anyMatch(k -> k.kind().equals(kind));
    }

    private static ResourceKind v1(V1Jobs.Kind kind, List<String> versions, String shortName) {
        return new ResourceKind(V1_GROUP, versions, kind.kind, kind.plural, List.of(shortName),
                (spec, problems) -> V1Jobs.validate(kind, spec, problems));
    }

    /** Finds runtimes: stored ones first, then built-ins. */
    record RuntimeCatalog(ResourceStore store) {
        /** The runtime a TrainJob in {@code namespace} names. */
        Optional<Resource> find(String namespace, TrainJobs.RuntimeRef ref) {
            if (ref.kind().equals(TRAINING_RUNTIME.kind())) {
                return store.find(new io.capstan.core.ResourceKey(ref.kind(), namespace, ref.name()));
            }
            return findAnywhere(ref);
        }

        /** For validation, which does not know the TrainJob's namespace: any namespace will do. */
        Optional<Resource> findAnywhere(TrainJobs.RuntimeRef ref) {
            var stored = store.list(new ListQuery(ref.kind(), Optional.empty(), LabelSelector.EVERYTHING, ListQuery.MAX_LIMIT, Optional.empty()))
                    .items().stream().filter(r -> r.metadata().name().equals(ref.name())).findFirst();
            if (stored.isPresent()) return stored;
            return ref.kind().equals(CLUSTER_TRAINING_RUNTIME.kind()) ? BuiltInRuntimes.find(ref.name()) : Optional.empty();
        }
    }
}
