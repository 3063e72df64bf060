package io.capstan.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import io.capstan.security.Lifetimes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.util.LinkedHashMap;
import java.util.List;

/**
 * {@code capstan tokens create|list|revoke}: users' API tokens. The server admin manages everyone's; a user, with
 * their own token, only theirs. A new token is printed once and cannot be shown again.
 */
@Command(name = "tokens", mixinStandardHelpOptions = true, versionProvider = Version.Provider.class,
        description = "Create, list and revoke users' API tokens.")
final class TokensCommand {
    @ParentCommand
    Capstan root;

    @Spec
    CommandSpec spec;

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Make a token for a user and print it; it is shown only this once.")
    int create(@Mixin ClientOptions options,
               @Option(names = "--user", paramLabel = "USER",
                       description = "Whom it is for, such as alice@example.com (default: yourself; required with the admin token).") String user,
               @Option(names = "--expires", paramLabel = "DURATION",
                       description = "Lifetime such as 30d, 12h, 90m or 2w (default: never expires).") String expires,
               @Option(names = "--description", paramLabel = "TEXT", description = "What it is for, such as 'CI'.") String description,
               @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
                       description = "table, yaml or json (default: ${DEFAULT-VALUE}).") OutputFormat output) {
        // Checked here too, so a typo needs no round trip and names the flag.
        if (expires != null) Lifetimes.parse("expires", expires);
        var body = Json.json().createObjectNode();
        if (user != null) body.put("user", user);
        if (expires != null) body.put("expires", expires);
        if (description != null) body.put("description", description);
        var made = options.client(root.env()).apiPost("/tokens", body.toString());
        var out = spec.commandLine().getOut();
        if (output.isStructured()) {
            Printer.print(out, made, output, true);
            return ExitCodes.OK;
        }
        out.println("token " + made.path("id").asText() + " created for " + made.path("user").asText()
                + (made.has("expiresAt") ? ", expires " + made.path("expiresAt").asText() : ", does not expire")
                + "; it is shown only this once:");
        out.println(made.path("token").asText());
        out.flush();
        return ExitCodes.OK;
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List tokens, newest first; never their text.")
    int list(@Mixin ClientOptions options,
             @Option(names = "--user", paramLabel = "USER", description = "Only this user's (the admin sees everyone's by default).") String user,
             @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
                     description = "table, yaml or json (default: ${DEFAULT-VALUE}).") OutputFormat output) {
        var params = new LinkedHashMap<String, String>();
        if (user != null) params.put("user", user);
        var tokens = options.client(root.env()).apiGet("/tokens", params);
        var out = spec.commandLine().getOut();
        if (output.isStructured()) {
            Printer.print(out, tokens, output, true);
            return ExitCodes.OK;
        }
        var table = new Table(List.of("ID", "USER", "STATE", "CREATED", "EXPIRES", "DESCRIPTION"));
        for (var t : tokens.path("items")) {
            table.add(List.of(t.path("id").asText(), t.path("user").asText(), state(t), t.path("createdAt").asText(),
                    t.path("expiresAt").asText("never"), t.path("description").asText()));
        }
        out.print(table.render());
        out.flush();
        return ExitCodes.OK;
    }

    private static String state(JsonNode token) {
        if (token.has("revokedAt")) return "revoked";
        return token.path("active").asBoolean() ? "active" : "expired";
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Revoke a token; requests with it fail from then on.")
    int revoke(@Mixin ClientOptions options, @Parameters(paramLabel = "ID", description = "The token's id, as 'tokens list' shows it.") String id) {
        if (!id.matches("[0-9a-f]{16}")) {
            throw io.capstan.core.InvalidSpecException.of("id", "a token id is 16 hexadecimal digits, as 'capstan tokens list' shows, got '"
                    + io.capstan.core.Names.printable(id) + "'");
        }
        var revoked = options.client(root.env()).apiDelete("/tokens", id);
        spec.commandLine().getOut().println("token " + revoked.path("id").asText() + " of " + revoked.path("user").asText() + " revoked");
        return ExitCodes.OK;
    }
}
