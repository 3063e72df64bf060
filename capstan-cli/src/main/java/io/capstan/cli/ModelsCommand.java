package io.capstan.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code capstan models list|get|versions|register|alias|deploy|delete}; register, deploy and delete take
 * {@code --version} for a model version, so they have {@code --help} but not picocli's standard {@code --version}.
 * It talks to the Model Registry through its Kubeflow REST
 * API ({@code /api/model_registry/v1alpha3}) and Capstan's extension ({@code /apis/capstan/v1/registry}).
 */
@Command(name = "models", mixinStandardHelpOptions = true, versionProvider = Version.Provider.class,
        description = "List, register, alias, deploy and delete models in the Model Registry.")
final class ModelsCommand {
    static final String API = "/api/model_registry/v1alpha3";
    static final String EXTENSION = "/apis/capstan/v1/registry";

    @ParentCommand
    Capstan root;

    @Spec
    CommandSpec spec;

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List registered models.")
    int list(@Mixin ClientOptions options, @Mixin NamespaceOptions namespace,
             @Option(names = "--filter", paramLabel = "QUERY", description = "A filterQuery, such as \"owner = 'ann'\".") String filter) {
        var client = options.client(root.env());
        var table = new Table(List.of("ID", "NAME", "STATE", "OWNER", "UPDATED"));
        for (var m : all(client, API + "/registered_models", namespace.namespace(), filter)) {
            table.add(List.of(m.path("id").asText(), m.path("name").asText(), m.path("state").asText(), m.path("owner").asText(""),
                    time(m.path("lastUpdateTimeSinceEpoch").asText())));
        }
        spec.commandLine().getOut().print(table.render());
        return ExitCodes.OK;
    }

    @Command(name = "get", mixinStandardHelpOptions = true, description = "Show a registered model, its aliases and its versions.")
    int get(@Mixin ClientOptions options, @Mixin NamespaceOptions namespace, @Parameters(paramLabel = "NAME", description = "The model's name.") String name) {
        var client = options.client(root.env());
        var model = model(client, namespace.namespace(), name);
        var out = spec.commandLine().getOut();
        out.println("model " + name + " (id " + model.path("id").asText() + "): " + model.path("state").asText()
                + (model.path("description").asText("").isEmpty() ? "" : " - " + model.path("description").asText()));
        var aliases = client.call("GET", EXTENSION + "/registered_models/" + model.path("id").asText() + "/aliases" + ns(namespace.namespace(), "?"), null);
        for (var a : aliases.path("items")) out.println("alias " + a.path("alias").asText() + " -> version id " + a.path("modelVersionId").asText());
        out.print(versionTable(client, namespace.namespace(), model.path("id").asText(), null).render());
        out.flush();
        return ExitCodes.OK;
    }

    @Command(name = "versions", mixinStandardHelpOptions = true, description = "List a model's versions.")
    int versions(@Mixin ClientOptions options, @Mixin NamespaceOptions namespace, @Parameters(paramLabel = "NAME", description = "The model's name.") String name,
                 @Option(names = "--filter", paramLabel = "QUERY", description = "A filterQuery, such as \"accuracy.double_value > 0.9\".") String filter) {
        var client = options.client(root.env());
        var model = model(client, namespace.namespace(), name);
        spec.commandLine().getOut().print(versionTable(client, namespace.namespace(), model.path("id").asText(), filter).render());
        return ExitCodes.OK;
    }

