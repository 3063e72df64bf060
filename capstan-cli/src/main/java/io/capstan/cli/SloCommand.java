package io.capstan.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.Problems;
import io.capstan.monitoring.slo.PrometheusRules;
import io.capstan.monitoring.slo.ServiceLevelObjectiveSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code capstan slo rules NAME}: the Prometheus rules of a ServiceLevelObjective. */
@Command(name = "slo", mixinStandardHelpOptions = true, versionProvider = Version.Provider.class,
        description = "ServiceLevelObjectives.")
final class SloCommand {
    @ParentCommand
    Capstan root;

    @Spec
    CommandSpec spec;

    @Command(name = "rules", mixinStandardHelpOptions = true,
            description = "Print the Prometheus recording and alerting rules (laid out as Sloth writes them) equivalent to the "
                    + "burn-rate alerts Capstan computes for a ServiceLevelObjective.")
    int rules(@Mixin ClientOptions options, @Mixin NamespaceOptions namespaceOptions,
              @Parameters(paramLabel = "NAME", description = "Name of the ServiceLevelObjective.") String name) {
        var client = options.client(root.env());
        var namespace = namespaceOptions.namespace();
        var resource = client.get(client.resolve("servicelevelobjective"), namespace, name);
        var problems = new Problems();
        var slo = resource.path("spec").isObject() ? ServiceLevelObjectiveSpec.parse((ObjectNode) resource.path("spec"), problems) : null;
        if (slo == null) {
            throw new CommandFailedException("ServiceLevelObjective " + namespace + "/" + name + " has no valid spec: "
                    + problems.errors().stream().map(Object::toString).reduce((a, b) -> a + "; " + b).orElse("spec missing"));
        }
        var out = spec.commandLine().getOut();
        out.print(PrometheusRules.render(namespace, name, slo));
        out.flush();
        return ExitCodes.OK;
    }
}
