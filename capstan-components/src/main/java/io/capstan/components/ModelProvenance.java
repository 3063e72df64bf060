package io.capstan.components;

import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import io.capstan.core.PermanentFailureException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.TreeMap;

/**
 * What a model artifact was trained from and how, stored as {@code provenance.json} beside the model file.
 *
 * @param kind           which library trained it
 * @param component      the built-in component that trained it
 * @param trainedAt      when training finished
 * @param modelFile      the model file's name inside the artifact directory
 * @param modelSha256    the model file's SHA-256
 * @param dataset        the training data
 * @param labelColumn    the column predicted
 * @param featureColumns the feature columns, in the order the model reads them
 * @param classes        the class labels, in the order of the model's outputs
 * @param parameters     every training parameter, defaults included, sorted by name
 * @param seed           the random seed
 * @param library        the training library and its version
 * @param platform       the JVM, OS and Capstan version it ran on
 */
record ModelProvenance(ModelKind kind, String component, Instant trainedAt, String modelFile, String modelSha256,
                       DatasetRef dataset, String labelColumn, List<String> featureColumns, List<String> classes,
                       Map<String, Object> parameters, long seed, Library library, Platform platform) {
    static final String FILE = "provenance.json";

    ModelProvenance {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(component, "component");
        Objects.requireNonNull(trainedAt, "trainedAt");
        Objects.requireNonNull(modelFile, "modelFile");
        Objects.requireNonNull(modelSha256, "modelSha256");
        Objects.requireNonNull(dataset, "dataset");
        Objects.requireNonNull(labelColumn, "labelColumn");
        featureColumns = List.copyOf(featureColumns);
        classes = List.copyOf(classes);
        parameters = Collections.unmodifiableMap(new TreeMap<>(parameters));
        Objects.requireNonNull(library, "library");
        Objects.requireNonNull(platform, "platform");
    }

    /** The training dataset: where it was, its SHA-256 and its size. */
    record DatasetRef(String uri, String sha256, int rows) {
        DatasetRef {
            Objects.requireNonNull(uri, "uri");
            Objects.requireNonNull(sha256, "sha256");
        }
    }

    record Library(String name, String version) {
        Library {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(version, "version");
        }
    }

    record Platform(String javaVersion, String javaVendor, String osName, String osArch, int availableProcessors,
                   String capstanComponentsVersion) {
        static Platform current() {
            return new Platform(System.getProperty("java.version"), System.getProperty("java.vendor"),
                    System.getProperty("os.name"), System.getProperty("os.arch"),
                    java.lang.Runtime.getRuntime().availableProcessors(), capstanVersion());
        }
    }

    void write(Path directory) {
        try {
            LocalFiles.writeString(directory.resolve(FILE), Json.json().writerWithDefaultPrettyPrinter().writeValueAsString(this),
                    "model provenance");
        } catch (IOException e) {
            throw new PermanentFailureException("could not render model provenance: " + e.getMessage(), e);
        }
    }

    /** Reads the provenance of the model artifact at {@code directory}; {@code input} names the artifact. */
    static ModelProvenance read(Path directory, String input) {
        var file = directory.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new InvalidSpecException("input artifact '%s' has no %s at %s; connect it to the model output of train-xgboost or train-logistic-regression"
                    .formatted(input, FILE, directory));
        }
        try {
            return Json.json().readValue(file.toFile(), ModelProvenance.class);
        } catch (IOException e) {
            throw new InvalidSpecException("input artifact '%s' has an unreadable %s (%s); retrain the model with a built-in trainer"
                    .formatted(input, file, e.getMessage().lines().findFirst().orElse("")));
        }
    }

    static String capstanVersion() {
        try (InputStream in = ModelProvenance.class.getResourceAsStream("capstan-components.properties")) {
            if (in == null) return "unknown";
            var p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
