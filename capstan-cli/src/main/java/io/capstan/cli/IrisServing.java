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
    boolean run(JsonNode model) {
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
        var storageUri = modelUri.contains("://") ? modelUri : java.nio.file.Path.of(modelUri).toUri().toString();
        // The model goes into the registry first, and the InferenceService serves whatever its champion alias names.
        var registered = register(storageUri);
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
        out.flush();
        return true;
    }

    static final String REGISTRY_URI = "model-registry://" + NAME + "@champion";

    /** Registers the model as the next version of registered model {@value #NAME} and points its champion alias at it. */
    private String register(String storageUri) {
        var ns = "?namespace=" + ExampleRun.NAMESPACE;
        String modelId;
        try {
            modelId = client.call("GET", ModelsCommand.API + "/registered_model" + ns + "&name=" + NAME, null).path("id").asText();
        } catch (ApiException e) {
            if (e.status() != 404) throw e;
            var body = Json.json().createObjectNode().put("name", NAME).put("description", "Iris classifier trained by the quickstart pipeline");
            modelId = client.call("POST", ModelsCommand.API + "/registered_models" + ns, body.toString()).path("id").asText();
        }
        int count = client.call("GET", ModelsCommand.API + "/registered_models/" + modelId + "/versions" + ns + "&pageSize=1000", null).path("size").asInt();
        var versionName = "v" + (count + 1);
        var version = Json.json().createObjectNode().put("name", versionName).put("registeredModelId", modelId).put("author", "capstan quickstart");
        var versionId = client.call("POST", ModelsCommand.API + "/model_versions" + ns, version.toString()).path("id").asText();
        var artifact = Json.json().createObjectNode().put("artifactType", "model-artifact").put("name", NAME + "-" + versionName)
                .put("uri", storageUri).put("modelFormatName", "onnx").put("state", "LIVE");
        client.call("POST", ModelsCommand.API + "/model_versions/" + versionId + "/artifacts" + ns, artifact.toString());
        client.call("PUT", ModelsCommand.EXTENSION + "/registered_models/" + modelId + "/aliases/champion" + ns,
                Json.json().createObjectNode().put("modelVersionId", versionId).toString());
        out.println("Registered the model as " + NAME + " " + versionName + " in the model registry, alias champion; serving " + REGISTRY_URI + ".");
        return versionName;
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
