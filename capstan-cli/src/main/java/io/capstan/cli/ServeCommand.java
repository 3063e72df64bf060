package io.capstan.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import io.capstan.core.Names;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "serve", mixinStandardHelpOptions = true, versionProvider = Version.Provider.class,
        description = "Serve a local model file as a KServe InferenceService, wait until it is ready and print how to call it.")
final class ServeCommand extends ClientCommand {
    static final Duration POLL = Duration.ofMillis(250);

    @Parameters(index = "0", paramLabel = "MODEL_FILE", description = "An ONNX model (.onnx), an XGBoost model (.json, .ubj, .bst) or a LightGBM text model (.txt).")
    private Path model;

    @Option(names = "--name", required = true, paramLabel = "NAME", description = "The InferenceService's name.")
    private String name;

    @Option(names = "--format", paramLabel = "FORMAT", description = "The model format (onnx, xgboost, lightgbm, ...); default: from the file's extension.")
    private String format;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "120",
            description = "How long to wait for the model to load (default: ${DEFAULT-VALUE}); 0 returns at once.")
    private long timeoutSeconds;

    @Mixin
    private NamespaceOptions namespaceOptions;

    @Override
    public Integer call() {
        var file = model.toAbsolutePath().normalize();
        if (!Files.exists(file)) throw new InvalidSpecException("model file " + Names.printable(model.toString()) + " does not exist");
        var modelFormat = format != null ? format : formatOf(file);
        var client = client();
        var resource = inferenceService(name, modelFormat, file.toUri().toString());
        var response = client.apply(resource.toString().getBytes(StandardCharsets.UTF_8), "application/json", namespaceOptions.namespace(), "serve");
        var items = new java.util.ArrayList<JsonNode>();
        response.path("items").forEach(items::add);
        for (var result : response.path("results")) out().println(ApplyCommand.line(result, items));
        out().flush();
        if (timeoutSeconds == 0) return ExitCodes.OK;
        var isvc = awaitSettled(client, namespaceOptions.namespace(), name, Duration.ofSeconds(timeoutSeconds));
        if (isvc.isEmpty()) {
            err().println("error: " + name + " was not ready within " + timeoutSeconds + " s; see capstan describe inferenceservice " + name);
            return ExitCodes.FAILURE;
        }
        var status = isvc.get().path("status");
        if (!status.path("phase").asText("").equals("Ready")) {
            err().println("error: " + name + " " + status.path("phase").asText("failed") + ": " + reason(status));
            return ExitCodes.FAILURE;
        }
        var url = status.path("components").path("predictor").path("url").asText();
        out().println(name + " is ready at " + url);
        sampleRequest(client).ifPresent(sample -> {
            out().println("Send a prediction:");
            out().println("  capstan predict " + name + " -d '" + sample + "'");
            out().println("  curl -s -H 'Content-Type: application/json' -d '" + sample + "' " + url + "/infer");
        });
        out().flush();
        return ExitCodes.OK;
    }

    static ObjectNode inferenceService(String name, String modelFormat, String storageUri) {
        var resource = Json.json().createObjectNode();
        resource.put("apiVersion", "serving.kserve.io/v1beta1");
        resource.put("kind", "InferenceService");
        resource.putObject("metadata").put("name", name);
        var model = resource.putObject("spec").putObject("predictor").putObject("model");
        model.putObject("modelFormat").put("name", modelFormat);
        model.put("storageUri", storageUri);
        return resource;
    }

    /** The model format KServe would name for {@code file}'s extension. */
    static String formatOf(Path file) {
        var n = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (n.endsWith(".onnx")) return "onnx";
        if (n.endsWith(".json") || n.endsWith(".ubj") || n.endsWith(".bst") || n.endsWith(".xgb")) return "xgboost";
        if (n.endsWith(".txt") || n.endsWith(".lgb")) return "lightgbm";
        if (n.endsWith(".pkl") || n.endsWith(".joblib") || n.endsWith(".pickle")) return "sklearn";
        if (n.endsWith(".pt") || n.endsWith(".pth")) return "pytorch";
        if (n.endsWith(".pmml")) return "pmml";
        throw new UsageException("cannot tell the model format of '" + Names.printable(file.getFileName().toString())
                + "' from its extension; give --format (onnx, xgboost, lightgbm)");
    }

    /** The InferenceService once its phase is Ready or Failed, or empty if it is still loading after {@code timeout}. */
    static Optional<JsonNode> awaitSettled(CapstanClient client, String namespace, String name, Duration timeout) {
        var type = client.resolve("inferenceservices");
        var deadline = Instant.now().plus(timeout);
        while (Instant.now().isBefore(deadline)) {
            var isvc = client.get(type, namespace, name);
            var phase = isvc.path("status").path("phase").asText("");
            if (phase.equals("Ready") || phase.equals("Failed")) return Optional.of(isvc);
            LockSupport.parkNanos(POLL.toNanos());
        }
        return Optional.empty();
    }

    private static String reason(JsonNode status) {
        for (var c : status.path("conditions")) {
            var m = c.path("message").asText("");
            if (!m.isEmpty()) return m;
        }
        return "no reason given";
    }

    /** A one-row OIP request of zeros shaped as the model's inputs, for the printed example. */
    private Optional<String> sampleRequest(CapstanClient client) {
        try {
            var metadata = client.getPath("/serving/" + namespaceOptions.namespace() + "/v2/models/" + name);
            return Optional.of(PredictCommand.zerosRequest(metadata).toString());
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }
}
