package io.capstan.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import io.capstan.core.Names;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "predict", mixinStandardHelpOptions = true, versionProvider = Version.Provider.class,
        description = "Send an inference request to an InferenceService and print the answer: an Open Inference Protocol "
                + "request ({\"inputs\": [...]}) or a V1 one ({\"instances\": [...]}).")
final class PredictCommand extends ClientCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "The InferenceService.")
    private String name;

    @Option(names = {"-d", "--data"}, required = true, paramLabel = "JSON|@FILE|@-",
            description = "The request body, @FILE to read it from a file, or @- from standard input.")
    private String data;

    @Mixin
    private NamespaceOptions namespaceOptions;

    @Override
    public Integer call() {
        var body = body();
        JsonNode request;
        try {
            request = Json.json().readTree(body);
        } catch (IOException e) {
            throw new InvalidSpecException("the request is not JSON: " + Names.printable(e.getMessage()));
        }
        if (request == null || !request.isObject()) throw new InvalidSpecException("the request must be a JSON object with inputs or instances");
        var base = "/serving/" + namespaceOptions.namespace();
        var path = request.has("instances") && !request.has("inputs")
                ? base + "/v1/models/" + name + ":predict"
                : base + "/v2/models/" + name + "/infer";
        var answer = client().postJson(path, body, "request");
        Printer.print(out(), answer, OutputFormat.JSON, true);
        return ExitCodes.OK;
    }

    private byte[] body() {
        if (!data.startsWith("@")) return data.getBytes(StandardCharsets.UTF_8);
        var source = data.substring(1);
        try {
            return source.equals("-") ? root.stdin().readAllBytes() : Files.readAllBytes(Path.of(source));
        } catch (NoSuchFileException e) {
            throw new InvalidSpecException("request file " + Names.printable(source) + " does not exist");
        } catch (IOException e) {
            throw new InvalidSpecException("cannot read the request from " + Names.printable(source) + ": " + e.getMessage());
        }
    }

    /** A request with one row of zeros for every input the model metadata lists (-1 dimensions become 1). */
    static ObjectNode zerosRequest(JsonNode metadata) {
        var request = Json.json().createObjectNode();
        var inputs = request.putArray("inputs");
        for (var input : metadata.path("inputs")) {
            var tensor = inputs.addObject();
            tensor.put("name", input.path("name").asText());
            tensor.put("datatype", input.path("datatype").asText());
            var shape = tensor.putArray("shape");
            long size = 1;
            for (var d : input.path("shape")) {
                long n = d.asLong() < 1 ? 1 : d.asLong();
                shape.add(n);
                size *= n;
            }
            var values = tensor.putArray("data");
            boolean bool = input.path("datatype").asText().equals("BOOL");
            boolean bytes = input.path("datatype").asText().equals("BYTES");
            for (long i = 0; i < Math.min(size, 1024); i++) {
                if (bool) values.add(false);
                else if (bytes) values.add("");
                else values.add(0);
            }
        }
        return request;
    }
}
