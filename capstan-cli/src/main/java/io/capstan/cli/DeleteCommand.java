package io.capstan.cli;

import io.capstan.core.Names;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.util.ArrayList;
import java.util.List;

@Command(name = "delete", mixinStandardHelpOptions = true, versionProvider = Version.Provider.class,
        description = "Delete resources by name.")
final class DeleteCommand extends ClientCommand {
    @Parameters(index = "0", paramLabel = "TYPE", description = "Resource type, such as job; or TYPE/NAME.")
    private String typeArg;

    @Parameters(index = "1..*", arity = "0..*", paramLabel = "NAME", description = "Names of the resources to delete.")
    private List<String> names = new ArrayList<>();

    @Mixin
    private NamespaceOptions namespaceOptions;

    @Override
    public Integer call() {
        var typed = TypedName.parse(typeArg);
        var all = new ArrayList<String>();
        if (!typed.name().isEmpty()) all.add(typed.name());
        all.addAll(names);
        if (all.isEmpty()) throw new UsageException("delete needs a NAME, as in: capstan delete job hello");
        var client = client();
        var type = client.resolve(typed.type());
        for (var name : all) {
            // A Profile is cluster-scoped in Kubeflow; the server keeps each in the namespace it creates, its own name.
            client.delete(type, type.kind().equals("Profile") ? name : namespaceOptions.namespace(), name);
            out().println(type.qualifiedName() + " \"" + Names.printable(name) + "\" deleted");
            out().flush();
        }
        return ExitCodes.OK;
    }
}
