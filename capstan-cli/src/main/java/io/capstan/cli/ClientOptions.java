package io.capstan.cli;

import picocli.CommandLine.Option;

import java.util.Map;
import java.util.Optional;

/** Options every command that talks to a server shares. */
final class ClientOptions {
    @Option(names = "--server", paramLabel = "URL",
            description = "Base URL of the Capstan server (default: $CAPSTAN_SERVER, else " + CapstanClient.DEFAULT_URL + ").")
    private String server;

    @Option(names = "--verbose", description = "On error, print the stack trace as well as the message.")
    private boolean verbose;

    /** The URL from {@code --server}, else {@code CAPSTAN_SERVER}, else the default. */
    String serverUrl(Map<String, String> env) {
        return Optional.ofNullable(server).filter(s -> !s.isBlank())
                .or(() -> Optional.ofNullable(env.get("CAPSTAN_SERVER")).filter(s -> !s.isBlank()))
                .orElse(CapstanClient.DEFAULT_URL);
    }

    CapstanClient client(Map<String, String> env) {
        return CapstanClient.of(serverUrl(env));
    }
}
