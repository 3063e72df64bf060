package io.capstan.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.Problems;
import io.capstan.monitoring.slo.PrometheusRules;
import io.capstan.monitoring.slo.ServiceLevelObjectiveSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "slo", mixinStandardHelpOptions = true, versionProvider = Version.Provider.class,
        description = "ServiceLevelObjectives.", subcommands = SloCommand.Rules.class)
final class SloCommand implements Runnable {
    @picocli.CommandLine.Spec
    private picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new UsageException("slo needs a subcommand, as in: capstan slo rules NAME");
    }

    @Command(name = "rules", mixinStandardHelpOptions = true, versionProvider = Version.Provider.class,
            description = "Print the Prometheus recording and alerting rules (as Sloth writes them) equivalent to the burn-rate "
                    + "alerts Capstan computes for a ServiceLevelObjective.")
    static final class Rules extends ClientCommand {
        @Parameters(index = "0", paramLabel = "NAME", description = "Name of the ServiceLevelObjective.")
        private String name;

        @Mixin
        private NamespaceOptions namespaceOptions;

        @Override
        public Integer call() {
            var client = client();
            var namespace = namespaceOptions.namespace();
            var resource = client.get(client.resolve("servicelevelobjective"), namespace, name);
            var problems = new Problems();
            var slo = resource.path("spec").isObject() ? ServiceLevelObjectiveSpec.parse((ObjectNode) resource.path("spec"), problems) : null;
            if (slo == null) {
                throw new CommandFailedException("ServiceLevelObjective " + namespace + "/" + name + " has no valid spec: "
                        + problems.errors().stream().map(Object::toString).reduce((a, b) -> a + "; " + b).orElse("spec missing"));
            }
            out().print(PrometheusRules.render(namespace, name, slo));
            out().flush();
            return ExitCodes.OK;
        }
    }
}