    @Command(name = "register",
            description = {"Register a version of a model (the model too, if new) with its model artifact.",
                    "A local file is uploaded to the server's artifact store (stored by its SHA-256; an ONNX model's signature is recorded);"
                            + " a URI or a folder is registered where it is."})
    int register(@Mixin ClientOptions options, @Mixin NamespaceOptions namespace, @Option(names = {"-h", "--help"}, usageHelp = true,
                         description = "Show this help message and exit.") boolean help,
                 @Parameters(paramLabel = "URI|FILE", description = "Where the model is: a URI (s3://, https://, file://) or a local path.") String location,
                 @Option(names = "--name", required = true, paramLabel = "MODEL", description = "The registered model's name.") String name,
                 @Option(names = "--version", required = true, paramLabel = "VERSION", description = "The version's name, unique within the model.") String version,
                 @Option(names = "--format", paramLabel = "FORMAT", description = "The model format, such as onnx, xgboost or sklearn (implied by a .onnx file).") String format,
                 @Option(names = "--format-version", paramLabel = "V", description = "The format's version.") String formatVersion,
                 @Option(names = "--author", paramLabel = "WHO", description = "The version's author.") String author,
                 @Option(names = "--description", paramLabel = "TEXT", description = "The version's description.") String description,
                 @Option(names = "--property", paramLabel = "KEY=VALUE", description = "A custom property (numbers are stored as numbers); repeatable.")
                 Map<String, String> properties) {
        var client = options.client(root.env());
        var ns = namespace.namespace();
        var out = spec.commandLine().getOut();
        String uri = location;
        if (!location.contains("://")) {
            var path = Path.of(location).toAbsolutePath().normalize();
            if (!Files.exists(path)) throw new UsageException("no file or folder '" + location + "'; give a path that exists or a URI such as s3://bucket/model.onnx");
            if (Files.isRegularFile(path)) {
                var fields = new java.util.LinkedHashMap<String, String>();
                fields.put("name", name);
                fields.put("version", version);
                if (format != null) fields.put("modelFormatName", format);
                if (formatVersion != null) fields.put("modelFormatVersion", formatVersion);
                if (author != null) fields.put("author", author);
                if (description != null) fields.put("description", description);
                var r = client.upload(EXTENSION + "/upload" + ns(ns, "?"), fields, path);
                var v = r.path("modelVersion");
                if (properties != null && !properties.isEmpty()) {
                    var custom = v.path("customProperties").deepCopy();
                    new TreeMap<>(properties).forEach((k, val) -> ((com.fasterxml.jackson.databind.node.ObjectNode) custom).set(k, property(val)));
                    var patch = Json.json().createObjectNode();
                    patch.set("customProperties", custom);
                    client.call("PATCH", API + "/model_versions/" + v.path("id").asText() + ns(ns, "?"), patch.toString());
                }
                var a = r.path("modelArtifact");
                out.println("model " + name + " version " + version + " registered (version id " + v.path("id").asText() + ", uploaded "
                        + a.path("customProperties").path("sizeBytes").path("int_value").asText() + " bytes to " + a.path("uri").asText() + ")");
                for (var side : List.of("inputs", "outputs")) {
                    for (var t : r.path("signature").path(side)) {
                        out.println("  " + side.substring(0, side.length() - 1) + " " + t.path("name").asText() + " " + t.path("datatype").asText() + " " + t.path("shape"));
                    }
                }
                return ExitCodes.OK;
            }
            uri = "file://" + path;
        }
        if (format == null) throw new UsageException("--format is needed for " + uri + ", such as --format onnx");
        var found = find(client, API + "/registered_model?name=" + enc(name) + ns(ns, "&"));
        String modelId;
        if (found == null) {
            modelId = client.call("POST", API + "/registered_models" + ns(ns, "?"), Json.json().createObjectNode().put("name", name).toString()).path("id").asText();
        } else {
            modelId = found.path("id").asText();
        }
        var body = Json.json().createObjectNode().put("name", version).put("registeredModelId", modelId);
        if (author != null) body.put("author", author);
        if (description != null) body.put("description", description);
        if (properties != null && !properties.isEmpty()) {
            var custom = body.putObject("customProperties");
            new TreeMap<>(properties).forEach((k, v) -> custom.set(k, property(v)));
        }
        var created = client.call("POST", API + "/model_versions" + ns(ns, "?"), body.toString());
        var artifact = Json.json().createObjectNode().put("artifactType", "model-artifact").put("name", name + "-" + version).put("uri", uri)
                .put("modelFormatName", format).put("state", "LIVE");
        if (formatVersion != null) artifact.put("modelFormatVersion", formatVersion);
        client.call("POST", API + "/model_versions/" + created.path("id").asText() + "/artifacts" + ns(ns, "?"), artifact.toString());
        out.println("model " + name + " version " + version + " registered (version id " + created.path("id").asText() + ", " + uri + ")");
        return ExitCodes.OK;
    }

