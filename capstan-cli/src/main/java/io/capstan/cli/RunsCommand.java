package io.capstan.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code capstan runs list|get|logs|retry|terminate}: KFP runs through the v2beta1 API. */
@Command(name = "runs", mixinStandardHelpOptions = true, versionProvider = Version.Provider.class,
        description = "List, inspect, retry and terminate pipeline runs (KFP's runs).")
final class RunsCommand {
    @ParentCommand
    Capstan root;

    @Spec
    CommandSpec spec;

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List runs, newest first.")
    int list(@Mixin ClientOptions options,
             @Option(names = "--experiment", paramLabel = "ID", description = "Only runs in this experiment.") String experiment,
             @Option(names = {"-n", "--namespace"}, paramLabel = "NS",
                     description = "Only runs in this namespace (default: every namespace you may view).") String namespace,
             @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
                     description = "table or json (default: ${DEFAULT-VALUE}).") OutputFormat output) {
        var params = new LinkedHashMap<String, String>();
        params.put("page_size", "1000");
        params.put("sort_by", "created_at desc");
        if (experiment != null) params.put("experiment_id", experiment);
        if (namespace != null) params.put("namespace", namespace);
        var runs = options.client(root.env()).kfpGet("/runs", params);
        if (output.isStructured()) return print(runs);
        var table = new Table(List.of("RUN ID", "NAME", "STATE", "CREATED", "FINISHED"));
        for (var r : runs.path("runs")) {
            table.add(List.of(r.path("run_id").asText(), r.path("display_name").asText(), r.path("state").asText(),
                    r.path("created_at").asText(), r.path("finished_at").asText("")));
        }
        spec.commandLine().getOut().print(table.render());
        return ExitCodes.OK;
    }

    @Command(name = "get", mixinStandardHelpOptions = true, description = "Show a run and the state of each of its tasks.")
    int get(@Mixin ClientOptions options, @Parameters(paramLabel = "ID", description = "The run id.") String id,
            @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
                    description = "table or json (default: ${DEFAULT-VALUE}).") OutputFormat output) {
        var run = options.client(root.env()).kfpGet("/runs/" + CapstanClient.kfpSegment(id), Map.of());
        if (output.isStructured()) return print(run);
        var out = spec.commandLine().getOut();
        out.println("Run:      " + run.path("run_id").asText() + " (" + run.path("display_name").asText() + ")");
        out.println("State:    " + run.path("state").asText());
        out.println("Created:  " + run.path("created_at").asText());
        if (run.has("finished_at")) out.println("Finished: " + run.path("finished_at").asText());
        if (run.has("error")) out.println("Error:    " + run.path("error").path("message").asText());
        var table = new Table(List.of("TASK", "STATE", "CACHE", "STARTED", "ENDED"));
        for (var t : run.path("run_details").path("task_details")) {
            // KFP has no CACHED state (a cache hit is SKIPPED); the server says which under its extension field.
            var cached = t.path("x_capstan").path("cache_state").asText("").equals("CACHED") ? "CACHED" : "";
            table.add(List.of(t.path("task_id").asText(), t.path("state").asText(), cached,
                    t.path("start_time").asText(""), t.path("end_time").asText("")));
        }
        out.print(table.render());
        return ExitCodes.OK;
    }

    @Command(name = "logs", mixinStandardHelpOptions = true, description = "Print the output of each task of a run.")
    int logs(@Mixin ClientOptions options, @Parameters(paramLabel = "ID", description = "The run id.") String id,
             @Option(names = "--task", paramLabel = "TASK", description = "Only this task (its name or path).") String task) {
        var client = options.client(root.env());
        var params = task == null ? Map.<String, String>of() : Map.of("task", task);
        var out = spec.commandLine().getOut();
        try (var reader = new java.io.InputStreamReader(client.kfpStream("/runs/" + CapstanClient.kfpSegment(id) + "/logs", params),
                java.nio.charset.StandardCharsets.UTF_8)) {
            reader.transferTo(out);
            out.flush();
        } catch (java.io.IOException e) {
            throw ServerUnreachableException.of(client.baseUrl(), "the log stream broke (" + CapstanClient.describe(e) + ")", e);
        }
        return ExitCodes.OK;
    }

    @Command(name = "retry", mixinStandardHelpOptions = true,
            description = "Run a failed or cancelled run again; tasks that succeeded are reused from the cache.")
    int retry(@Mixin ClientOptions options, @Parameters(paramLabel = "ID", description = "The run id.") String id) {
        options.client(root.env()).kfpPost("/runs/" + CapstanClient.kfpSegment(id + ":retry"), "");
        spec.commandLine().getOut().println("run " + id + " retried");
        return ExitCodes.OK;
    }

    @Command(name = "terminate", mixinStandardHelpOptions = true, description = "Stop a run: its running steps are killed.")
    int terminate(@Mixin ClientOptions options, @Parameters(paramLabel = "ID", description = "The run id.") String id) {
        options.client(root.env()).kfpPost("/runs/" + CapstanClient.kfpSegment(id + ":terminate"), "");
        spec.commandLine().getOut().println("run " + id + " terminated");
        return ExitCodes.OK;
    }

    private int print(JsonNode value) {
        try {
            spec.commandLine().getOut().println(Json.json().writerWithDefaultPrettyPrinter().writeValueAsString(value));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot print JSON", e);
        }
        return ExitCodes.OK;
    }
}
