package io.capstan.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.locks.LockSupport;

/**
 * Quickstart's last step: the ONNX model the iris pipeline exported, served as an InferenceService, asked for one
 * prediction over the Open Inference Protocol, with the curl command for the next one.
 */
final class IrisServing {
    static final String NAME = "iris";
    static final Duration DEADLINE = Duration.ofMinutes(2);
    /** An iris setosa flower: sepal length and width, petal length and width, in cm. */
    static final String REQUEST = """
            {"inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"data":[5.1,3.5,1.4,0.2]}]}""";

    private final CapstanClient client;
    private final PrintWriter out;

    IrisServing(CapstanClient client, PrintWriter out) {
        this.client = client;
        this.out = out;
    }

    /** Deploys {@code modelUri} and predicts once; true if both worked. */
    boolean run(String modelUri) {
        var storageUri = modelUri.contains("://") ? modelUri : java.nio.file.Path.of(modelUri).toUri().toString();
        var resource = ServeCommand.inferenceService(NAME, "onnx", storageUri);
        client.apply(resource.toString().getBytes(StandardCharsets.UTF_8), "application/json", ExampleRun.NAMESPACE, "quickstart");
        var type = client.resolve("inferenceservices");
        var deadline = Instant.now().plus(DEADLINE);
        JsonNode isvc = null;
        String phase = "";
        while (Instant.now().isBefore(deadline)) {
            isvc = client.get(type, ExampleRun.NAMESPACE, NAME);
            phase = isvc.path("status").path("phase").asText("");
            if (phase.equals("Ready") || phase.equals("Failed")) break;
            LockSupport.parkNanos(Duration.ofMillis(200).toNanos());
        }
        if (!phase.equals("Ready")) {
            out.println("The iris model did not become ready (" + (phase.isEmpty() ? "no status" : phase) + ").");
            return false;
        }
        var url = isvc.path("status").path("components").path("predictor").path("url").asText();
        var answer = client.postJson("/serving/" + ExampleRun.NAMESPACE + "/v2/models/" + NAME + "/infer",
                REQUEST.getBytes(StandardCharsets.UTF_8), "quickstart");
        out.println("The exported ONNX model serves as InferenceService " + NAME + " at " + url + ".");
        out.println("  prediction for a setosa flower [5.1, 3.5, 1.4, 0.2]: " + summary(answer));
        out.println("  another one: curl -s -H 'Content-Type: application/json' -d '" + REQUEST + "' " + url + "/infer");
        out.flush();
        return true;
    }

    /** The outputs, each as {@code name=[values]}. */
    private static String summary(JsonNode answer) {
        var parts = new java.util.ArrayList<String>();
        for (var output : answer.path("outputs")) parts.add(output.path("name").asText() + "=" + Json.json().valueToTree(output.path("data")));
        return parts.isEmpty() ? answer.toString() : String.join(" ", parts);
    }
}
