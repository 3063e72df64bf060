package io.capstan.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.List;
import java.util.Optional;

@Command(name = "get", mixinStandardHelpOptions = true, versionProvider = Version.Provider.class,
        description = "List resources of a type, or show one by name.")
final class GetCommand extends ClientCommand {
    @Parameters(index = "0", paramLabel = "TYPE",
            description = "Resource type: kind, plural or short name, such as jobs; or TYPE/NAME.")
    private String typeArg;

    @Parameters(index = "1", arity = "0..1", paramLabel = "NAME", description = "Name of one resource to show.")
    private String nameArg;

    @Mixin
    private NamespaceOptions namespaceOptions;

    @Option(names = {"-A", "--all-namespaces"}, description = "List across all namespaces; adds a NAMESPACE column.")
    private boolean allNamespaces;

    @Option(names = {"-l", "--selector"}, paramLabel = "SELECTOR",
            description = "Label selector such as app=demo,tier!=web.")
    private String selector;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
            description = "table, wide, yaml or json (default: ${DEFAULT-VALUE}).")
    private OutputFormat output;

    @Option(names = {"-w", "--watch"}, description = "After listing, keep printing changes until interrupted.")
    private boolean watch;

    @Override
    public Integer call() {
        var typed = TypedName.parse(typeArg);
        if (!typed.name().isEmpty() && nameArg != null) {
            throw new UsageException("give the name either as TYPE/NAME or as a second argument, not both");
        }
        var name = typed.name().isEmpty() ? Optional.ofNullable(nameArg) : Optional.of(typed.name());
        if (name.isPresent() && allNamespaces) {
            throw new UsageException("a resource is fetched by name from one namespace; drop -A or pass -n");
        }
        var client = client();
        var type = client.resolve(typed.type());
        // A Profile is cluster-scoped in Kubeflow; the server keeps each in the namespace it creates, its own name.
        boolean clusterScoped = type.kind().equals("Profile");
        var scope = allNamespaces ? ResourceTable.Scope.ALL_NAMESPACES : ResourceTable.Scope.ONE_NAMESPACE;
        var layout = ResourceTable.of(type, scope, output);
        var namespace = allNamespaces || clusterScoped ? Optional.<String>empty() : Optional.of(namespaceOptions.namespace());

        List<JsonNode> items;
        String resourceVersion;
        if (name.isPresent()) {
            var resource = client.get(type, clusterScoped ? name.get() : namespaceOptions.namespace(), name.get());
            items = List.of(resource);
            resourceVersion = resource.path("metadata").path("resourceVersion").asText("");
        } else {
            var listing = client.list(type, namespace, Optional.ofNullable(selector).filter(s -> !s.isBlank()));
            items = listing.items();
            resourceVersion = listing.resourceVersion();
        }

        int[] widths = printInitial(layout, items, name.isPresent());
        if (watch) {
            client.watch(type, namespace, resourceVersion, event -> {
                var object = event.object();
                if (name.isPresent() && !name.get().equals(object.path("metadata").path("name").asText())) return true;
                if (output.isStructured()) {
                    Printer.print(out(), object, output, false);
                } else {
                    out().println(Table.line(layout.row(object, root.clock().instant()), widths));
                    out().flush();
                }
                return true;
            });
        }
        return ExitCodes.OK;
    }

    private int[] printInitial(ResourceTable layout, List<JsonNode> items, boolean byName) {
        if (output.isStructured()) {
            if (byName) {
                Printer.print(out(), items.getFirst(), output, true);
            } else if (watch) {
                // A watch prints a stream of documents, so the starting state is printed the same way.
                for (int i = 0; i < items.size(); i++) Printer.print(out(), items.get(i), output, i == 0);
            } else {
                Printer.print(out(), CapstanClient.listObject(items, ""), output, true);
            }
            return new int[0];
        }
        var table = layout.table(items, root.clock().instant());
        if (items.isEmpty() && !watch) {
            err().println(allNamespaces ? "No resources found."
                    : "No resources found in " + io.capstan.core.Names.printable(namespaceOptions.namespace()) + " namespace.");
            err().flush();
            return table.widths();
        }
        out().print(table.render());
        out().flush();
        return table.widths();
    }
}
