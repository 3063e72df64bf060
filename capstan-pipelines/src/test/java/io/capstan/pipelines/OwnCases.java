package io.capstan.pipelines;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Capstan's own IR cases under {@code src/test/resources/ir}: adding a case means adding a file. */
final class OwnCases {
    private OwnCases() {
    }

    static List<Path> files(String folder) {
        try (Stream<Path> files = Files.list(Path.of(OwnCases.class.getResource("/ir/" + folder).toURI()))) {
            return files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Path file(String relative) {
        try {
            return Path.of(OwnCases.class.getResource("/ir/" + relative).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The value of a {@code # key: value} header line, or empty. */
    static String header(String text, String key) {
        return text.lines().takeWhile(l -> l.startsWith("#"))
                .filter(l -> l.startsWith("# " + key + ":"))
                .map(l -> l.substring(key.length() + 3).strip())
                .findFirst().orElse("");
    }

    static String read(Path file) {
        return Corpus.read(file);
    }
}
