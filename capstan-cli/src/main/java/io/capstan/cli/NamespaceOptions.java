package io.capstan.cli;

import picocli.CommandLine.Option;

/** The namespace option of commands that address namespaced resources. */
final class NamespaceOptions {
    static final String DEFAULT = "default";

    @Option(names = {"-n", "--namespace"}, paramLabel = "NS", defaultValue = DEFAULT,
            description = "Namespace of the resources (default: ${DEFAULT-VALUE}).")
    private String namespace;

    String namespace() {
        return namespace;
    }
}