    @Command(name = "alias", mixinStandardHelpOptions = true, description = "Point an alias (such as champion) at a version, move it, or delete it.")
    int alias(@Mixin ClientOptions options, @Mixin NamespaceOptions namespace,
              @Parameters(index = "0", paramLabel = "NAME", description = "The model's name.") String name,
              @Parameters(index = "1", paramLabel = "ALIAS", description = "The alias.") String alias,
              @Parameters(index = "2", arity = "0..1", paramLabel = "VERSION", description = "The version it names; leave out with --delete.") String version,
              @Option(names = "--delete", description = "Delete the alias.") boolean delete) {
        var client = options.client(root.env());
        var ns = namespace.namespace();
        var model = model(client, ns, name);
        var path = EXTENSION + "/registered_models/" + model.path("id").asText() + "/aliases/" + enc(alias) + ns(ns, "?");
        var out = spec.commandLine().getOut();
        if (delete) {
            if (version != null) throw new UsageException("--delete takes no VERSION");
            client.call("DELETE", path, null);
            out.println("alias " + alias + " of " + name + " deleted");
            return ExitCodes.OK;
        }
        if (version == null) throw new UsageException("give the VERSION the alias names, or --delete");
        var v = version(client, ns, model, version);
        var set = client.call("PUT", path, Json.json().createObjectNode().put("modelVersionId", v.path("id").asText()).toString());
        out.println("alias " + alias + " of " + name + " -> version " + version);
        for (var s : set.path("redeployed")) out.println("inference service " + s.asText() + " now serves version " + version);
        return ExitCodes.OK;
    }

    static final class Target {
        @Option(names = "--version", paramLabel = "VERSION", description = "Deploy this version.") String version;
        @Option(names = "--alias", paramLabel = "ALIAS", description = "Deploy the version this alias names, and follow the alias when it moves.") String alias;
    }

    @Command(name = "deploy", description = "Serve a version as an InferenceService (created or updated).")
    int deploy(@Mixin ClientOptions options, @Mixin NamespaceOptions namespace, @Option(names = {"-h", "--help"}, usageHelp = true,
                       description = "Show this help message and exit.") boolean help, @Parameters(paramLabel = "NAME", description = "The model's name.") String name,
               @ArgGroup(multiplicity = "1") Target target,
               @Option(names = "--service", paramLabel = "ISVC", description = "The InferenceService's name (default: the model's).") String service) {
        var client = options.client(root.env());
        var ns = namespace.namespace();
        var model = model(client, ns, name);
        String versionId;
        var body = Json.json().createObjectNode();
        if (target.alias != null) {
            versionId = client.call("GET", EXTENSION + "/registered_models/" + model.path("id").asText() + "/aliases/" + enc(target.alias) + ns(ns, "?"), null)
                    .path("id").asText();
            body.put("alias", target.alias);
        } else {
            versionId = version(client, ns, model, target.version).path("id").asText();
        }
        if (service != null) body.put("name", service);
        var d = client.call("POST", API + "/model_versions/" + versionId + ":deploy" + ns(ns, "?"), body.toString());
        spec.commandLine().getOut().println("inference service " + d.path("name").asText() + " serves " + name + " version id " + d.path("modelVersionId").asText()
                + " from " + d.path("storageUri").asText() + (target.alias != null ? " (follows alias " + target.alias + ")" : ""));
        return ExitCodes.OK;
    }

