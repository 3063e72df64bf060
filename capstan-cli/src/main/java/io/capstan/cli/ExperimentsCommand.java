package io.capstan.cli;

import io.capstan.core.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.util.List;
import java.util.Map;

/**
 * {@code capstan experiments create|list|archive|unarchive}: KFP experiments through the v2beta1 API; and
 * {@code capstan experiments get NAME}: a Katib Experiment's trial table.
 */
@Command(name = "experiments", mixinStandardHelpOptions = true, versionProvider = Version.Provider.class,
        description = "Create, list, archive and unarchive pipeline experiments; show a tuning experiment's trials.")
final class ExperimentsCommand {
    @ParentCommand
    Capstan root;

    @Spec
    CommandSpec spec;

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create an experiment.")
    int create(@Mixin ClientOptions options, @Parameters(paramLabel = "NAME", description = "Its display name.") String name,
               @Option(names = "--description", paramLabel = "TEXT", description = "A description.") String description,
               @Option(names = {"-n", "--namespace"}, paramLabel = "NS", description = "Its namespace (default: default).") String namespace) {
        var body = Json.json().createObjectNode();
        body.put("display_name", name);
        if (namespace != null) body.put("namespace", namespace);
        if (description != null) body.put("description", description);
        var created = options.client(root.env()).kfpPost("/experiments", body.toString());
        spec.commandLine().getOut().println("experiment " + name + " created: " + created.path("experiment_id").asText());
        return ExitCodes.OK;
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List experiments.")
    int list(@Mixin ClientOptions options, @Option(names = {"-n", "--namespace"}, paramLabel = "NS",
            description = "Only experiments in this namespace (default: every namespace you may view).") String namespace) {
        var params = new java.util.LinkedHashMap<String, String>(Map.of("page_size", "1000", "sort_by", "name"));
        if (namespace != null) params.put("namespace", namespace);
        var experiments = options.client(root.env()).kfpGet("/experiments", params);
        var table = new Table(List.of("EXPERIMENT ID", "NAME", "STATE", "CREATED"));
        for (var e : experiments.path("experiments")) {
            table.add(List.of(e.path("experiment_id").asText(), e.path("display_name").asText(), e.path("storage_state").asText(),
                    e.path("created_at").asText()));
        }
        spec.commandLine().getOut().print(table.render());
        return ExitCodes.OK;
    }

    @Command(name = "get", mixinStandardHelpOptions = true,
            description = "Show a tuning experiment (Katib Experiment) with one row per trial: state, metrics and parameters.")
    int get(@Mixin ClientOptions options, @Mixin NamespaceOptions namespace,
            @Parameters(paramLabel = "NAME", description = "The experiment's name.") String name,
            @Option(names = "--sort-by", paramLabel = "ORDER", defaultValue = "objective",
                    description = "objective (best first) or created (oldest first); default: ${DEFAULT-VALUE}.") String sortBy) {
        var order = switch (sortBy) {
            case "objective" -> io.capstan.tuning.TrialTable.Order.OBJECTIVE;
            case "created" -> io.capstan.tuning.TrialTable.Order.CREATED;
            default -> throw new UsageException("--sort-by must be objective or created, got '" + io.capstan.core.Names.printable(sortBy) + "'");
        };
        var client = options.client(root.env());
        var experiment = client.get(client.resolve("experiments.kubeflow.org"), namespace.namespace(), name);
        var trials = client.list(client.resolve("trials"), java.util.Optional.of(namespace.namespace()),
                java.util.Optional.of(TuneCommand.TRIAL_LABEL + "=" + name)).items();
        var out = spec.commandLine().getOut();
        var status = experiment.path("status");
        out.println("experiment " + name + ": " + status.path("phase").asText("Created")
                + (status.path("message").asText("").isEmpty() ? "" : " (" + status.path("message").asText() + ")"));
        out.println(io.capstan.tuning.TrialTable.bestSoFar(Submission.resource(experiment)));
        out.print(io.capstan.tuning.TrialTable.render(Submission.resource(experiment), Submission.resources(trials), order));
        out.flush();
        return ExitCodes.OK;
    }

    @Command(name = "archive", mixinStandardHelpOptions = true, description = "Archive an experiment and its runs.")
    int archive(@Mixin ClientOptions options, @Parameters(paramLabel = "ID", description = "The experiment id.") String id) {
        options.client(root.env()).kfpPost("/experiments/" + CapstanClient.kfpSegment(id + ":archive"), "");
        spec.commandLine().getOut().println("experiment " + id + " archived");
        return ExitCodes.OK;
    }

    @Command(name = "unarchive", mixinStandardHelpOptions = true, description = "Make an archived experiment available again.")
    int unarchive(@Mixin ClientOptions options, @Parameters(paramLabel = "ID", description = "The experiment id.") String id) {
        options.client(root.env()).kfpPost("/experiments/" + CapstanClient.kfpSegment(id + ":unarchive"), "");
        spec.commandLine().getOut().println("experiment " + id + " unarchived");
        return ExitCodes.OK;
    }
}
