package io.capstan.cli;

import io.capstan.core.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.Optional;

@Command(name = "version", mixinStandardHelpOptions = true, versionProvider = Version.Provider.class,
        description = "Print the client version and, if a server answers, the server version.")
final class VersionCommand extends ClientCommand {
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(3);

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
            description = "yaml or json for machine-readable output (default: text).")
    private OutputFormat output;

    @Override
    public Integer call() {
        var url = clientOptions.serverUrl(root.env());
        var client = clientOptions.authenticated(CapstanClient.of(url, PROBE_TIMEOUT, PROBE_TIMEOUT), root.env());
        Optional<String> server;
        try {
            server = Optional.of(client.serverVersion());
        } catch (ServerUnreachableException | ApiException e) {
            // The client version is still worth printing; the server's absence goes to stderr, not into the data.
            err().println("note: " + e.getMessage().lines().findFirst().orElse(""));
            err().flush();
            server = Optional.empty();
        }
        if (output.isStructured()) {
            var node = Json.json().createObjectNode().put("clientVersion", Version.client());
            server.ifPresent(v -> node.put("serverVersion", v).put("server", client.baseUrl()));
            Printer.print(out(), node, output, true);
        } else {
            out().println("Client Version: " + Version.client());
            server.ifPresent(v -> out().println("Server Version: " + v + " (" + client.baseUrl() + ")"));
            out().flush();
        }
        return ExitCodes.OK;
    }
}
