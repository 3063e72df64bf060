package io.capstan.artifacts;

import io.capstan.core.ConflictException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

class LocalArtifactStoreTest extends ArtifactStoreContract {
    @TempDir
    Path root;
    private LocalArtifactStore store;

    @BeforeEach
    void open() {
        store = new LocalArtifactStore(root, CLOCK);
    }

    @Override
    ArtifactStore store() {
        return store;
    }

    @Override
    void corruptStoredBytes(String key) throws IOException {
        var blob = Path.of(URI.create(store.uriOf(key)));
        Files.setPosixFilePermissions(blob, PosixFilePermissions.fromString("rw-r--r--"));
        var bytes = Files.readAllBytes(blob);
        bytes[0] ^= 0x01;
        Files.write(blob, bytes);
    }

    @Test
    void bytesLiveOnceUnderTheirDigestAndKeysArePointers() throws IOException {
        var a = store.put("runs/1/model.bin", bytes("same bytes"));
        var b = store.put("runs/2/model.bin", bytes("same bytes"));

        assertThat(a.uri()).isEqualTo(b.uri());
        assertThat(blobs()).singleElement().satisfies(blob -> {
            assertThat(blob.getFileName().toString()).isEqualTo(a.sha256());
            assertThat(blob.getParent().getFileName().toString()).isEqualTo(a.sha256().substring(0, 2));
            assertThat(Files.getPosixFilePermissions(blob)).doesNotContain(
                    PosixFilePermission.OWNER_WRITE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_WRITE);
        });
        assertThat(root.resolve("refs/runs.d/1.d/model.bin.json")).isRegularFile();
        assertThat(Path.of(URI.create(a.uri()))).hasContent("same bytes");
    }

    @Test
    void concurrentWritersOfTheSameContentLeaveOneBlobAndNoTemporaryFiles() throws Exception {
        concurrently(i -> store.put("shared/model.bin", bytes("identical content")));

        assertThat(blobs()).hasSize(1);
        try (var tmp = Files.list(root.resolve("tmp"))) {
            assertThat(tmp).isEmpty();
        }
    }

    @Test
    void ofConcurrentWritersOfDifferentContentExactlyOneWinsAndTheOthersConflict() throws Exception {
        var outcomes = new java.util.concurrent.ConcurrentLinkedQueue<Object>();
        concurrently(i -> {
            try {
                var info = store.put("race/model.bin", bytes("content " + i));
                outcomes.add(info);
                return info;
            } catch (ConflictException e) {
                outcomes.add(e);
                return null;
            }
        });

        assertThat(outcomes).filteredOn(ArtifactInfo.class::isInstance).hasSize(1);
        assertThat(outcomes).filteredOn(ConflictException.class::isInstance).hasSize(WRITERS - 1);
    }

    @Test
    void aMissingBlobIsReportedAsCorruption() throws IOException {
        var info = store.put("model.bin", bytes("weights"));
        Files.delete(Path.of(URI.create(info.uri())));

        assertThatExceptionOfType(CorruptArtifactException.class)
                .isThrownBy(() -> store.get("model.bin"))
                .withMessageContaining("model.bin")
                .withMessageContaining(info.sha256())
                .withMessageContaining("missing");
    }

    @Test
    void aTruncatedBlobIsHealedByWritingTheSameContentAgain() throws IOException {
        var info = store.put("model.bin", bytes("weights"));
        var blob = Path.of(URI.create(info.uri()));
        Files.setPosixFilePermissions(blob, PosixFilePermissions.fromString("rw-r--r--"));
        Files.write(blob, new byte[] {'w'});

        store.put("model.bin", bytes("weights"));

        assertThat(read(store.get("model.bin"))).isEqualTo("weights");
    }

    @Test
    void bytesChangedWhileBeingReadFailAtTheEndOfTheStream() throws IOException {
        var info = store.put("model.bin", bytes("x".repeat(100_000)));
        try (var in = store.get("model.bin")) {
            var blob = Path.of(URI.create(info.uri()));
            Files.setPosixFilePermissions(blob, PosixFilePermissions.fromString("rw-r--r--"));
            try (var channel = java.nio.channels.FileChannel.open(blob, java.nio.file.StandardOpenOption.WRITE)) {
                channel.write(java.nio.ByteBuffer.wrap(new byte[] {'y'}), 99_999);
            }
            assertThatExceptionOfType(CorruptArtifactException.class).isThrownBy(in::readAllBytes)
                    .satisfies(e -> assertThat(e.expectedSha256()).isEqualTo(info.sha256()));
        }
    }

    @Test
    void anotherStoreOnTheSameRootSeesTheSameArtifacts() throws IOException {
        store.put("a/b.txt", bytes("hello"));

        var reopened = new LocalArtifactStore(root, CLOCK);

        assertThat(read(reopened.get("a/b.txt"))).isEqualTo("hello");
        assertThat(reopened.list("")).extracting(ArtifactInfo::key).containsExactly("a/b.txt");
    }

    private Stream<Path> blobs() throws IOException {
        try (var walk = Files.walk(root.resolve("blobs"))) {
            return walk.filter(Files::isRegularFile).toList().stream();
        }
    }
}
