package io.capstan.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.Json;
import io.capstan.core.Quantity;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * {@code capstan notebooks create|list|stop|start|delete|open}: Kubeflow Notebooks, written as Kubeflow's Jupyter web
 * app writes them (a workspace claim {@code <name>-workspace} at {@code /home/jovyan}); stop and start set and remove
 * the {@code kubeflow-resource-stopped} annotation.
 */
@Command(name = "notebooks", mixinStandardHelpOptions = true, versionProvider = Version.Provider.class,
        description = "Create, list, stop, start, delete and open notebook servers (Kubeflow Notebooks).")
final class NotebooksCommand {
    static final String STOPPED = "kubeflow-resource-stopped";
    static final String DEFAULT_IMAGE = "kubeflownotebookswg/jupyter-scipy:v1.8.0";

    @ParentCommand
    Capstan root;

    @Spec
    CommandSpec spec;

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a notebook server; 'open' prints its URL.")
    int create(@Mixin ClientOptions options, @Mixin NamespaceOptions namespace,
               @Parameters(paramLabel = "NAME", description = "Its name, a DNS label such as my-notebook.") String name,
               @Option(names = "--image", paramLabel = "IMAGE", defaultValue = DEFAULT_IMAGE,
                       description = "The image, run when the notebook runs in a container (default: ${DEFAULT-VALUE}).") String image,
               @Option(names = "--cpu", paramLabel = "CPU", defaultValue = "0.5", description = "CPU request (default: ${DEFAULT-VALUE}).") String cpu,
               @Option(names = "--memory", paramLabel = "MEMORY", defaultValue = "1Gi", description = "Memory request (default: ${DEFAULT-VALUE}).") String memory,
               @Option(names = "--type", paramLabel = "TYPE", defaultValue = "jupyter",
                       description = "jupyter, vscode or rstudio (default: ${DEFAULT-VALUE}).") String type) {
        io.capstan.core.Names.checkLabel(name).ifPresent(m -> {
            throw new UsageException("notebook name " + m);
        });
        Quantity.parse("--cpu", cpu);
        Quantity.parse("--memory", memory);
        var serverType = switch (type) {
            case "jupyter" -> "jupyter";
            case "vscode" -> "group-one";
            case "rstudio" -> "group-two";
            default -> throw new UsageException("--type must be jupyter, vscode or rstudio, got '" + io.capstan.core.Names.printable(type) + "'");
        };
        var nb = Json.json().createObjectNode();
        nb.put("apiVersion", "kubeflow.org/v1");
        nb.put("kind", "Notebook");
        var meta = nb.putObject("metadata");
        meta.put("name", name);
        meta.put("namespace", namespace.namespace());
        meta.putObject("labels").put("app", name);
        meta.putObject("annotations").put("notebooks.kubeflow.org/server-type", serverType);
        var pod = nb.putObject("spec").putObject("template").putObject("spec");
        var container = pod.putArray("containers").addObject();
        container.put("name", name);
        container.put("image", image);
        container.putObject("resources").putObject("requests").put("cpu", cpu).put("memory", memory);
        container.putArray("volumeMounts").addObject().put("name", name + "-workspace").put("mountPath", "/home/jovyan");
        pod.putArray("volumes").addObject().put("name", name + "-workspace").putObject("persistentVolumeClaim").put("claimName", name + "-workspace");
        apply(options, namespace.namespace(), nb);
        spec.commandLine().getOut().println("notebook " + name + " created; 'capstan notebooks open " + name + "' prints its URL");
        return ExitCodes.OK;
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List notebooks with their state and last activity.")
    int list(@Mixin ClientOptions options, @Mixin NamespaceOptions namespace) {
        var client = options.client(root.env());
        var items = client.list(client.resolve("notebooks"), Optional.of(namespace.namespace()), Optional.empty()).items();
        var table = new Table(List.of("NAME", "TYPE", "STATE", "READY", "LAST ACTIVITY", "REASON"));
        for (var nb : items) {
            var status = nb.path("status");
            var ready = status.path("conditions").findValues("type");
            table.add(List.of(nb.path("metadata").path("name").asText(),
                    nb.path("metadata").path("annotations").path("notebooks.kubeflow.org/server-type").asText("jupyter"),
                    status.path("phase").asText("Pending"), status.path("readyReplicas").asInt(0) + "/1",
                    status.path("lastActivity").asText("-"), reason(status, ready.isEmpty())));
        }
        spec.commandLine().getOut().print(table.render());
        return ExitCodes.OK;
    }

    private static String reason(JsonNode status, boolean none) {
        if (none) return "";
        for (var c : status.path("conditions")) {
            if (c.path("type").asText().equals("Culled") && c.path("status").asText().equals("True")) return "culled: " + c.path("message").asText();
        }
        for (var c : status.path("conditions")) {
            if (c.path("type").asText().equals("Ready") && !c.path("status").asText().equals("True")) return c.path("message").asText();
        }
        return "";
    }

    @Command(name = "stop", mixinStandardHelpOptions = true, description = "Stop a notebook's server; its workspace stays.")
    int stop(@Mixin ClientOptions options, @Mixin NamespaceOptions namespace, @Parameters(paramLabel = "NAME") String name) {
        var client = options.client(root.env());
        var nb = (ObjectNode) client.get(client.resolve("notebooks"), namespace.namespace(), name);
        nb.with("metadata").with("annotations").put(STOPPED, root.clock().instant().toString());
        nb.remove("status");
        apply(options, namespace.namespace(), nb);
        spec.commandLine().getOut().println("notebook " + name + " stopping");
        return ExitCodes.OK;
    }

    @Command(name = "start", mixinStandardHelpOptions = true, description = "Start a stopped (or culled) notebook's server again.")
    int start(@Mixin ClientOptions options, @Mixin NamespaceOptions namespace, @Parameters(paramLabel = "NAME") String name) {
        var client = options.client(root.env());
        var nb = (ObjectNode) client.get(client.resolve("notebooks"), namespace.namespace(), name);
        nb.with("metadata").with("annotations").remove(STOPPED);
        nb.remove("status");
        apply(options, namespace.namespace(), nb);
        spec.commandLine().getOut().println("notebook " + name + " starting");
        return ExitCodes.OK;
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a notebook; its workspace claim's folder stays, as a PVC does.")
    int delete(@Mixin ClientOptions options, @Mixin NamespaceOptions namespace, @Parameters(paramLabel = "NAME") String name) {
        var client = options.client(root.env());
        client.delete(client.resolve("notebooks"), namespace.namespace(), name);
        spec.commandLine().getOut().println("notebook " + name + " deleted");
        return ExitCodes.OK;
    }

    @Command(name = "open", mixinStandardHelpOptions = true,
            description = "Print the notebook's URL (requests to it need your token, as every API request does).")
    int open(@Mixin ClientOptions options, @Mixin NamespaceOptions namespace, @Parameters(paramLabel = "NAME") String name) {
        var client = options.client(root.env());
        var nb = client.get(client.resolve("notebooks"), namespace.namespace(), name);
        var phase = nb.path("status").path("phase").asText("Pending");
        spec.commandLine().getOut().println(client.baseUrl() + "/notebook/" + namespace.namespace() + "/" + name + "/");
        if (!phase.equals("Running")) spec.commandLine().getErr().println("notebook " + name + " is " + phase + (phase.equals("Stopped")
                ? "; 'capstan notebooks start " + name + "' starts it" : ""));
        return ExitCodes.OK;
    }

    private void apply(ClientOptions options, String namespace, ObjectNode nb) {
        try {
            options.client(root.env()).apply(Json.json().writeValueAsBytes(nb), "application/json", namespace, "");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot write a Notebook as JSON", e);
        }
    }
}
