package io.capstan.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import io.capstan.security.Lifetimes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code capstan audit}: the server's audit log of mutating and refused requests, newest first; for the server admin. */
@Command(name = "audit", mixinStandardHelpOptions = true, versionProvider = Version.Provider.class,
        description = "Show the audit log (server admin only): who changed what, and which requests were refused, newest first.")
final class AuditCommand implements Callable<Integer> {
    private static final int PAGE = 500;

    @ParentCommand
    Capstan root;

    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions options;

    @Option(names = "--user", paramLabel = "USER", description = "Only this user's requests (system:anonymous for those without a valid token).")
    String user;

    @Option(names = "--since", paramLabel = "DURATION", description = "Only the last DURATION, such as 1h or 7d.")
    String since;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "100", description = "At most N records (default: ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
            description = "table, yaml or json (default: ${DEFAULT-VALUE}).")
    OutputFormat output;

    @Override
    public Integer call() {
        if (since != null) Lifetimes.parse("since", since);
        if (limit < 1) throw new UsageException("--limit must be at least 1, got " + limit);
        var client = options.client(root.env());
        var records = new ArrayList<JsonNode>();
        String next = "";
        do {
            var params = new LinkedHashMap<String, String>();
            if (user != null) params.put("user", user);
            if (since != null) params.put("since", since);
            params.put("limit", Integer.toString(Math.min(PAGE, limit - records.size())));
            if (!next.isEmpty()) params.put("continue", next);
            var page = client.apiGet("/audit", params);
            page.path("items").forEach(records::add);
            next = page.path("metadata").path("continue").asText("");
        } while (!next.isEmpty() && records.size() < limit);
        var out = spec.commandLine().getOut();
        if (output.isStructured()) {
            var list = Json.json().createObjectNode();
            list.putArray("items").addAll(records);
            Printer.print(out, list, output, true);
            return ExitCodes.OK;
        }
        var table = new Table(List.of("TIME", "USER", "VERB", "RESOURCE", "NAMESPACE", "NAME", "STATUS", "OUTCOME"));
        for (var r : records) {
            var outcome = r.path("outcome").asText() + (r.has("reason") ? " (" + r.path("reason").asText() + ")" : "");
            table.add(List.of(r.path("time").asText(), r.path("user").asText(), r.path("verb").asText(), r.path("resource").asText(),
                    r.path("namespace").asText(), r.path("name").asText(), r.path("status").asText(), outcome));
        }
        out.print(table.render());
        out.flush();
        return ExitCodes.OK;
    }
}
