package io.capstan.artifacts;

import io.capstan.core.ConflictException;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.NotFoundException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What every {@link ArtifactStore} does; each store's test extends this and supplies a fresh store per test. */
abstract class ArtifactStoreContract {
    static final Instant NOW = Instant.parse("2025-03-04T05:06:07Z");
    static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    static final int WRITERS = 8;

    /** The store under test; a fresh, empty one for each test. */
    abstract ArtifactStore store();

    /** Changes the stored bytes of {@code key} behind the store's back, keeping the digest it recorded. */
    abstract void corruptStoredBytes(String key) throws IOException;

    static InputStream bytes(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
    }

    static String read(InputStream in) throws IOException {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static Stream<String> hostileKeys() {
        return ArtifactKeysTest.hostileKeys();
    }

    @Test
    void putThenGetReturnsTheSameBytes() throws IOException {
        var info = store().put("runs/abc/model.onnx", bytes("weights"));

        assertThat(read(store().get("runs/abc/model.onnx"))).isEqualTo("weights");
        assertThat(info.key()).isEqualTo("runs/abc/model.onnx");
        assertThat(info.sizeBytes()).isEqualTo(7);
        assertThat(info.sha256()).isEqualTo("9a129038d9a00aed0cf6a7ea059ca50a813449061ab87848cf1a13eafdf33b2c"); // sha256sum of "weights"
        assertThat(info.createdAt()).isEqualTo(NOW);
        assertThat(info.uri()).isEqualTo(store().uriOf("runs/abc/model.onnx"));
    }

    @Test
    void anEmptyArtifactRoundTrips() throws IOException {
        var info = store().put("empty.txt", bytes(""));

        assertThat(info.sizeBytes()).isZero();
        assertThat(read(store().get("empty.txt"))).isEmpty();
    }

    @Test
    void statDescribesWhatWasStoredAndNothingElse() {
        var info = store().put("data/train.csv", bytes("a,b\n1,2\n"));

        assertThat(store().stat("data/train.csv")).contains(info);
        assertThat(store().stat("data/test.csv")).isEmpty();
    }

    @Test
    void getOfAMissingKeyIsNotFoundNamingTheKey() {
        assertThatExceptionOfType(NotFoundException.class)
                .isThrownBy(() -> store().get("runs/nope/model.onnx"))
                .withMessageContaining("runs/nope/model.onnx");
    }

    @Test
    void listReturnsEveryKeyUnderThePrefixInKeyOrder() {
        store().put("runs/b/out.txt", bytes("2"));
        store().put("runs/a/z.txt", bytes("1"));
        store().put("runs/a/y.txt", bytes("0"));
        store().put("runs/a.json/nested.txt", bytes("3"));
        store().put("runs/ab", bytes("4"));
        store().put("other/x.txt", bytes("5"));

        assertThat(store().list("runs/a/")).extracting(ArtifactInfo::key).containsExactly("runs/a/y.txt", "runs/a/z.txt");
        assertThat(store().list("runs/a")).extracting(ArtifactInfo::key)
                .containsExactly("runs/a.json/nested.txt", "runs/a/y.txt", "runs/a/z.txt", "runs/ab");
        assertThat(store().list("")).extracting(ArtifactInfo::key)
                .containsExactly("other/x.txt", "runs/a.json/nested.txt", "runs/a/y.txt", "runs/a/z.txt", "runs/ab", "runs/b/out.txt");
        assertThat(store().list("nothing/")).isEmpty();
        assertThat(store().list("runs/b/")).singleElement().satisfies(i -> {
            assertThat(i.sizeBytes()).isEqualTo(1);
            assertThat(i.sha256()).isEqualTo(sha256Hex("2"));
        });
    }

    @Test
    void writingTheSameContentTwiceIsANoOpReturningTheFirstWrite() throws IOException {
        var first = store().put("model.bin", bytes("same"));
        var second = store().put("model.bin", bytes("same"));

        assertThat(second).isEqualTo(first);
        assertThat(read(store().get("model.bin"))).isEqualTo("same");
    }

    @Test
    void writingDifferentContentUnderAnExistingKeyConflictsAndKeepsTheOriginal() throws IOException {
        store().put("model.bin", bytes("original"));

        assertThatExceptionOfType(ConflictException.class)
                .isThrownBy(() -> store().put("model.bin", bytes("replacement")))
                .withMessageContaining("model.bin")
                .withMessageContaining(sha256Hex("original"))
                .withMessageContaining(sha256Hex("replacement"))
                .withMessageContaining("immutable");
        assertThat(read(store().get("model.bin"))).isEqualTo("original");
    }

    @Test
    void concurrentWritersOfTheSameContentAllSucceed() throws Exception {
        var results = concurrently(i -> store().put("shared/model.bin", bytes("identical content")));

        assertThat(results).hasSize(WRITERS).allSatisfy(info -> assertThat(info.sha256()).isEqualTo(sha256Hex("identical content")));
        assertThat(read(store().get("shared/model.bin"))).isEqualTo("identical content");
        assertThat(store().list("shared/")).hasSize(1);
    }

    @Test
    void aCorruptArtifactIsReportedWithBothDigestsAndNeverServed() throws IOException {
        var info = store().put("runs/abc/model.onnx", bytes("the real weights"));
        corruptStoredBytes("runs/abc/model.onnx");

        assertThatExceptionOfType(CorruptArtifactException.class)
                .isThrownBy(() -> store().get("runs/abc/model.onnx"))
                .satisfies(e -> {
                    assertThat(e.key()).isEqualTo("runs/abc/model.onnx");
                    assertThat(e.expectedSha256()).isEqualTo(info.sha256());
                    assertThat(e.actualSha256()).isNotEqualTo(info.sha256()).matches("[0-9a-f]{64}");
                    assertThat(e.getMessage()).contains("runs/abc/model.onnx", e.expectedSha256(), e.actualSha256());
                });
    }

    @ParameterizedTest
    @MethodSource("hostileKeys")
    void hostileKeysAreRefusedByEveryOperation(String key) {
        assertThatThrownBy(() -> store().put(key, bytes("x"))).isInstanceOf(InvalidSpecException.class);
        assertThatThrownBy(() -> store().get(key)).isInstanceOf(InvalidSpecException.class);
        assertThatThrownBy(() -> store().stat(key)).isInstanceOf(InvalidSpecException.class);
        assertThatThrownBy(() -> store().uriOf(key)).isInstanceOf(InvalidSpecException.class);
        assertThat(store().list("")).isEmpty();
    }

    @Test
    void aHostilePrefixIsRefusedByList() {
        assertThatExceptionOfType(InvalidSpecException.class).isThrownBy(() -> store().list("../"));
        assertThatExceptionOfType(InvalidSpecException.class).isThrownBy(() -> store().list("/etc"));
        assertThatExceptionOfType(InvalidSpecException.class).isThrownBy(() -> store().list("a/%2e%2e/"));
    }

    interface Write {
        ArtifactInfo run(int writer) throws Exception;
    }

    /** Starts {@link #WRITERS} virtual threads at once and waits, with a deadline, for all of them. */
    static List<ArtifactInfo> concurrently(Write write) throws InterruptedException, ExecutionException, TimeoutException {
        var start = new CountDownLatch(1);
        var futures = new ArrayList<Future<ArtifactInfo>>();
        try (var exec = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < WRITERS; i++) {
                int writer = i;
                futures.add(exec.submit(() -> {
                    if (!start.await(10, TimeUnit.SECONDS)) throw new TimeoutException("start gate");
                    return write.run(writer);
                }));
            }
            start.countDown();
            var results = new ArrayList<ArtifactInfo>();
            for (var f : futures) results.add(f.get(30, TimeUnit.SECONDS));
            return results;
        }
    }

    static String sha256Hex(String s) {
        var digest = Sha256.newDigest();
        digest.update(s.getBytes(StandardCharsets.UTF_8));
        return Sha256.hex(digest);
    }
}
