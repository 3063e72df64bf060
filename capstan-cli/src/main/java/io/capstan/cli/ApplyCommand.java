package io.capstan.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

@Command(name = "apply", mixinStandardHelpOptions = true, versionProvider = Version.Provider.class,
        description = "Create or update resources from YAML or JSON documents, several per file allowed.")
final class ApplyCommand extends ClientCommand {
    static final String STDIN = "-";

    @Option(names = {"-f", "--filename"}, required = true, paramLabel = "FILE",
            description = "A YAML or JSON file, a folder of them, or - for standard input; repeat for several.")
    private List<String> files;

    @Mixin
    private NamespaceOptions namespaceOptions;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
            description = "yaml or json prints the applied resources; the default prints one line per resource.")
    private OutputFormat output;

    /** One request body and where it came from. */
    record Source(String name, byte[] body, String contentType) {
    }

    @Override
    public Integer call() {
        var sources = read();
        var client = client();
        var applied = new ArrayList<JsonNode>();
        for (var source : sources) {
            var response = client.apply(source.body(), source.contentType(), namespaceOptions.namespace(), source.name());
            var items = new ArrayList<JsonNode>();
            response.path("items").forEach(items::add);
            applied.addAll(items);
            if (!output.isStructured()) {
                for (var result : response.path("results")) out().println(line(result, items));
                out().flush();
            }
        }
        if (output.isStructured()) {
            var shown = applied.size() == 1 ? applied.getFirst() : CapstanClient.listObject(applied, "");
            Printer.print(out(), shown, output, true);
        }
        return ExitCodes.OK;
    }

    /** {@code job.capstan.io/hello created}, as kubectl reports an apply. */
    static String line(JsonNode result, List<JsonNode> items) {
        var kind = result.path("kind").asText("");
        var namespace = result.path("namespace").asText("");
        var name = result.path("name").asText("");
        var apiVersion = items.stream()
                .filter(i -> i.path("kind").asText("").equals(kind)
                        && i.path("metadata").path("name").asText("").equals(name)
                        && i.path("metadata").path("namespace").asText("").equals(namespace))
                .map(i -> i.path("apiVersion").asText(""))
                .findFirst().orElse("");
        var type = new ResourceType(kind, apiVersion, "", List.of());
        return Names.printable(type.qualifiedName()) + "/" + Names.printable(name) + " " + result.path("action").asText("applied");
    }

    private List<Source> read() {
        var sources = new ArrayList<Source>();
        boolean stdinRead = false;
        for (var file : files) {
            if (file.equals(STDIN)) {
                if (stdinRead) throw new UsageException("-f - is given twice; standard input can be read only once");
                stdinRead = true;
                byte[] body;
                try {
                    body = root.stdin().readAllBytes();
                } catch (IOException e) {
                    throw new CommandFailedException("cannot read standard input: " + e.getMessage(), e);
                }
                sources.add(new Source("<stdin>", body, looksLikeJson(body) ? "application/json" : "application/yaml"));
            } else {
                sources.addAll(readPath(Path.of(file), file));
            }
        }
        return sources;
    }

    static List<Source> readPath(Path path, String shownName) {
        try {
            if (Files.isDirectory(path)) {
                List<Path> children;
                try (Stream<Path> list = Files.list(path)) {
                    children = list.filter(p -> isDocumentFile(p) && Files.isRegularFile(p)).sorted().toList();
                }
                if (children.isEmpty()) {
                    throw new InvalidSpecException("folder '" + Names.printable(shownName) + "' holds no .yaml, .yml or .json files");
                }
                var sources = new ArrayList<Source>();
                for (var child : children) sources.addAll(readPath(child, child.toString()));
                return sources;
            }
            var body = Files.readAllBytes(path);
            var json = path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json");
            return List.of(new Source(shownName, body, json ? "application/json" : "application/yaml"));
        } catch (NoSuchFileException e) {
            throw new InvalidSpecException("cannot read '" + Names.printable(shownName) + "': no such file");
        } catch (IOException e) {
            throw new InvalidSpecException("cannot read '" + Names.printable(shownName) + "': " + CapstanClient.describe(e));
        }
    }

    private static boolean isDocumentFile(Path p) {
        var name = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return name.endsWith(".yaml") || name.endsWith(".yml") || name.endsWith(".json");
    }

    static boolean looksLikeJson(byte[] body) {
        for (byte b : body) {
            if (b == ' ' || b == '\t' || b == '\r' || b == '\n') continue;
            return b == '{' || b == '[';
        }
        return false;
    }
}
