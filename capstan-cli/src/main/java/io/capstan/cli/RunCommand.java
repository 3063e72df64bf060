package io.capstan.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import io.capstan.core.Names;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "run", mixinStandardHelpOptions = true, versionProvider = Version.Provider.class,
        description = "Run a compiled Kubeflow pipeline (KFP v2 IR YAML) on the server; with --watch, show each task's "
                + "state until the run ends, and exit 0 only if it succeeded.")
final class RunCommand extends ClientCommand {
    static final String KIND = "PipelineRun";
    static final String API_VERSION = "pipelines.capstan.io/v1";

    @Parameters(index = "0", paramLabel = "PIPELINE.yaml", description = "The compiled pipeline (KFP IR).")
    private Path pipeline;

    @Option(names = {"-p", "--param"}, paramLabel = "NAME=VALUE",
            description = "A pipeline parameter; repeat for several. JSON values (numbers, true, lists) keep their type.")
    private Map<String, String> parameters = new LinkedHashMap<>();

    @Option(names = "--name", paramLabel = "NAME", description = "The run's name (default: the pipeline's name and a random suffix).")
    private String name;

    @Option(names = "--no-cache", description = "Run every step even if an identical one succeeded before.")
    private boolean noCache;

    @Option(names = {"-w", "--watch"}, description = "Show task states live until the run ends.")
    private boolean watch;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "3600",
            description = "With --watch, give up waiting after this many seconds (default: ${DEFAULT-VALUE}).")
    private long timeoutSeconds;

    @Mixin
    private NamespaceOptions namespaceOptions;

    @Override
    public Integer call() {
        String text;
        try {
            text = Files.readString(pipeline, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new io.capstan.core.InvalidSpecException("pipeline file " + pipeline + " does not exist");
        } catch (IOException e) {
            throw new io.capstan.core.InvalidSpecException("cannot read pipeline file " + pipeline + ": " + e.getMessage());
        }
        var runName = name != null ? name : defaultName(text);
        var resource = Json.json().createObjectNode();
        resource.put("apiVersion", API_VERSION);
        resource.put("kind", KIND);
        resource.putObject("metadata").put("name", runName);
        var spec = resource.putObject("spec");
        spec.put("pipelineSpec", text);
        spec.put("enableCaching", !noCache);
        var params = spec.putObject("parameters");
        parameters.forEach((k, v) -> params.set(k, parameterValue(v)));

        var client = client();
        var body = resource.toString().getBytes(StandardCharsets.UTF_8);
        var response = client.apply(body, "application/json", namespaceOptions.namespace(), pipeline.getFileName().toString());
        for (var result : response.path("results")) out().println(ApplyCommand.line(result, java.util.List.of(response.path("items").get(0))));
        out().flush();
        if (!watch) return ExitCodes.OK;
        return follow(client, runName);
    }

    private int follow(CapstanClient client, String runName) {
        var run = new RunWatcher(client, out()).follow(namespaceOptions.namespace(), runName, Duration.ofSeconds(timeoutSeconds));
        if (run.isEmpty()) {
            err().println("error: run " + runName + " did not finish within " + timeoutSeconds + " s; it goes on on the server");
            return ExitCodes.FAILURE;
        }
        return run.get().path("status").path("phase").asText("").equals("Succeeded") ? ExitCodes.OK : ExitCodes.FAILURE;
    }

    /** JSON literals keep their type; anything else is a string. */
    static JsonNode parameterValue(String text) {
        try {
            var node = Json.json().readTree(text);
            if (node != null && !node.isMissingNode() && (node.isValueNode() || node.isContainerNode())) return node;
        } catch (IOException e) {
            // not JSON: a plain string
        }
        return Json.json().getNodeFactory().textNode(text);
    }

    /** The pipeline's name, made a DNS-1123 name, with a random suffix so that runs never collide. */
    static String defaultName(String pipelineText) {
        String base = "run";
        try {
            var docs = Json.yaml().readerFor(JsonNode.class).readValues(pipelineText);
            if (docs.hasNext()) {
                var first = (JsonNode) docs.next();
                var n = first.path("pipelineInfo").path("name").asText("");
                if (!n.isEmpty()) base = n;
            }
        } catch (IOException | RuntimeException e) {
            // the server reports a malformed pipeline with its line; the name only needs to be valid
        }
        base = base.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]+", "-").replaceAll("^-+|-+$", "");
        if (base.isEmpty()) base = "run";
        if (base.length() > 50) base = base.substring(0, 50).replaceAll("-+$", "");
        return base + "-" + Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36 * 36, 36 * 36 * 36 * 36 * 36), 36);
    }

}
