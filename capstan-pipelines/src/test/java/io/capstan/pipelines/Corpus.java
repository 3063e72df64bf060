package io.capstan.pipelines;

import io.capstan.store.testing.Conformance;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Locates the shared conformance corpus, which is read in place and never copied into the repository. */
final class Corpus {
    /** {@code <clone>/../shared/conformance/kubeflow-pipelines}. */
    static final Path KFP = Conformance.path("kubeflow-pipelines");
    static final Path COMPILED = KFP.resolve("test_data/sdk_compiled_pipelines");

    private Corpus() {
    }

    /** Skips the calling test outside CI, or fails it under CI, when the corpus is missing. */
    static void require() {
        Conformance.require(COMPILED);
    }

    /** Pipeline files under {@code dir}, relative paths sorted; one placeholder when the corpus is absent, so the test can skip. */
    static List<Path> pipelines(Path dir) {
        if (!Files.isDirectory(dir)) return List.of(Path.of("corpus-absent"));
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile)
                    .filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml") || p.toString().endsWith(".json"))
                    .sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
