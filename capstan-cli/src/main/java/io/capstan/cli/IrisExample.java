package io.capstan.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Locale;

/**
 * Quickstart's main job: the iris training pipeline shipped in the jar, run as a PipelineRun with the dataset copied
 * into Capstan's home, followed task by task, then summarised with its metrics and where to find its lineage.
 */
final class IrisExample {
    static final String PIPELINE = "examples/iris/iris-pipeline.yaml";
    static final String DATA = "examples/iris/iris.csv";
    static final String RUN_NAME = "iris-quickstart";
    static final Duration DEADLINE = Duration.ofMinutes(5);

    private final CapstanClient client;
    private final PrintWriter out;
    private final Path home;
    private JsonNode finished;

    IrisExample(CapstanClient client, PrintWriter out, Path home) {
        this.client = client;
        this.out = out;
        this.home = home;
    }

    /** Runs the pipeline; true if it succeeded. */
    boolean run(String url) {
        var data = home.resolve(DATA);
        try {
            Files.createDirectories(data.getParent());
            try (InputStream in = resource(DATA)) {
                Files.copy(in, data, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy the iris data to " + data, e);
        }
        String pipeline;
        try (InputStream in = resource(PIPELINE)) {
            pipeline = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + PIPELINE + " from the capstan jar", e);
        }
        // A fresh run each time: delete an earlier quickstart run of the same name first.
        var type = client.resolve("pipelineruns");
        try {
            client.delete(type, ExampleRun.NAMESPACE, RUN_NAME);
        } catch (ApiException e) {
            // nothing to delete
        }
        var resource = Json.json().createObjectNode();
        resource.put("apiVersion", RunCommand.API_VERSION);
        resource.put("kind", RunCommand.KIND);
        resource.putObject("metadata").put("name", RUN_NAME);
        var spec = resource.putObject("spec");
        spec.put("pipelineSpec", pipeline);
        spec.put("experiment", "quickstart");
        // The pipeline's register-model step registers the exported model as the next version of 'iris', alias champion.
        spec.putObject("parameters").put("source", data.toString()).put("register_as", IrisServing.NAME).put("register_alias", IrisServing.ALIAS);
        client.apply(resource.toString().getBytes(StandardCharsets.UTF_8), "application/json", ExampleRun.NAMESPACE, "iris-pipeline.yaml");

        var finished = new RunWatcher(client, out).follow(ExampleRun.NAMESPACE, RUN_NAME, DEADLINE);
        out.println();
        if (finished.isEmpty()) {
            out.println("The iris pipeline did not finish within " + DEADLINE.toMinutes() + " minutes; it goes on on the server.");
            return false;
        }
        var run = finished.get();
        this.finished = run;
        var status = run.path("status");
        boolean ok = status.path("phase").asText("").equals("Succeeded");
        out.println(ok ? "The iris pipeline succeeded." : "The iris pipeline ended " + status.path("phase").asText("") + ".");
        printAccuracy(status, "root/evaluate", "XGBoost");
        printAccuracy(status, "root/evaluate-2", "logistic regression");
        var uid = run.path("metadata").path("uid").asText("");
        out.println("  run:      " + url + "/apis/capstan/v1/namespaces/" + ExampleRun.NAMESPACE + "/pipelineruns/" + RUN_NAME);
        out.println("  lineage:  " + url + "/apis/capstan/v1/lineage/pipelineruns/" + uid);
        if (status.hasNonNull("runFolder")) out.println("  outputs:  " + status.path("runFolder").asText());
        out.flush();
        return ok;
    }

    /** The finished run's uid, once {@link #run} returned. */
    String runUid() {
        return finished == null ? "" : finished.path("metadata").path("uid").asText("");
    }

    /** The exported ONNX model artifact (uri and metadata: feature_names, class_names), once {@link #run} succeeded. */
    java.util.Optional<JsonNode> onnxModel() {
        if (finished == null) return java.util.Optional.empty();
        var artifact = finished.path("status").path("tasks").path("root/export-onnx").path("outputs").path("artifacts")
                .path("onnx_model").path(0);
        return artifact.path("uri").asText("").isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(artifact);
    }

    private void printAccuracy(JsonNode status, String task, String label) {
        var accuracy = status.path("tasks").path(task).path("outputs").path("parameters").path("accuracy");
        if (accuracy.isNumber()) out.println(String.format(Locale.ROOT, "  %s test accuracy: %.3f", label, accuracy.asDouble()));
    }

    private static InputStream resource(String name) throws IOException {
        var in = IrisExample.class.getClassLoader().getResourceAsStream(name);
        if (in == null) throw new IOException(name + " is missing from the capstan jar; rebuild it");
        return in;
    }
}