    @Command(name = "delete", description = "Delete a model (with its versions) or one version.")
    int delete(@Mixin ClientOptions options, @Mixin NamespaceOptions namespace, @Option(names = {"-h", "--help"}, usageHelp = true,
                       description = "Show this help message and exit.") boolean help, @Parameters(paramLabel = "NAME", description = "The model's name.") String name,
               @Option(names = "--version", paramLabel = "VERSION", description = "Delete only this version.") String version,
               @Option(names = "--force", description = "Delete even while an inference service deploys it.") boolean force) {
        var client = options.client(root.env());
        var ns = namespace.namespace();
        var model = model(client, ns, name);
        var path = version == null ? API + "/registered_models/" + model.path("id").asText()
                : API + "/model_versions/" + version(client, ns, model, version).path("id").asText();
        client.call("DELETE", path + ns(ns, "?") + (force ? "&force=true" : ""), null);
        spec.commandLine().getOut().println(version == null ? "model " + name + " deleted" : "model " + name + " version " + version + " deleted");
        return ExitCodes.OK;
    }

    private Table versionTable(CapstanClient client, String ns, String modelId, String filter) {
        var aliases = new TreeMap<String, List<String>>();
        for (var a : client.call("GET", EXTENSION + "/registered_models/" + modelId + "/aliases" + ns(ns, "?"), null).path("items")) {
            aliases.computeIfAbsent(a.path("modelVersionId").asText(), k -> new ArrayList<>()).add(a.path("alias").asText());
        }
        var table = new Table(List.of("ID", "VERSION", "STATE", "AUTHOR", "ALIASES", "CREATED"));
        for (var v : all(client, API + "/registered_models/" + modelId + "/versions", ns, filter)) {
            table.add(List.of(v.path("id").asText(), v.path("name").asText(), v.path("state").asText(), v.path("author").asText(""),
                    String.join(",", aliases.getOrDefault(v.path("id").asText(), List.of())), time(v.path("createTimeSinceEpoch").asText())));
        }
        return table;
    }

    private static List<JsonNode> all(CapstanClient client, String path, String ns, String filter) {
        var out = new ArrayList<JsonNode>();
        String token = "";
        do {
            var page = client.call("GET", path + "?pageSize=500" + ns(ns, "&") + (filter == null ? "" : "&filterQuery=" + enc(filter))
                    + (token.isEmpty() ? "" : "&nextPageToken=" + enc(token)), null);
            page.path("items").forEach(out::add);
            token = page.path("nextPageToken").asText("");
        } while (!token.isEmpty());
        return out;
    }

    private static JsonNode model(CapstanClient client, String ns, String name) {
        var m = find(client, API + "/registered_model?name=" + enc(name) + ns(ns, "&"));
        if (m == null) throw new CommandFailedException("no registered model '" + name + "' in namespace '" + ns + "'; see capstan models list");
        return m;
    }

    private static JsonNode version(CapstanClient client, String ns, JsonNode model, String version) {
        var v = find(client, API + "/model_version?name=" + enc(version) + "&parentResourceId=" + model.path("id").asText() + ns(ns, "&"));
        if (v == null) throw new CommandFailedException("model " + model.path("name").asText() + " has no version '" + version + "'; see capstan models versions "
                + model.path("name").asText());
        return v;
    }

    /** The entity a find endpoint answers, or null on 404. */
    private static JsonNode find(CapstanClient client, String path) {
        try {
            return client.call("GET", path, null);
        } catch (ApiException e) {
            if (e.status() == 404) return null;
            throw e;
        }
    }

    private static JsonNode property(String value) {
        var node = Json.json().createObjectNode();
        if (value.matches("-?[0-9]{1,18}")) return node.put("metadataType", "MetadataIntValue").put("int_value", value);
        try {
            double d = Double.parseDouble(value);
            if (Double.isFinite(d) && value.matches("[-+0-9.eE]+")) return node.put("metadataType", "MetadataDoubleValue").put("double_value", d);
        } catch (NumberFormatException notNumber) {
            // a string
        }
        if (value.equals("true") || value.equals("false")) return node.put("metadataType", "MetadataBoolValue").put("bool_value", Boolean.parseBoolean(value));
        return node.put("metadataType", "MetadataStringValue").put("string_value", value);
    }

    private static String ns(String ns, String sep) {
        return sep + "namespace=" + enc(ns);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String time(String millis) {
        try {
            return java.time.Instant.ofEpochMilli(Long.parseLong(millis)).toString();
        } catch (NumberFormatException e) {
            return millis;
        }
    }
}
