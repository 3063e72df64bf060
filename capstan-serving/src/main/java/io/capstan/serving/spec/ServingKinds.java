package io.capstan.serving.spec;

import io.capstan.core.ResourceKind;
import java.util.List;

/** The KServe kinds Capstan accepts, with their validators. */
public final class ServingKinds {
    public static final String GROUP = "serving.kserve.io";
    public static final String INFERENCE_SERVICE = "InferenceService";
    public static final String SERVING_RUNTIME = "ServingRuntime";
    public static final String CLUSTER_SERVING_RUNTIME = "ClusterServingRuntime";
    public static final String INFERENCE_GRAPH = "InferenceGraph";
    public static final String TRAINED_MODEL = "TrainedModel";

    public static final ResourceKind INFERENCE_SERVICE_KIND = new ResourceKind(GROUP, List.of("v1beta1"), INFERENCE_SERVICE,
            "inferenceservices", List.of("isvc"), (spec, problems) -> InferenceServiceSpec.parse(spec, problems));
    public static final ResourceKind SERVING_RUNTIME_KIND = new ResourceKind(GROUP, List.of("v1alpha1", "v1beta1"), SERVING_RUNTIME,
            "servingruntimes", List.of("sr"), (spec, problems) -> ServingRuntimeSpec.parse(spec, problems));
    public static final ResourceKind CLUSTER_SERVING_RUNTIME_KIND = new ResourceKind(GROUP, List.of("v1alpha1", "v1beta1"),
            CLUSTER_SERVING_RUNTIME, "clusterservingruntimes", List.of("csr"), (spec, problems) -> ServingRuntimeSpec.parse(spec, problems));
    public static final ResourceKind INFERENCE_GRAPH_KIND = new ResourceKind(GROUP, List.of("v1alpha1"), INFERENCE_GRAPH,
            "inferencegraphs", List.of("ig"), (spec, problems) -> InferenceGraphSpec.parse(spec, problems));

    public static final ResourceKind TRAINED_MODEL_KIND = new ResourceKind(GROUP, List.of("v1alpha1"), TRAINED_MODEL,
            "trainedmodels", List.of("tm"), (spec, problems) -> TrainedModelSpec.parse(spec, problems));

    private ServingKinds() {
    }

    /** Every kind of this module, to add to the server's {@code ResourceKinds}. */
    public static List<ResourceKind> all() {
        return List.of(INFERENCE_SERVICE_KIND, SERVING_RUNTIME_KIND, CLUSTER_SERVING_RUNTIME_KIND, INFERENCE_GRAPH_KIND,
                TRAINED_MODEL_KIND);
    }
}
