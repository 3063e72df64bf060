package io.capstan.training;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.Json;
import io.capstan.core.ObjectMeta;
import io.capstan.core.Resource;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The ClusterTrainingRuntimes every Capstan has without anyone applying them, named as Kubeflow's:
 * {@code torch-distributed} (torch.distributed; the TrainJob brings the command) and {@code xgboost-distributed}
 * (XGBoost's collective; without a command it runs Capstan's Java worker, {@code XGBoostWorker}, on each node).
 * A runtime of the same name stored by a user takes precedence.
 */
public final class BuiltInRuntimes {
    public static final String TORCH_DISTRIBUTED = "torch-distributed";
    public static final String XGBOOST_DISTRIBUTED = "xgboost-distributed";
    public static final List<String> NAMES = List.of(TORCH_DISTRIBUTED, XGBOOST_DISTRIBUTED);

    private static final Map<String, Resource> RUNTIMES = Map.of(
            TORCH_DISTRIBUTED, runtime(TORCH_DISTRIBUTED, "torch", "pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime"),
            XGBOOST_DISTRIBUTED, runtime(XGBOOST_DISTRIBUTED, "xgboost", "ghcr.io/kubeflow/trainer/xgboost-runtime"));

    private BuiltInRuntimes() {
    }

    /** The built-in ClusterTrainingRuntime named {@code name}. */
    public static Optional<Resource> find(String name) {
        return Optional.ofNullable(RUNTIMES.get(name));
    }

    public static List<Resource> all() {
        return NAMES.stream().map(RUNTIMES::get).toList();
    }

    private static Resource runtime(String name, String policy, String image) {
        var spec = Json.json().createObjectNode();
        var ml = spec.putObject("mlPolicy");
        ml.put("numNodes", 1);
        ml.putObject(policy);
        ObjectNode container = spec.putObject("template").putObject("spec").putArray("replicatedJobs").addObject()
                .put("name", TrainJobs.NODE)
                .putObject("template").putObject("spec").putObject("template").putObject("spec").putArray("containers").addObject();
        container.put("name", TrainJobs.NODE).put("image", image);
        var meta = ObjectMeta.named(ObjectMeta.DEFAULT_NAMESPACE, name).withLabels(Map.of("trainer.kubeflow.org/framework", policy));
        return Resource.of(TrainJobs.GROUP + "/v1alpha1", TrainingKinds.CLUSTER_TRAINING_RUNTIME.kind(), meta, spec);
    }
}
