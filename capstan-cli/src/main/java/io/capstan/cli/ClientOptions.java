package io.capstan.cli;

import io.capstan.core.CapstanConfig;
import picocli.CommandLine.Option;

import java.util.Map;
import java.util.Optional;

/** Options every command that talks to a server shares. */
final class ClientOptions {
    @Option(names = "--server", paramLabel = "URL",
            description = "Base URL of the Capstan server (default: $CAPSTAN_SERVER, else " + CapstanClient.DEFAULT_URL + ").")
    private String server;

    @Option(names = "--token", paramLabel = "TOKEN",
            description = "API token (default: $CAPSTAN_TOKEN, else the server admin's token in $CAPSTAN_HOME/token when the server is local).")
    private String token;

    @Option(names = "--verbose", description = "On error, print the stack trace as well as the message.")
    private boolean verbose;

    /** The URL from {@code --server}, else {@code CAPSTAN_SERVER}, else the default. */
    String serverUrl(Map<String, String> env) {
        return Optional.ofNullable(server).filter(s -> !s.isBlank())
                .or(() -> Optional.ofNullable(env.get("CAPSTAN_SERVER")).filter(s -> !s.isBlank()))
                .orElse(CapstanClient.DEFAULT_URL);
    }

    CapstanClient client(Map<String, String> env) {
        return authenticated(CapstanClient.of(serverUrl(env)), env);
    }

    /**
     * {@code client} with the token from {@code --token}, else {@code CAPSTAN_TOKEN}, else, for a server on this
     * machine, the admin token a local server wrote to {@code $CAPSTAN_HOME/token}.
     */
    CapstanClient authenticated(CapstanClient client, Map<String, String> env) {
        var chosen = Optional.ofNullable(token).filter(s -> !s.isBlank()).map(String::strip)
                .or(() -> Optional.ofNullable(env.get("CAPSTAN_TOKEN")).filter(s -> !s.isBlank()).map(String::strip))
                .or(() -> client.isLocal() ? io.capstan.security.AdminToken.read(CapstanConfig.fromEnvironment(env).home()) : Optional.empty());
        return client.withToken(chosen);
    }
}
