package io.capstan.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "describe", mixinStandardHelpOptions = true, versionProvider = Version.Provider.class,
        description = "Show one resource in detail: metadata, spec, status and conditions.")
final class DescribeCommand extends ClientCommand {
    @Parameters(index = "0", paramLabel = "TYPE", description = "Resource type, such as job; or TYPE/NAME.")
    private String typeArg;

    @Parameters(index = "1", arity = "0..1", paramLabel = "NAME", description = "Name of the resource.")
    private String nameArg;

    @Mixin
    private NamespaceOptions namespaceOptions;

    @Override
    public Integer call() {
        var typed = TypedName.parse(typeArg);
        var name = typed.name().isEmpty() ? nameArg : typed.name();
        if (name == null || name.isEmpty()) throw new UsageException("describe needs a NAME, as in: capstan describe job hello");
        if (!typed.name().isEmpty() && nameArg != null) {
            throw new UsageException("give the name either as TYPE/NAME or as a second argument, not both");
        }
        var client = client();
        var type = client.resolve(typed.type());
        var resource = client.get(type, namespaceOptions.namespace(), name);
        out().print(Describer.describe(resource, root.clock().instant()));
        out().flush();
        return ExitCodes.OK;
    }
}
