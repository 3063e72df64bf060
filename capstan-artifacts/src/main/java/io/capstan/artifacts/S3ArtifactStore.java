package io.capstan.artifacts;

import io.capstan.core.CapstanConfig;
import io.capstan.core.CapstanException;
import io.capstan.core.ConflictException;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import io.capstan.core.NotFoundException;
import io.capstan.core.PermanentFailureException;
import io.capstan.core.TransientException;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketAlreadyExistsException;
import software.amazon.awssdk.services.s3.model.BucketAlreadyOwnedByYouException;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * An artifact store in an S3 bucket (AWS, MinIO, Ceph, or any S3-compatible server); the key is the object key.
 *
 * <p><b>Writing.</b> {@link #put} first streams the content into a temporary file in the spool folder while
 * hashing it, so it knows the SHA-256 and size before anything reaches the bucket. That costs local disk space equal
 * to the artifact, and buys three things: the digest goes into the object's own metadata
 * ({@code x-amz-meta-sha256}) in the same request that creates it, so no object is ever visible without its digest
 * and no sidecar object is needed; an existing key is checked before uploading, so same content is a no-op and
 * different content is a {@link ConflictException} without touching the stored object; and parts can be re-sent
 * from the file when the SDK retries. Objects up to {@link #MULTIPART_THRESHOLD_BYTES} go up in one PUT, larger ones
 * in {@link #PART_SIZE_BYTES} parts of a multipart upload, which is aborted if any step fails. Both send
 * {@code If-None-Match: *}, so of two concurrent writers of one key only one creates it on servers that honour
 * conditional writes; on servers that ignore the header the last writer of a racing pair wins.
 *
 * <p><b>Reading.</b> {@link #get} downloads the object into a temporary file while hashing it and compares the
 * digest with the one recorded in the object's metadata before it returns the first byte; a mismatch, or an object
 * with no recorded digest, is a {@link CorruptArtifactException} (except in the stores {@link #inBucket} makes for
 * objects other tools put there). The temporary file is deleted once opened, so it
 * disappears when the stream is closed.
 *
 * <p>Every network call has the HTTP client's connect timeout ({@value #CONNECT_TIMEOUT_SECONDS} s) and socket
 * read timeout ({@value #SOCKET_TIMEOUT_SECONDS} s), so a stalled server fails the call rather than hanging it.
 * Failures that may pass (5xx, throttling, network) are {@link TransientException}s. Thread-safe.
 */
public final class S3ArtifactStore implements ArtifactStore, AutoCloseable {
    /** Objects larger than this are uploaded in parts. */
    public static final long MULTIPART_THRESHOLD_BYTES = 8L * 1024 * 1024;
    /** The size of each part but the last; S3 needs at least 5 MiB. */
    public static final long PART_SIZE_BYTES = 8L * 1024 * 1024;
    /** The user metadata entry holding the SHA-256, sent as {@code x-amz-meta-sha256}. */
    public static final String SHA256_METADATA = "sha256";
    /** The user metadata entry holding when Capstan wrote the object (ISO-8601), from the injected clock. */
    public static final String CREATED_AT_METADATA = "capstan-created-at";
    static final int CONNECT_TIMEOUT_SECONDS = 10;
    static final int SOCKET_TIMEOUT_SECONDS = 60;
    private static final int LIST_PAGE_SIZE = 1000;
    private static final int LIST_CONCURRENCY = 16;
    private static final Duration LIST_DEADLINE = Duration.ofMinutes(5);

    private final S3Client client;
    private final AutoCloseable closer;
    private final String bucket;
    private final Clock clock;
    private final Path spoolDir;
    private final int listPageSize;
    /** Whether an object with no recorded digest is served as it is rather than refused; see {@link #inBucket}. */
    private final boolean readsForeignObjects;
    /** The stores {@link #inBucket} made, by bucket, sharing this store's client. */
    private final Map<String, S3ArtifactStore> buckets = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * A store that builds its own client from the settings (endpoint override, region, path-style access, and
     * static credentials, or the SDK's default credential chain where no access key is set) and closes it in
     * {@link #close}. Spools through {@code java.io.tmpdir}.
     *
     * @throws InvalidSpecException if the endpoint is not an http(s) URL
     */
    public S3ArtifactStore(CapstanConfig.S3Settings settings, Clock clock) {
        this(buildClient(settings), settings.bucket(), clock, Path.of(System.getProperty("java.io.tmpdir")), LIST_PAGE_SIZE, true, false);
    }

    /**
     * A store over a client the caller owns and closes.
     *
     * @param spoolDir where uploads and downloads are staged while they are hashed; needs room for the largest artifact
     */
    public S3ArtifactStore(S3Client client, String bucket, Clock clock, Path spoolDir) {
        this(client, bucket, clock, spoolDir, LIST_PAGE_SIZE, false, false);
    }

    /** For tests that exercise pagination with small pages. */
    static S3ArtifactStore withListPageSize(S3Client client, String bucket, Clock clock, Path spoolDir, int listPageSize) {
        return new S3ArtifactStore(client, bucket, clock, spoolDir, listPageSize, false, false);
    }

    private S3ArtifactStore(S3Client client, String bucket, Clock clock, Path spoolDir, int listPageSize, boolean ownsClient,
                            boolean readsForeignObjects) {
        this.readsForeignObjects = readsForeignObjects;
        this.client = Objects.requireNonNull(client, "client");
        this.closer = ownsClient ? client : () -> { };
        this.bucket = ArtifactUri.ofS3(Objects.requireNonNull(bucket, "bucket"), "probe").authority();
        this.clock = Objects.requireNonNull(clock, "clock");
        this.spoolDir = Objects.requireNonNull(spoolDir, "spoolDir");
        this.listPageSize = listPageSize;
    }

    public String bucket() {
        return bucket;
    }

    /**
     * A store for {@code otherBucket} (this store's own bucket included) on the same server, with the same client,
     * credentials and spool folder; closing it leaves the client open. Objects there may have been put by other tools
     * (the AWS CLI, a training job), so one with no recorded digest is served as it is, as there is nothing to check
     * it against; an object with a recorded digest is verified as always. What it writes carries a digest.
     *
     * @throws io.capstan.core.InvalidSpecException if {@code otherBucket} is not a valid bucket name
     */
    public S3ArtifactStore inBucket(String otherBucket) {
        var name = ArtifactUri.ofS3(Objects.requireNonNull(otherBucket, "otherBucket"), "probe").authority();
        return buckets.computeIfAbsent(name, b -> new S3ArtifactStore(client, b, clock, spoolDir, listPageSize, false, true));
    }

    /**
     * Creates the bucket unless it exists already (also when another process creates it at the same moment).
     *
     * @throws PermanentFailureException if the name is taken by another account, or access is denied
     */
    public void createBucketIfMissing() {
        try {
            client.headBucket(b -> b.bucket(bucket));
            return;
        } catch (NoSuchBucketException e) {
            // Fall through and create it.
        } catch (S3Exception e) {
            if (e.statusCode() != 404) throw translate(e, "check that bucket '" + bucket + "' exists");
        } catch (SdkException e) {
            throw translate(e, "check that bucket '" + bucket + "' exists");
        }
        try {
            client.createBucket(b -> b.bucket(bucket));
        } catch (BucketAlreadyOwnedByYouException e) {
            // Created concurrently by another Capstan with the same credentials: the bucket is there, as wanted.
        } catch (BucketAlreadyExistsException e) {
            throw new PermanentFailureException(("S3 bucket '%s' is owned by another account; choose another name"
                    + " (CAPSTAN_S3_BUCKET)").formatted(bucket), e);
        } catch (SdkException e) {
            throw translate(e, "create bucket '" + bucket + "'");
        }
    }

    @Override
    public ArtifactInfo put(String key, InputStream content) {
        ArtifactKeys.requireValid(key);
        Objects.requireNonNull(content, "content");
        Path spool = null;
        try {
            spool = Files.createTempFile(spoolDir, "capstan-s3-put-", ".part");
            Sha256.Digest written;
            try (var out = Files.newOutputStream(spool, StandardOpenOption.WRITE)) {
                written = Sha256.copy(content, out);
            }
            var existing = stat(key);
            if (existing.isPresent()) return sameOrConflict(key, existing.get(), written);
            var createdAt = clock.instant();
            var metadata = Map.of(SHA256_METADATA, written.sha256(), CREATED_AT_METADATA, createdAt.toString());
            try {
                if (written.sizeBytes() <= MULTIPART_THRESHOLD_BYTES) {
                    putSingle(key, spool, written.sizeBytes(), metadata);
                } else {
                    putMultipart(key, spool, written.sizeBytes(), metadata);
                }
            } catch (S3Exception e) {
                // 412: If-None-Match lost to a concurrent writer; 409: AWS's conditional-write conflict.
                if (e.statusCode() != 412 && e.statusCode() != 409) throw e;
                var winner = stat(key).orElseThrow(() -> new PermanentFailureException((
                        "cannot upload artifact '%s' to %s: the server refused to create it (%d) although no object has that key."
                        + " Some S3-compatible servers (MinIO, S3Proxy's file-system back ends) cannot store a key that is also a folder"
                        + " of other keys, such as 'runs/a' next to 'runs/a/model.onnx'; choose a key that is not a prefix of other keys")
                        .formatted(Names.printable(key), uriOf(key), e.statusCode()), e));
                return sameOrConflict(key, winner, written);
            }
            return new ArtifactInfo(key, uriOf(key), written.sizeBytes(), written.sha256(), createdAt);
        } catch (IOException e) {
            throw new TransientException("cannot stage artifact '%s' for upload in %s: %s".formatted(Names.printable(key), spoolDir, e), e);
        } catch (SdkException e) {
            throw translate(e, "upload artifact '" + Names.printable(key) + "' to " + uriOf(key));
        } finally {
            if (spool != null) deleteQuietly(spool);
        }
    }

    @Override
    public InputStream get(String key) {
        ArtifactKeys.requireValid(key);
        var uri = uriOf(key);
        ResponseInputStream<GetObjectResponse> in;
        try {
            in = client.getObject(b -> b.bucket(bucket).key(key));
        } catch (NoSuchKeyException e) {
            throw notFound(key);
        } catch (S3Exception e) {
            if (e.statusCode() == 404) throw notFound(key);
            throw translate(e, "download artifact '" + Names.printable(key) + "' from " + uri);
        } catch (SdkException e) {
            throw translate(e, "download artifact '" + Names.printable(key) + "' from " + uri);
        }
        Path spool = null;
        try (in) {
            var expected = in.response().metadata().get(SHA256_METADATA);
            boolean foreign = expected == null && readsForeignObjects;
            if (!foreign && (expected == null || !Sha256.HEX.matcher(expected).matches())) {
                in.abort();
                throw new CorruptArtifactException(key, uri, "(none recorded: the object has no valid x-amz-meta-sha256)", "(not computed)");
            }
            spool = Files.createTempFile(spoolDir, "capstan-s3-get-", ".part");
            Sha256.Digest actual;
            try (var out = Files.newOutputStream(spool, StandardOpenOption.WRITE)) {
                actual = Sha256.copy(in, out);
            }
            if (!foreign && !actual.sha256().equals(expected)) throw new CorruptArtifactException(key, uri, expected, actual.sha256());
            var channel = FileChannel.open(spool, StandardOpenOption.READ);
            // Unlinked while open: the bytes stay readable until close, and nothing is left behind if the caller forgets to close.
            deleteQuietly(spool);
            spool = null;
            var stream = Channels.newInputStream(channel);
            return foreign ? stream : new VerifyingInputStream(stream, key, uri, expected);
        } catch (IOException e) {
            throw new TransientException("cannot download artifact '%s' from %s: %s".formatted(Names.printable(key), uri, e), e);
        } catch (SdkException e) {
            throw translate(e, "download artifact '" + Names.printable(key) + "' from " + uri);
        } finally {
            if (spool != null) deleteQuietly(spool);
        }
    }

    @Override
    public Optional<ArtifactInfo> stat(String key) {
        ArtifactKeys.requireValid(key);
        try {
            return Optional.of(info(key, client.headObject(b -> b.bucket(bucket).key(key))));
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (S3Exception e) {
            if (e.statusCode() == 404) return Optional.empty();
            throw translate(e, "read the metadata of artifact '" + Names.printable(key) + "' at " + uriOf(key));
        } catch (SdkException e) {
            throw translate(e, "read the metadata of artifact '" + Names.printable(key) + "' at " + uriOf(key));
        }
    }

    /**
     * Lists the keys page by page, then reads each object's metadata (its digest is not in the listing) with up
     * to {@value #LIST_CONCURRENCY} requests at a time. Objects whose key is not a valid artifact key, written
     * there by other tools, are left out; so are objects deleted between the listing and the metadata read.
     */
    @Override
    public List<ArtifactInfo> list(String prefix) {
        ArtifactKeys.requireValidPrefix(prefix);
        var keys = new ArrayList<String>();
        try {
            for (S3Object object : client.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix).maxKeys(listPageSize)).contents()) {
                if (ArtifactKeys.check(object.key()).isEmpty()) keys.add(object.key());
            }
        } catch (SdkException e) {
            throw translate(e, "list artifacts with prefix '" + Names.printable(prefix) + "' in bucket '" + bucket + "'");
        }
        var found = new ArrayList<ArtifactInfo>(keys.size());
        var deadline = System.nanoTime() + LIST_DEADLINE.toNanos();
        try (var exec = Executors.newVirtualThreadPerTaskExecutor()) {
            var gate = new Semaphore(LIST_CONCURRENCY);
            var futures = new ArrayList<Future<Optional<ArtifactInfo>>>(keys.size());
            for (var key : keys) {
                futures.add(exec.submit(() -> {
                    gate.acquire();
                    try {
                        return stat(key);
                    } finally {
                        gate.release();
                    }
                }));
            }
            try {
                for (var future : futures) {
                    future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS).ifPresent(found::add);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                exec.shutdownNow();
                throw new TransientException("interrupted while listing artifacts with prefix '" + Names.printable(prefix) + "'", e);
            } catch (TimeoutException e) {
                exec.shutdownNow();
                throw new TransientException("listing artifacts with prefix '%s' in bucket '%s' took longer than %s; try a narrower prefix"
                        .formatted(Names.printable(prefix), bucket, LIST_DEADLINE), e);
            } catch (ExecutionException e) {
                exec.shutdownNow();
                if (e.getCause() instanceof CapstanException c) throw c;
                throw new TransientException("cannot list artifacts with prefix '" + Names.printable(prefix) + "': " + e.getCause(), e.getCause());
            }
        }
        found.sort((a, b) -> ArtifactKeys.ORDER.compare(a.key(), b.key()));
        return List.copyOf(found);
    }

    /** {@code s3://bucket/key}; defined whether or not the object exists. */
    @Override
    public String uriOf(String key) {
        return ArtifactUri.ofS3(bucket, ArtifactKeys.requireValid(key)).toString();
    }

    /** Closes the S3 client if this store built it; a client passed in stays open. */
    @Override
    public void close() {
        try {
            closer.close();
        } catch (Exception e) {
            throw new TransientException("cannot close the S3 client of bucket '" + bucket + "': " + e, e);
        }
    }

    private void putSingle(String key, Path spool, long size, Map<String, String> metadata) {
        var request = PutObjectRequest.builder().bucket(bucket).key(key).metadata(metadata).contentLength(size)
                .contentType("application/octet-stream").ifNoneMatch("*").build();
        try (var slices = new FileSlices(spool)) {
            client.putObject(request, RequestBody.fromContentProvider(slices.provider(0, size), size, "application/octet-stream"));
        }
    }

    private void putMultipart(String key, Path spool, long size, Map<String, String> metadata) {
        var uploadId = client.createMultipartUpload(b -> b.bucket(bucket).key(key).metadata(metadata)
                .contentType("application/octet-stream")).uploadId();
        try (var slices = new FileSlices(spool)) {
            var parts = new ArrayList<CompletedPart>();
            int number = 1;
            for (long offset = 0; offset < size; offset += PART_SIZE_BYTES, number++) {
                long length = Math.min(PART_SIZE_BYTES, size - offset);
                var request = UploadPartRequest.builder().bucket(bucket).key(key).uploadId(uploadId)
                        .partNumber(number).contentLength(length).build();
                var response = client.uploadPart(request, RequestBody.fromContentProvider(slices.provider(offset, length), length, "application/octet-stream"));
                parts.add(CompletedPart.builder().partNumber(number).eTag(response.eTag()).build());
            }
            client.completeMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId).ifNoneMatch("*")
                    .multipartUpload(m -> m.parts(parts)));
        } catch (RuntimeException e) {
            try {
                client.abortMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId));
            } catch (RuntimeException abortFailure) {
                e.addSuppressed(abortFailure);
            }
            throw e;
        }
    }

    private ArtifactInfo sameOrConflict(String key, ArtifactInfo existing, Sha256.Digest written) {
        if (existing.sha256().equals(written.sha256())) return existing;
        throw new ConflictException(("artifact '%s' already exists at %s with sha256 %s and cannot be overwritten with different content"
                + " (sha256 %s); artifacts are immutable, so write the new content under a new key")
                .formatted(Names.printable(key), existing.uri(), existing.sha256().isEmpty() ? "(none recorded)" : existing.sha256(), written.sha256()));
    }

    private ArtifactInfo info(String key, HeadObjectResponse head) {
        var sha256 = head.metadata().getOrDefault(SHA256_METADATA, "");
        Instant createdAt = head.lastModified();
        var recorded = head.metadata().get(CREATED_AT_METADATA);
        if (recorded != null) {
            try {
                createdAt = Instant.parse(recorded);
            } catch (DateTimeParseException e) {
                // Written by another tool: the server's Last-Modified is the best we know.
            }
        }
        return new ArtifactInfo(key, uriOf(key), head.contentLength(), sha256, createdAt == null ? Instant.EPOCH : createdAt);
    }

    private NotFoundException notFound(String key) {
        return new NotFoundException("artifact '%s' not found at %s; check the key, or list what is stored with its prefix"
                .formatted(Names.printable(key), uriOf(key)));
    }

    private CapstanException translate(SdkException e, String action) {
        if (e instanceof S3Exception s3) {
            int status = s3.statusCode();
            var code = s3.awsErrorDetails() == null ? "" : s3.awsErrorDetails().errorCode();
            if (status == 403) {
                return new PermanentFailureException(("cannot %s: access denied (%s); check CAPSTAN_S3_ACCESS_KEY,"
                        + " CAPSTAN_S3_SECRET_KEY and the bucket policy").formatted(action, code), e);
            }
            if (status == 404 && "NoSuchBucket".equals(code)) {
                return new PermanentFailureException("cannot %s: bucket '%s' does not exist; create it, or let Capstan create it at start-up"
                        .formatted(action, bucket), e);
            }
            if (status >= 500 || status == 429 || "SlowDown".equals(code)) {
                return new TransientException("cannot %s: the S3 server answered %d %s; retry later".formatted(action, status, code), e);
            }
            return new PermanentFailureException("cannot %s: the S3 server answered %d %s: %s".formatted(action, status, code, e.getMessage()), e);
        }
        if (e instanceof SdkClientException || e.retryable()) {
            return new TransientException("cannot %s: %s; check that the S3 endpoint is reachable and retry".formatted(action, e.getMessage()), e);
        }
        return new PermanentFailureException("cannot %s: %s".formatted(action, e.getMessage()), e);
    }

    private static S3Client buildClient(CapstanConfig.S3Settings settings) {
        Objects.requireNonNull(settings, "settings");
        AwsCredentialsProvider credentials = settings.accessKey().isEmpty()
                ? DefaultCredentialsProvider.builder().build()
                : StaticCredentialsProvider.create(AwsBasicCredentials.create(settings.accessKey(), settings.secretKey()));
        var builder = S3Client.builder()
                .httpClientBuilder(UrlConnectionHttpClient.builder()
                        .connectionTimeout(Duration.ofSeconds(CONNECT_TIMEOUT_SECONDS))
                        .socketTimeout(Duration.ofSeconds(SOCKET_TIMEOUT_SECONDS)))
                .region(Region.of(settings.region()))
                .credentialsProvider(credentials)
                .forcePathStyle(settings.pathStyle())
                // S3-compatible servers differ in their support for the SDK's newer default checksums; our SHA-256 covers integrity.
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
        if (!settings.endpoint().isEmpty()) builder.endpointOverride(endpoint(settings.endpoint()));
        return builder.build();
    }

    private static URI endpoint(String endpoint) {
        URI uri;
        try {
            uri = URI.create(endpoint);
        } catch (IllegalArgumentException e) {
            throw InvalidSpecException.of("CAPSTAN_S3_ENDPOINT", "S3 endpoint '%s' is not a URL (%s); use a URL such as http://127.0.0.1:9000"
                    .formatted(Names.printable(endpoint), e.getMessage()));
        }
        if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https")) || uri.getHost() == null) {
            throw InvalidSpecException.of("CAPSTAN_S3_ENDPOINT", "S3 endpoint '%s' must be an http or https URL with a host, such as http://127.0.0.1:9000"
                    .formatted(Names.printable(endpoint)));
        }
        return uri;
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // Only a leftover temporary file: it costs disk space, not correctness.
            org.slf4j.LoggerFactory.getLogger(S3ArtifactStore.class).atWarn()
                    .addKeyValue("file", file).addKeyValue("error", e.toString()).log("cannot delete temporary file");
        }
    }

    /**
     * Re-readable slices of the spooled file, one stream per SDK attempt (signing and retries read a body more
     * than once); every stream opened is closed with this object, whether or not the SDK closed it.
     */
    private static final class FileSlices implements AutoCloseable {
        private final Path file;
        private final List<InputStream> opened = new ArrayList<>(); // guarded by this: the SDK may open streams on its own threads

        FileSlices(Path file) {
            this.file = file;
        }

        ContentStreamProvider provider(long offset, long length) {
            return () -> {
                try {
                    var channel = FileChannel.open(file, StandardOpenOption.READ);
                    var stream = new SliceInputStream(channel, offset, length);
                    synchronized (this) {
                        opened.add(stream);
                    }
                    return stream;
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot re-read the staged upload " + file, e);
                }
            };
        }

        @Override
        public void close() {
            List<InputStream> toClose;
            synchronized (this) {
                toClose = List.copyOf(opened);
                opened.clear();
            }
            for (var stream : toClose) {
                try {
                    stream.close();
                } catch (IOException e) {
                    // Closing a read-only file channel cannot lose data.
                }
            }
        }
    }

    /** Reads {@code length} bytes of a file from {@code offset} with positional reads. */
    private static final class SliceInputStream extends InputStream {
        private final FileChannel channel;
        private long position;
        private final long end;

        SliceInputStream(FileChannel channel, long offset, long length) {
            this.channel = channel;
            this.position = offset;
            this.end = offset + length;
        }

        @Override
        public int read() throws IOException {
            var one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            if (position >= end) return -1;
            if (length == 0) return 0;
            int n = channel.read(ByteBuffer.wrap(buffer, offset, (int) Math.min(length, end - position)), position);
            if (n < 0) throw new IOException("the staged upload shrank while it was being sent");
            position += n;
            return n;
        }

        @Override
        public int available() {
            return (int) Math.min(Integer.MAX_VALUE, end - position);
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }
}
