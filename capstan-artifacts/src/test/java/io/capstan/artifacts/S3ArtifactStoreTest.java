package io.capstan.artifacts;

import io.capstan.artifacts.testing.S3TestServer;
import io.capstan.core.CapstanConfig;
import io.capstan.core.InvalidSpecException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.AbortMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.AbortMultipartUploadResponse;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadResponse;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

class S3ArtifactStoreTest extends ArtifactStoreContract {
    @RegisterExtension
    static final S3TestServer S3 = new S3TestServer();

    @TempDir
    Path spool;
    private CapstanConfig.S3Settings settings;
    private S3ArtifactStore store;

    @BeforeEach
    void open() {
        settings = S3.newBucketSettings();
        // One client for the whole class keeps each test to a bucket creation; the settings constructor has its own test.
        store = new S3ArtifactStore(S3.client(), settings.bucket(), CLOCK, spool);
        store.createBucketIfMissing();
    }

    @Override
    ArtifactStore store() {
        return store;
    }

    @Override
    void corruptStoredBytes(String key) {
        var head = S3.client().headObject(b -> b.bucket(settings.bucket()).key(key));
        // Same size and the same recorded digest, different bytes: only hashing the content can tell.
        var replacement = new byte[head.contentLength().intValue()];
        replacement[0] = 1;
        S3.client().putObject(b -> b.bucket(settings.bucket()).key(key).metadata(head.metadata()), RequestBody.fromBytes(replacement));
    }

    @Test
    void aLargeArtifactGoesUpInPartsAndRoundTripsWithItsDigest() throws IOException {
        long size = 20L * 1024 * 1024 + 123;
        var expected = Sha256.newDigest();
        var info = store.put("big/model.bin", new SeededBytes(42, size));
        try (var source = new SeededBytes(42, size)) {
            Sha256.copy(source, new java.security.DigestOutputStream(java.io.OutputStream.nullOutputStream(), expected));
        }

        var head = S3.client().headObject(b -> b.bucket(settings.bucket()).key("big/model.bin"));
        assertThat(head.eTag()).as("a multipart ETag ends in -<parts>").endsWith("-3\"");
        assertThat(head.metadata()).containsEntry(S3ArtifactStore.SHA256_METADATA, info.sha256());
        assertThat(info.sha256()).isEqualTo(Sha256.hex(expected));
        assertThat(info.sizeBytes()).isEqualTo(size);
        try (var in = store.get("big/model.bin")) {
            var read = Sha256.of(in);
            assertThat(read.sha256()).isEqualTo(info.sha256());
            assertThat(read.sizeBytes()).isEqualTo(size);
        }
        assertThat(S3.client().listMultipartUploads(b -> b.bucket(settings.bucket())).uploads()).isEmpty();
    }

