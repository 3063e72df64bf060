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
            description = "API token (default: $CAPSTAN_TOKEN, else the file $CAPSTAN_TOKEN_FILE, else the server admin's token in "
                    + "$CAPSTAN_HOME/token when the server is local).")
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
     * {@code client} with the token from {@code --token}, else {@code CAPSTAN_TOKEN}, else the file
     * {@code CAPSTAN_TOKEN_FILE} names (a notebook's in Kubernetes mode, which is replaced as its token rotates), else,
     * for a server on this machine, the admin token a local server wrote to {@code $CAPSTAN_HOME/token}.
     */
    CapstanClient authenticated(CapstanClient client, Map<String, String> env) {
        var chosen = Optional.ofNullable(token).filter(s -> !s.isBlank()).map(String::strip)
                .or(() -> Optional.ofNullable(env.get("CAPSTAN_TOKEN")).filter(s -> !s.isBlank()).map(String::strip))
                .or(() -> Optional.ofNullable(env.get("CAPSTAN_TOKEN_FILE")).filter(s -> !s.isBlank()).map(ClientOptions::tokenFile))
                .or(() -> client.isLocal() ? io.capstan.security.AdminToken.read(CapstanConfig.fromEnvironment(env).home()) : Optional.empty());
        return client.withToken(chosen);
    }

    private static String tokenFile(String path) {
        var file = java.nio.file.Path.of(path);
        try {
            if (java.nio.file.Files.size(file) > 64 * 1024) throw new UsageException("CAPSTAN_TOKEN_FILE " + path + " is larger than a token can be");
            return java.nio.file.Files.readString(file).strip();
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            throw new UsageException("CAPSTAN_TOKEN_FILE " + path + " cannot be read: " + e.getMessage());
        }
    }
}
