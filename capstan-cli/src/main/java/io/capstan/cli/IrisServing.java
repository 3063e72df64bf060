package io.capstan.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/**
 * Quickstart's last step: the ONNX model the iris pipeline exported, served as an InferenceService, asked for one
 * prediction over the Open Inference Protocol, with the curl command for the next one.
 */
final class IrisServing {
    static final String NAME = "iris";
    static final Duration DEADLINE = Duration.ofMinutes(2);
    /** An iris virginica flower, in cm. */
    static final Map<String, Double> FLOWER = Map.of("sepal_length", 6.7, "sepal_width", 3.0, "petal_length", 5.2, "petal_width", 2.3);

    private final CapstanClient client;
    private final PrintWriter out;

    IrisServing(CapstanClient client, PrintWriter out) {
        this.client = client;
        this.out = out;
    }

    /**
     * Deploys the exported model and predicts once; true if both worked.
     *
     * @param model the pipeline's ONNX artifact: its uri, and metadata naming the input's feature order and the classes
     */
    boolean run(JsonNode model, String runUid) {
        var modelUri = model.path("uri").asText();
        var features = new java.util.ArrayList<String>();
        model.path("metadata").path("feature_names").forEach(f -> features.add(f.asText()));
        if (features.isEmpty() || !FLOWER.keySet().containsAll(features)) {
            out.println("The exported model's features " + features + " are not the iris measurements; not deploying it.");
            return false;
        }
        var request = Json.json().createObjectNode();
        var input = request.putArray("inputs").addObject();
        input.put("name", model.path("metadata").path("input_name").asText("input"));
        input.put("datatype", "FP32");
        input.putArray("shape").add(1).add(features.size());
        var data = input.putArray("data");
        features.forEach(f -> data.add(FLOWER.get(f)));
        // The pipeline's register-model step put the model in the registry; the InferenceService serves whatever its champion alias names.
        var version = registered(runUid);
        if (version.isEmpty()) {
            out.println("The model registry did not record the version the pipeline's register-model step asked for within " + DEADLINE.toSeconds() + " s.");
            return false;
        }
        var registered = version.get().path("name").asText();
        out.println("The pipeline registered the model as " + NAME + " " + registered + " in the model registry (from " + modelUri + "), alias " + ALIAS
                + "; serving " + REGISTRY_URI + ".");
        var resource = ServeCommand.inferenceService(NAME, "onnx", REGISTRY_URI);
        client.apply(resource.toString().getBytes(StandardCharsets.UTF_8), "application/json", ExampleRun.NAMESPACE, "quickstart");
        var settled = ServeCommand.awaitSettled(client, ExampleRun.NAMESPACE, NAME, DEADLINE);
        var phase = settled.map(i -> i.path("status").path("phase").asText("")).orElse("");
        if (!phase.equals("Ready")) {
            out.println("The iris model did not become ready (" + (phase.isEmpty() ? "still loading" : phase) + ").");
            return false;
        }
        var isvc = settled.get();
        var url = isvc.path("status").path("components").path("predictor").path("url").asText();
        var answer = client.postJson("/serving/" + ExampleRun.NAMESPACE + "/v2/models/" + NAME + "/infer",
                request.toString().getBytes(StandardCharsets.UTF_8), "quickstart");
        out.println("The exported ONNX model serves as InferenceService " + NAME + " at " + url + " (" + NAME + " " + registered + ", resolved "
                + isvc.path("status").path("modelSource").path("storageUri").asText("?") + ").");
        out.println("  a virginica flower (sepal 6.7 x 3.0 cm, petal 5.2 x 2.3 cm) is predicted " + predictedClass(answer, model.path("metadata").path("class_names")));
        out.println("  another one: curl -s -H 'Content-Type: application/json' -d '" + request + "' " + url + "/infer");
        out.println();
        printLineage(version.get().path("id").asText());
        return true;
    }

    static final String ALIAS = "champion";
    static final String REGISTRY_URI = "model-registry://" + NAME + "@" + ALIAS;

    /**
     * The version the pipeline's register-model step registered: the registry records it once the step succeeded, with
     * externalId {@code kfp:RUN_UID:TASK}. Empty if it did not appear within {@link #DEADLINE}.
     */
    private java.util.Optional<JsonNode> registered(String runUid) {
        var ns = "?namespace=" + ExampleRun.NAMESPACE;
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                var modelId = client.call("GET", ModelsCommand.API + "/registered_model" + ns + "&name=" + NAME, null).path("id").asText();
                var filter = java.net.URLEncoder.encode("externalId LIKE \"kfp:" + runUid + ":%\"", StandardCharsets.UTF_8);
                var found = client.call("GET", ModelsCommand.API + "/registered_models/" + modelId + "/versions" + ns + "&filterQuery=" + filter, null);
                // Complete once its alias moved and its lineage is written, which the registry marks on the version.
                if (found.path("size").asInt() > 0 && found.path("items").get(0).path("customProperties").has("capstan_registration")) {
                    return java.util.Optional.of(found.path("items").get(0));
                }
            } catch (ApiException e) {
                if (e.status() != 404) throw e;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return java.util.Optional.empty();
            }
        }
        return java.util.Optional.empty();
    }

    /** Prints the version's lineage from the registry: datasets, run and steps, version, serving revisions. */
    void printLineage(String versionId) {
        var path = ModelsCommand.EXTENSION + "/model_versions/" + versionId + "/lineage";
        var lineage = client.call("GET", path + "?namespace=" + ExampleRun.NAMESPACE, null);
        out.println("Its lineage, from data to endpoint (GET " + path + "):");
        for (var link : lineage.path("chain")) {
            var type = link.path("type").asText();
            var line = switch (type) {
                case "dataset" -> "dataset          " + link.path("name").asText() + (link.path("name").asText().equals(link.path("uri").asText()) ? "" : " " + link.path("uri").asText());
                case "pipelineRun" -> "pipeline run     " + link.path("name").asText() + " (uid " + link.path("uid").asText() + ")";
                case "step" -> "  step           " + link.path("name").asText();
                case "trainingJob" -> "training job     " + link.path("name").asText();
                case "trial" -> "Katib trial      " + link.path("name").asText();
                case "modelVersion" -> "model version    " + link.path("name").asText() + " (id " + link.path("id").asText() + ")";
                case "inferenceService" -> "endpoint         InferenceService " + link.path("name").asText()
                        + (link.has("revision") ? ", revision " + link.path("revision").asText() : "") + (link.path("serving").asBoolean() ? ", serving it" : ", served it before");
                default -> type + " " + link.path("name").asText();
            };
            out.println("  " + line);
        }
        out.flush();
    }

    /** The class with the highest score, such as {@code virginica (0.97)}, or the raw scores when classes are unnamed. */
    static String predictedClass(JsonNode answer, JsonNode classNames) {
        var scores = answer.path("outputs").path(0).path("data");
        if (!scores.isArray() || scores.isEmpty()) return answer.toString();
        int best = 0;
        for (int i = 1; i < scores.size(); i++) if (scores.get(i).asDouble() > scores.get(best).asDouble()) best = i;
        var label = best < classNames.size() ? classNames.get(best).asText() : "class " + best;
        return String.format(java.util.Locale.ROOT, "%s (score %.3f)", label, scores.get(best).asDouble());
    }
}