    @Test
    void aSourceThatFailsMidwayLeavesNothingBehind() {
        var failing = new SeededBytes(7, 20L * 1024 * 1024) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                throw new IOException("disk pulled");
            }
        };

        assertThatExceptionOfType(io.capstan.core.TransientException.class).isThrownBy(() -> store.put("big/broken.bin", failing))
                .withMessageContaining("big/broken.bin");
        assertThat(store.stat("big/broken.bin")).isEmpty();
        assertThat(S3.client().listMultipartUploads(b -> b.bucket(settings.bucket())).uploads()).isEmpty();
    }

    @Test
    void aMultipartUploadThatFailsMidwayIsAbortedAndLeavesNothingBehind() {
        var failingOnPartTwo = new PartFailingClient(S3.client(), 2);
        var failing = new S3ArtifactStore(failingOnPartTwo, settings.bucket(), CLOCK, spool);

        assertThatExceptionOfType(io.capstan.core.TransientException.class)
                .isThrownBy(() -> failing.put("big/broken.bin", new SeededBytes(7, 20L * 1024 * 1024)))
                .withMessageContaining("big/broken.bin")
                .withMessageContaining("connection reset");
        assertThat(failingOnPartTwo.aborted).isTrue();
        assertThat(store.stat("big/broken.bin")).isEmpty();
        assertThat(S3.client().listMultipartUploads(b -> b.bucket(settings.bucket())).uploads()).isEmpty();
        try (var leftovers = Files.list(spool)) {
            assertThat(leftovers).isEmpty();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void listFollowsPagination() {
        var paged = S3ArtifactStore.withListPageSize(S3.client(), settings.bucket(), CLOCK, spool, 2);
        for (int i = 0; i < 5; i++) paged.put("p/" + i + ".txt", bytes("v" + i));

        assertThat(paged.list("p/")).extracting(ArtifactInfo::key).containsExactly("p/0.txt", "p/1.txt", "p/2.txt", "p/3.txt", "p/4.txt");
    }

    @Test
    void anObjectWithoutARecordedDigestIsNotServed() {
        S3.client().putObject(b -> b.bucket(settings.bucket()).key("foreign.bin"), RequestBody.fromString("written by another tool"));

        assertThatExceptionOfType(CorruptArtifactException.class).isThrownBy(() -> store.get("foreign.bin"))
                .withMessageContaining("foreign.bin").withMessageContaining("none recorded");
    }

    @Test
    void anotherBucketIsReachedThroughTheSameClientAndServesObjectsOtherToolsPut() throws IOException {
        var other = S3.newBucketSettings().bucket();
        S3.client().createBucket(b -> b.bucket(other));
        S3.client().putObject(b -> b.bucket(other).key("data/iris.csv"), RequestBody.fromString("a,b\n1,2\n"));

        var there = store.inBucket(other);
        assertThat(there.bucket()).isEqualTo(other);
        try (var in = there.get("data/iris.csv")) {
            assertThat(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("a,b\n1,2\n");
        }
        var written = there.put("out/model.bin", new java.io.ByteArrayInputStream(new byte[]{1, 2, 3}));
        assertThat(written.uri()).isEqualTo("s3://" + other + "/out/model.bin");
        assertThat(S3.client().headObject(b -> b.bucket(other).key("out/model.bin")).metadata())
                .containsEntry(S3ArtifactStore.SHA256_METADATA, written.sha256());
        assertThat(store.stat("out/model.bin")).as("nothing landed in the store's own bucket").isEmpty();
        corruptIn(other, "out/model.bin");
        assertThatExceptionOfType(CorruptArtifactException.class).isThrownBy(() -> there.get("out/model.bin").close());
    }

    private static void corruptIn(String bucket, String key) {
        var head = S3.client().headObject(b -> b.bucket(bucket).key(key));
        S3.client().putObject(b -> b.bucket(bucket).key(key).metadata(head.metadata()), RequestBody.fromBytes(new byte[]{9, 9, 9}));
    }

    @Test
    void aKeyThatIsAlsoAFolderOfOtherKeysIsStoredOrRefusedClearly() throws IOException {
        store.put("runs/a/z.txt", bytes("1"));
        try {
            store.put("runs/a", bytes("4"));
            assertThat(read(store.get("runs/a"))).isEqualTo("4");
        } catch (io.capstan.core.PermanentFailureException e) {
            // S3Proxy's in-memory back end is a file system, and so is MinIO: neither can hold 'runs/a' beside 'runs/a/z.txt'.
            assertThat(e).hasMessageContaining("'runs/a'").hasMessageContaining("folder of other keys");
        }
    }

    @Test
    void uriOfIsTheS3Uri() {
        assertThat(store.uriOf("runs/a/model.onnx")).isEqualTo("s3://" + settings.bucket() + "/runs/a/model.onnx");
        assertThat(ArtifactUri.parse(store.uriOf("runs/a/model.onnx")))
                .isEqualTo(ArtifactUri.ofS3(settings.bucket(), "runs/a/model.onnx"));
    }

    @Test
    void aStoreBuiltFromSettingsCreatesItsBucketOnceAndWorks() throws IOException {
        var fresh = S3.newBucketSettings();
        try (var fromSettings = new S3ArtifactStore(fresh, CLOCK)) {
            fromSettings.createBucketIfMissing();
            fromSettings.createBucketIfMissing();
            fromSettings.put("hello.txt", bytes("hello"));

            assertThat(S3.client().headBucket(b -> b.bucket(fresh.bucket())).sdkHttpResponse().isSuccessful()).isTrue();
            assertThat(read(fromSettings.get("hello.txt"))).isEqualTo("hello");
        }
    }

    @Test
    void aBadEndpointIsRefusedNamingTheSetting() {
        var bad = new CapstanConfig.S3Settings("ftp://example", "us-east-1", "bucket", "a", "b", true);

        assertThatExceptionOfType(InvalidSpecException.class).isThrownBy(() -> new S3ArtifactStore(bad, CLOCK))
                .withMessageContaining("CAPSTAN_S3_ENDPOINT").withMessageContaining("ftp://example");
    }

    /** The real client, except that uploading part {@code failingPart} fails as a dropped connection would. */
    static final class PartFailingClient implements S3Client {
        private final S3Client real;
        private final int failingPart;
        volatile boolean aborted;

        PartFailingClient(S3Client real, int failingPart) {
            this.real = real;
            this.failingPart = failingPart;
        }

        @Override
        public HeadObjectResponse headObject(HeadObjectRequest request) {
            return real.headObject(request);
        }

        @Override
        public CreateMultipartUploadResponse createMultipartUpload(CreateMultipartUploadRequest request) {
            return real.createMultipartUpload(request);
        }

        @Override
        public UploadPartResponse uploadPart(UploadPartRequest request, RequestBody body) {
            if (request.partNumber() == failingPart) throw SdkClientException.create("connection reset");
            return real.uploadPart(request, body);
        }

        @Override
        public CompleteMultipartUploadResponse completeMultipartUpload(CompleteMultipartUploadRequest request) {
            return real.completeMultipartUpload(request);
        }

        @Override
        public AbortMultipartUploadResponse abortMultipartUpload(AbortMultipartUploadRequest request) {
            aborted = true;
            return real.abortMultipartUpload(request);
        }

        @Override
        public String serviceName() {
            return real.serviceName();
        }

        @Override
        public void close() {
            // The real client belongs to the test server.
        }
    }

    /** A reproducible stream of pseudo-random bytes, the same however it is read, never held in memory whole. */
    static class SeededBytes extends InputStream {
        private final long seed;
        private final long size;
        private long position;

        SeededBytes(long seed, long size) {
            this.seed = seed;
            this.size = size;
        }

        private byte at(long p) {
            return (byte) (((p + seed) * 0x9E3779B97F4A7C15L) >>> 56);
        }

        @Override
        public int read() {
            return position == size ? -1 : at(position++) & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (position == size) return -1;
            int n = (int) Math.min(len, size - position);
            for (int i = 0; i < n; i++) b[off + i] = at(position++);
            return n;
        }
    }
}
