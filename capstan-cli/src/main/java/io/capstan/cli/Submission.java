package io.capstan.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.core.JsonProcessingException;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import io.capstan.core.Names;
import io.capstan.core.Resource;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** Applies one file for {@code capstan tune} and {@code capstan train} and picks out the resource they then follow. */
final class Submission {
    private Submission() {
    }

    /**
     * Applies every document of {@code file}, prints a line per resource, and returns the first applied resource
     * whose kind {@code wanted} accepts.
     *
     * @throws InvalidSpecException when the file holds no such resource ({@code what} names it, as "an Experiment")
     */
    static JsonNode submit(CapstanClient client, String file, java.io.InputStream stdin, String namespace, PrintWriter out,
                           Predicate<String> wanted, String what) {
        var sources = sources(file, stdin);
        if (!mayHold(sources, wanted)) {
            throw new InvalidSpecException("'" + Names.printable(file) + "' holds no " + what + "; nothing was applied");
        }
        var items = new ArrayList<JsonNode>();
        for (var source : sources) {
            var response = client.apply(source.body(), source.contentType(), namespace, source.name());
            var applied = new ArrayList<JsonNode>();
            response.path("items").forEach(applied::add);
            for (var result : response.path("results")) out.println(ApplyCommand.line(result, applied));
            items.addAll(applied);
        }
        out.flush();
        return items.stream().filter(i -> wanted.test(i.path("kind").asText(""))).findFirst()
                .orElseThrow(() -> new InvalidSpecException("'" + Names.printable(file.toString()) + "' holds no " + what));
    }

    /**
     * False only when every document reads and none has a wanted kind, so that such a file is refused before
     * anything in it is applied; a file that does not read is left to the server, whose answer names the line.
     */
    private static boolean mayHold(List<ApplyCommand.Source> sources, Predicate<String> wanted) {
        for (var source : sources) {
            List<io.capstan.core.LocatedDocument> documents;
            try {
                documents = io.capstan.core.DocumentReader.read(source.name(), new String(source.body(), java.nio.charset.StandardCharsets.UTF_8));
            } catch (InvalidSpecException e) {
                return true;
            }
            if (documents.stream().anyMatch(d -> wanted.test(d.root().path("kind").asText("")))) return true;
        }
        return false;
    }

    private static List<ApplyCommand.Source> sources(String file, java.io.InputStream stdin) {
        if (!file.equals(ApplyCommand.STDIN)) return ApplyCommand.readPath(Path.of(file), file);
        try {
            var body = stdin.readAllBytes();
            return List.of(new ApplyCommand.Source("<stdin>", body, ApplyCommand.looksLikeJson(body) ? "application/json" : "application/yaml"));
        } catch (java.io.IOException e) {
            throw new CommandFailedException("cannot read standard input: " + e.getMessage(), e);
        }
    }

    /** A resource as the server sent it, for the engines' text views. */
    static Resource resource(JsonNode node) {
        try {
            return Json.json().treeToValue(node, Resource.class);
        } catch (JsonProcessingException e) {
            throw new CommandFailedException("the server sent a resource that cannot be read: " + e.getOriginalMessage(), e);
        }
    }

    static List<Resource> resources(List<JsonNode> nodes) {
        return nodes.stream().map(Submission::resource).toList();
    }
}
