package io.capstan.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.Names;
import io.capstan.core.Problems;
import java.util.List;
import java.util.Locale;

/**
 * What of an InferenceService the Kubernetes backend refuses: each revision's predictor runs as a Deployment with
 * a Service and an HPA, so the model must be where a pod can fetch it, in a format Capstan's model server image serves
 * (or in a custom container), and scaled on a metric an HPA measures.
 */
final class KubernetesServing {
    private static final List<String> FORMATS = List.of("onnx", "xgboost", "lightgbm");
    private static final String WHY = " on the Kubernetes backend, where each revision's predictor is a Deployment";

    private KubernetesServing() {
    }

    static void inferenceService(ObjectNode spec, Problems problems) {
        for (var component : List.of("transformer", "explainer")) {
            if (spec.has(component)) {
                problems.add("spec." + component, component + "s run in the server's process, which the Kubernetes backend does not yet place"
                        + KubernetesMode.LOCAL_ONLY);
            }
        }
        var predictor = spec.path("predictor");
        var metric = predictor.path("scaleMetric");
        if (metric.isTextual() && !metric.asText().equals("cpu") && !metric.asText().equals("memory")) {
            problems.add("spec.predictor.scaleMetric", "'" + Names.printable(metric.asText()) + "' cannot be measured by the HorizontalPodAutoscaler"
                    + WHY + "; use cpu or memory");
        }
        if (predictor.has("containers")) return;
        JsonNode model;
        String at;
        String format;
        if (predictor.has("model")) {
            model = predictor.get("model");
            at = "spec.predictor.model";
            format = model.path("modelFormat").path("name").asText("").toLowerCase(Locale.ROOT);
            if (!format.isEmpty() && !FORMATS.contains(format)) {
                problems.add(at + ".modelFormat.name", "Capstan's model server image serves " + FORMATS + ", not '" + Names.printable(format) + "'"
                        + WHY + "; give predictor.containers to run another server");
            }
        } else {
            var shorthand = FORMATS.stream().filter(predictor::has).findFirst();
            if (shorthand.isEmpty()) {
                var field = new java.util.ArrayList<String>();
                predictor.fieldNames().forEachRemaining(field::add);
                field.retainAll(List.of("sklearn", "tensorflow", "pytorch", "triton", "huggingface", "pmml", "paddle", "mlflow"));
                if (!field.isEmpty()) {
                    problems.add("spec.predictor." + field.getFirst(), "Capstan's model server image serves " + FORMATS + WHY
                            + "; give predictor.containers to run another server");
                }
                return;
            }
            model = predictor.get(shorthand.get());
            at = "spec.predictor." + shorthand.get();
        }
        var uri = model.path("storageUri").asText("");
        if (uri.startsWith("/") || uri.startsWith("file:") || uri.startsWith("capstan:")) {
            problems.add(at + ".storageUri", "'" + Names.printable(uri) + "' is on Capstan's machine, which a pod cannot read" + WHY
                    + "; use s3://, gs://, https:// or pvc://");
        }
    }
}
