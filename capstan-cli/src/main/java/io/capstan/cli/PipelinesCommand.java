package io.capstan.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code capstan pipelines upload|list}: KFP pipelines through the v2beta1 API. */
@Command(name = "pipelines", mixinStandardHelpOptions = true, versionProvider = Version.Provider.class,
        description = "Upload and list compiled KFP pipelines.")
final class PipelinesCommand {
    @ParentCommand
    Capstan root;

    @Spec
    CommandSpec spec;

    @Command(name = "upload", mixinStandardHelpOptions = true, description = "Upload a compiled pipeline (KFP IR YAML).")
    int upload(@Mixin ClientOptions options, @Parameters(paramLabel = "FILE", description = "The pipeline YAML.") Path file,
               @Option(names = "--name", paramLabel = "NAME", description = "Pipeline name (default: the file name).") String name,
               @Option(names = "--description", paramLabel = "TEXT", description = "A description.") String description) {
        byte[] content;
        try {
            content = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UsageException("cannot read " + file + ": " + CapstanClient.describe(e));
        }
        var params = new LinkedHashMap<String, String>();
        if (name != null) params.put("name", name);
        if (description != null) params.put("description", description);
        var pipeline = options.client(root.env()).kfpUpload(file.getFileName().toString(), content, params);
        spec.commandLine().getOut().println("pipeline " + pipeline.path("name").asText() + " uploaded: " + pipeline.path("pipeline_id").asText());
        return ExitCodes.OK;
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List pipelines.")
    int list(@Mixin ClientOptions options) {
        var pipelines = options.client(root.env()).kfpGet("/pipelines", Map.of("page_size", "1000", "sort_by", "name"));
        var table = new Table(List.of("PIPELINE ID", "NAME", "CREATED", "DESCRIPTION"));
        for (var p : pipelines.path("pipelines")) {
            table.add(List.of(p.path("pipeline_id").asText(), p.path("name").asText(), p.path("created_at").asText(), p.path("description").asText("")));
        }
        spec.commandLine().getOut().print(table.render());
        return ExitCodes.OK;
    }
}
