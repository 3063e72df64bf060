package io.capstan.pipelines;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Locates the shared conformance corpus, which is read in place and never copied into the repository. */
final class Corpus {
    /** {@code <clone>/../shared/conformance/kubeflow-pipelines}, seen from a module directory. */
    static final Path KFP = Path.of(System.getProperty("user.dir")).toAbsolutePath().getParent()
            .resolveSibling("shared").resolve("conformance").resolve("kubeflow-pipelines");
    static final Path COMPILED = KFP.resolve("test_data/sdk_compiled_pipelines");
    static final String ABSENT = "conformance corpus not found at " + KFP + "; it lives in ../shared next to the clone";

    private Corpus() {
    }

    static boolean present() {
        return Files.isDirectory(COMPILED);
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
