package io.capstan.serving.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** Finds the model file in a downloaded model, which may be the file itself or a directory holding it. */
final class ModelFiles {
    private ModelFiles() {
    }

    /**
     * The file {@code path} names, or in a directory: {@code preferredName} if present, else the
     * only file ending in one of {@code extensions}.
     */
    static Path single(Path path, String extensionsCsv, String preferredName) throws ModelLoadException {
        if (Files.isRegularFile(path)) {
            return path;
        }
        if (!Files.isDirectory(path)) {
            throw new ModelLoadException("model path " + path + " does not exist");
        }
        if (preferredName != null && Files.isRegularFile(path.resolve(preferredName))) {
            return path.resolve(preferredName);
        }
        List<String> extensions = Arrays.asList(extensionsCsv.split(","));
        try (var files = Files.list(path)) {
            var matches = files.filter(Files::isRegularFile)
                    .filter(f -> extensions.stream().anyMatch(e -> f.getFileName().toString().endsWith(e)))
                    .sorted()
                    .toList();
            if (matches.size() == 1) {
                return matches.getFirst();
            }
            if (matches.isEmpty()) {
                throw new ModelLoadException("no model file (" + extensionsCsv + ") in " + path);
            }
            throw new ModelLoadException("several model files in " + path + ": " + matches.stream()
                    .map(p -> p.getFileName().toString()).toList() + "; point storageUri at one of them");
        } catch (IOException e) {
            throw new ModelLoadException("cannot list " + path + ": " + e.getMessage(), e);
        }
    }
}
