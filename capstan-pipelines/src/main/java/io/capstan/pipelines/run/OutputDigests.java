package io.capstan.pipelines.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * SHA-256 digests of a step's output artifacts, recorded with its cache entry when it succeeds and checked before
 * the entry is reused, so that a deleted or rewritten output is never handed on as if it were the one cached.
 *
 * <p>Digests are {@code {output name: ["sha256:<hex>", ...]}}, one per artifact of the output, in order. An artifact
 * that is a folder digests its relative paths and its files' digests, walked in name order. {@code file://} URIs are
 * read here; any other URI is asked of a {@code remote} digest function (for {@code s3://} objects, the SHA-256s
 * recorded when they were written). An artifact neither can digest, or one missing when the step finished, gets
 * {@code ""} and is not checked.
 */
final class OutputDigests {
    /** How a staleness message says an output's bytes differ from those cached: an integrity failure. */
    static final String CHANGED = "changed since it was cached";

    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final String PREFIX = "sha256:";
    private static final Function<String, Optional<String>> NO_REMOTE = uri -> Optional.empty();

    private OutputDigests() {
    }

    /** The digests of {@code artifacts} ({@code {name: [artifact]}}) as they are now. */
    static ObjectNode of(ObjectNode artifacts) {
        return of(artifacts, NO_REMOTE);
    }

    /** As {@link #of(ObjectNode)}, with {@code remote} digesting URIs that are not local files. */
    static ObjectNode of(ObjectNode artifacts, Function<String, Optional<String>> remote) {
        var out = F.objectNode();
        artifacts.properties().forEach(e -> {
            var list = out.putArray(e.getKey());
            e.getValue().forEach(a -> list.add(digest(a.path("uri").asText(""), remote).orElse("")));
        });
        return out;
    }

    /**
     * Why the cached {@code artifacts} may not be reused: an output that is gone, or whose digest differs from the
     * one in {@code recorded}. An output with no recorded digest (entries from before digests were kept) is only
     * checked for existence. Empty when every output is as it was.
     */
    static Optional<String> staleness(ObjectNode artifacts, JsonNode recorded) {
        return staleness(artifacts, recorded, NO_REMOTE);
    }

    /**
     * As {@link #staleness(ObjectNode, JsonNode)}, with {@code remote} digesting URIs that are not local files; a remote
     * output with a recorded digest that {@code remote} can no longer digest is missing.
     */
    static Optional<String> staleness(ObjectNode artifacts, JsonNode recorded, Function<String, Optional<String>> remote) {
        for (var e : artifacts.properties()) {
            var list = e.getValue();
            for (int i = 0; i < list.size(); i++) {
                var uri = list.get(i).path("uri").asText("");
                var expected = recorded.path(e.getKey()).path(i);
                if (expected.isTextual() && expected.asText().isEmpty()) continue;
                if (!uri.startsWith(RunLayout.FILE) && !expected.isTextual()) continue;
                var now = digest(uri, remote);
                if (now.isEmpty()) return Optional.of("output '%s' at %s is missing".formatted(e.getKey(), uri));
                if (expected.isTextual() && !expected.asText().equals(now.get())) {
                    return Optional.of(("output '%s' at %s " + CHANGED + " (digest %s then, %s now)")
                            .formatted(e.getKey(), uri, expected.asText(), now.get()));
                }
            }
        }
        return Optional.empty();
    }

    /** The digest of the file or folder at a {@code file://} URI; empty when it is missing or the URI is not local. */
    static Optional<String> digest(String uri) {
        return digest(uri, NO_REMOTE);
    }

    private static Optional<String> digest(String uri, Function<String, Optional<String>> remote) {
        if (!uri.startsWith(RunLayout.FILE)) return uri.isEmpty() ? Optional.empty() : remote.apply(uri);
        var path = Path.of(RunLayout.localPath(uri));
        try {
            if (Files.isRegularFile(path)) return Optional.of(PREFIX + HexFormat.of().formatHex(fileDigest(path)));
            if (Files.isDirectory(path)) return Optional.of(PREFIX + HexFormat.of().formatHex(folderDigest(path)));
            return Optional.empty();
        } catch (IOException | UncheckedIOException e) {
            // Unreadable counts as missing: the caller records no digest, or re-runs rather than trusting it.
            return Optional.empty();
        }
    }

    private static byte[] folderDigest(Path root) throws IOException {
        List<Path> entries;
        try (Stream<Path> walk = Files.walk(root)) {
            entries = walk.filter(p -> !p.equals(root)).sorted().toList();
        }
        var md = sha256();
        for (var p : entries) {
            var relative = root.relativize(p).toString().replace('\\', '/');
            if (Files.isSymbolicLink(p)) {
                md.update(("L " + relative + "\0" + Files.readSymbolicLink(p) + "\n").getBytes(StandardCharsets.UTF_8));
            } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                md.update(("D " + relative + "\n").getBytes(StandardCharsets.UTF_8));
            } else {
                md.update(("F " + relative + "\0" + HexFormat.of().formatHex(fileDigest(p)) + "\n").getBytes(StandardCharsets.UTF_8));
            }
        }
        return md.digest();
    }

    private static byte[] fileDigest(Path file) throws IOException {
        var md = sha256();
        try (InputStream in = Files.newInputStream(file)) {
            var buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        return md.digest();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
