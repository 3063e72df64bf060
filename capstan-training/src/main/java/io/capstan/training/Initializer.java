package io.capstan.training;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Names;
import io.capstan.core.Problems;
import io.capstan.core.SpecFields;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A TrainJob's dataset or model initializer. Capstan does the initializer's work itself instead of running its
 * container: a local path is handed to the trainer as it is, an {@code s3://} or {@code capstan://} URI is copied
 * from the artifact store into the job's folder before the first launch, and anything else (hf://, gs://, ...) cannot
 * be reached offline and refuses the job with that reason.
 *
 * @param name     dataset or model
 * @param local    the path the trainer reads, when the source is already on this machine
 * @param fetchUri the artifact URI to copy into the job's folder, when it is not
 */
record Initializer(String name, Optional<Path> local, Optional<String> fetchUri, Optional<String> refusal) {
    static final String DATASET = "dataset";
    static final String MODEL = "model";

    /** The variable the trainer reads the initialized path from. */
    String envName() {
        return name.equals(DATASET) ? "CAPSTAN_DATASET_PATH" : "CAPSTAN_PRETRAINED_MODEL_PATH";
    }

    Map<String, String> env() {
        return local.map(p -> Map.of(envName(), p.toString())).orElse(Map.of());
    }

    static List<Initializer> read(JsonNode spec, Problems problems) {
        var out = new ArrayList<Initializer>();
        var init = SpecFields.object(spec.get("initializer"), "spec.initializer", problems);
        if (init.isEmpty()) return out;
        for (var name : List.of(DATASET, MODEL)) {
            var path = "spec.initializer." + name;
            var node = SpecFields.object(init.get().get(name), path, problems);
            if (node.isEmpty()) continue;
            ContainerFields.env(node.get().get("env"), path + ".env", problems, new ArrayList<>());
            var uri = SpecFields.text(node.get().get("storageUri"), path + ".storageUri", ContainerFields.MAX_STRING, problems);
            if (uri.isEmpty()) continue;
            of(name, uri.get(), path + ".storageUri", problems).ifPresent(out::add);
        }
        return out;
    }

    private static Optional<Initializer> of(String name, String uri, String path, Problems problems) {
        if (uri.isBlank()) {
            problems.add(path, "must not be empty");
            return Optional.empty();
        }
        if (uri.startsWith("/")) return Optional.of(new Initializer(name, Optional.of(Path.of(uri).normalize()), Optional.empty(), Optional.empty()));
        int sep = uri.indexOf("://");
        if (sep <= 0) {
            problems.add(path, "'" + Names.printable(uri) + "' is neither an absolute path nor a URI such as file:///data, s3://bucket/key or capstan://artifacts/key");
            return Optional.empty();
        }
        var scheme = uri.substring(0, sep).toLowerCase(Locale.ROOT);
        return Optional.of(switch (scheme) {
            case "file" -> {
                var p = uri.substring(sep + 3);
                if (!p.startsWith("/")) {
                    problems.add(path, "file URI '" + Names.printable(uri) + "' must be absolute: file:///abs/path");
                    yield null;
                }
                yield new Initializer(name, Optional.of(Path.of(p).normalize()), Optional.empty(), Optional.empty());
            }
            case "s3", "capstan" -> new Initializer(name, Optional.empty(), Optional.of(uri), Optional.empty());
            default -> new Initializer(name, Optional.empty(), Optional.empty(), Optional.of(path + ": " + Names.printable(uri)
                    + " cannot be reached offline (" + scheme + "://); download it first and give a local path, an s3:// URI or a capstan:// artifact URI"));
        }).filter(i -> i != null);
    }
}
