package io.capstan.serving.internal;

import io.capstan.artifacts.ArtifactInfo;
import io.capstan.artifacts.ArtifactStore;
import io.capstan.artifacts.ArtifactUri;
import io.capstan.artifacts.S3ArtifactStore;
import io.capstan.core.CapstanException;
import io.capstan.serving.runtime.ModelLoadException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * Resolves a {@code storageUri} to local files. Local paths and {@code file://} URIs are used in
 * place. {@code http(s)://}, {@code s3://} and {@code capstan://} models are downloaded into the
 * cache, verified by SHA-256 (artifact stores record it at write time; an http URI may carry
 * {@code #sha256=<hex>}) and reused while the cached copy still matches. Schemes Capstan cannot
 * reach fail at once with a reason.
 */
public final class ModelStorage {
    public static final long MAX_DOWNLOAD_BYTES = 4L << 30;
    private static final String CHECKSUM_FILE = ".sha256";

    private final Path cacheDir;
    private final ArtifactStore capstanArtifacts;
    private final Function<String, Optional<ArtifactStore>> s3Buckets;
    private final ReentrantLock httpLock = new ReentrantLock();
    /** Made on first use by {@link #http()}: building a client sets up TLS and reads the CA certificates. */
    private volatile HttpClient http;
    private final Duration downloadTimeout;

    /**
     * @param capstanArtifacts the store {@code capstan://artifacts/...} URIs read from; may be null
     * @param s3Buckets the artifact store for an S3 bucket, if Capstan is configured for it
     */
    public ModelStorage(Path cacheDir, ArtifactStore capstanArtifacts, Function<String, Optional<ArtifactStore>> s3Buckets,
                        Duration downloadTimeout) {
        this.cacheDir = cacheDir;
        this.capstanArtifacts = capstanArtifacts;
        this.s3Buckets = s3Buckets;
        this.downloadTimeout = downloadTimeout;
    }

    private HttpClient http() {
        var client = http;
        if (client != null) return client;
        httpLock.lock();
        try {
            if (http == null) {
                http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).followRedirects(HttpClient.Redirect.NORMAL).build();
            }
            return http;
        } finally {
            httpLock.unlock();
        }
    }

    public Path fetch(String storageUri) throws ModelLoadException {
        return fetch(storageUri, Optional.empty());
    }

    /**
     * As {@link #fetch(String)}, reading an {@code s3://} URI with {@code access}'s credentials and endpoint instead
     * of the server's S3 settings when given; a failure names the Secret they came from, never its values.
     */
    Path fetch(String storageUri, Optional<StorageCredentials.S3Access> access) throws ModelLoadException {
        if (access.isPresent() && storageUri != null && storageUri.startsWith("s3://")) {
            var uri = ArtifactUri.parse(storageUri);
            try (var s3 = new S3ArtifactStore(access.get().forBucket(uri.authority()), java.time.Clock.systemUTC())) {
                return fromStore(s3, uri.path(), storageUri);
            } catch (RuntimeException e) {
                throw new ModelLoadException("cannot read " + OipSafe.printable(storageUri) + " with the S3 credentials of secret '"
                        + access.get().secretName() + "': " + e.getMessage(), e);
            }
        }
        if (storageUri == null || storageUri.isBlank()) throw new ModelLoadException("the model has no storageUri");
        if (storageUri.startsWith("/")) return existing(Path.of(storageUri), storageUri);
        int sep = storageUri.indexOf("://");
        String scheme = sep > 0 ? storageUri.substring(0, sep).toLowerCase(Locale.ROOT) : "";
        try {
            return switch (scheme) {
                case "file" -> existing(Path.of(ArtifactUri.parse(storageUri).path()), storageUri);
                case "http", "https" -> downloadHttp(storageUri);
                case "s3" -> {
                    var uri = ArtifactUri.parse(storageUri);
                    var store = s3Buckets.apply(uri.authority()).orElseThrow(() -> new ModelLoadException(
                            "no S3 settings for bucket '" + uri.authority() + "'; configure Capstan's S3 endpoint and bucket, or use a local path"));
                    yield fromStore(store, uri.path(), storageUri);
                }
                case "capstan" -> {
                    if (capstanArtifacts == null) throw new ModelLoadException("this server has no artifact store for " + storageUri);
                    yield fromStore(capstanArtifacts, ArtifactUri.parse(storageUri).path(), storageUri);
                }
                case "gs" -> throw new ModelLoadException("gs:// (Google Cloud Storage) is not reachable from Capstan; copy the model "
                        + "to s3:// (any S3-compatible store), http(s):// or a local path");
                case "pvc" -> throw new ModelLoadException("pvc:// needs a Kubernetes volume; locally, use the file path "
                        + "where the volume's files are (file:///...)");
                case "hdfs", "webhdfs" -> throw new ModelLoadException(scheme + ":// is not supported; copy the model to s3:// or a local path");
                case "hf" -> throw new ModelLoadException("hf:// (Hugging Face Hub) models are not downloaded by Capstan; "
                        + "export the model to ONNX and give its http(s):// or local path");
                case "oci" -> throw new ModelLoadException("oci:// model images are not pulled by Capstan; extract the model "
                        + "files and give a local path");
                case "" -> throw new ModelLoadException("storageUri '" + OipSafe.printable(storageUri)
                        + "' is neither an absolute path nor a URI; use /abs/path, file://, s3://, http(s):// or capstan://");
                default -> throw new ModelLoadException("storageUri scheme '" + OipSafe.printable(scheme)
                        + "' is not supported; use a local path, file://, s3://, http(s):// or capstan://");
            };
        } catch (CapstanException e) {
            throw new ModelLoadException("cannot read " + OipSafe.printable(storageUri) + ": " + e.getMessage(), e);
        }
    }

    private static Path existing(Path path, String uri) throws ModelLoadException {
        if (!Files.exists(path)) throw new ModelLoadException("storageUri " + OipSafe.printable(uri) + " does not exist on this machine");
        return path;
    }

    private Path cacheFor(String uri) throws ModelLoadException {
        var dir = cacheDir.resolve(sha256Hex(uri.getBytes(StandardCharsets.UTF_8)).substring(0, 32));
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new ModelLoadException("cannot create model cache " + dir + ": " + e.getMessage(), e);
        }
        return dir;
    }

    private Path downloadHttp(String storageUri) throws ModelLoadException {
        URI uri;
        try {
            uri = URI.create(storageUri);
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException("storageUri is not a valid URL: " + e.getMessage());
        }
        String expected = null;
        if (uri.getFragment() != null && uri.getFragment().startsWith("sha256=")) expected = uri.getFragment().substring(7).toLowerCase(Locale.ROOT);
        var dir = cacheFor(storageUri);
        var name = fileName(uri.getPath());
        var target = dir.resolve(name);
        var cached = cachedChecksum(target);
        if (cached.isPresent() && (expected == null || expected.equals(cached.get())) && checksumMatches(target, cached.get())) {
            return target;
        }
        var request = HttpRequest.newBuilder(uri.resolve(uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery())))
                .timeout(downloadTimeout).GET().build();
        try {
            var response = http().send(request, HttpResponse.BodyHandlers.ofInputStream());
            try (var body = response.body()) {
                if (response.statusCode() != 200) {
                    throw new ModelLoadException("downloading " + OipSafe.printable(storageUri) + " answered HTTP " + response.statusCode());
                }
                var actual = store(body, target);
                if (expected != null && !expected.equals(actual)) {
                    Files.deleteIfExists(target);
                    throw new ModelLoadException("the download of " + OipSafe.printable(storageUri) + " has SHA-256 " + actual
                            + ", not the " + expected + " its URI names");
                }
                return target;
            }
        } catch (IOException e) {
            throw new ModelLoadException("downloading " + OipSafe.printable(storageUri) + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ModelLoadException("interrupted while downloading " + storageUri, e);
        }
    }

    private Path fromStore(ArtifactStore store, String key, String storageUri) throws ModelLoadException {
        var dir = cacheFor(storageUri);
        var single = store.stat(key);
        List<ArtifactInfo> files = single.map(List::of).orElseGet(() -> store.list(key.endsWith("/") ? key : key + "/"));
        if (files.isEmpty()) throw new ModelLoadException("nothing is stored at " + OipSafe.printable(storageUri));
        String prefix = single.isPresent() ? key.substring(0, key.lastIndexOf('/') + 1) : (key.endsWith("/") ? key : key + "/");
        try {
            for (var file : files) {
                var target = dir.resolve(file.key().substring(prefix.length())).normalize();
                if (!target.startsWith(dir)) throw new ModelLoadException("artifact key " + file.key() + " escapes the model directory");
                var cached = cachedChecksum(target);
                if (cached.isPresent() && cached.get().equals(file.sha256()) && checksumMatches(target, file.sha256())) continue;
                Files.createDirectories(target.getParent());
                try (var in = store.get(file.key())) {
                    var actual = store(in, target);
                    if (!actual.equals(file.sha256())) throw new ModelLoadException("artifact " + file.key() + " changed while downloading");
                }
            }
        } catch (IOException e) {
            throw new ModelLoadException("copying " + OipSafe.printable(storageUri) + " failed: " + e, e);
        }
        return single.isPresent() ? dir.resolve(files.getFirst().key().substring(prefix.length())) : dir;
    }

    /** Streams into {@code target} (atomically, via a temporary file) and records its SHA-256 beside it. */
    private static String store(InputStream in, Path target) throws IOException, ModelLoadException {
        var temp = Files.createTempFile(target.getParent(), ".download", ".tmp");
        try {
            var digest = sha256();
            try (var digesting = new DigestInputStream(in, digest); var out = Files.newOutputStream(temp)) {
                digesting.transferTo(new java.io.FilterOutputStream(out) {
                    long written;

                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        written += len;
                        if (written > MAX_DOWNLOAD_BYTES) throw new IOException("the model is larger than " + MAX_DOWNLOAD_BYTES + " bytes");
                        out.write(b, off, len);
                    }
                });
            }
            var hex = HexFormat.of().formatHex(digest.digest());
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            Files.writeString(checksumFile(target), hex);
            return hex;
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    private static Path checksumFile(Path target) {
        return target.resolveSibling(target.getFileName() + CHECKSUM_FILE);
    }

    private static Optional<String> cachedChecksum(Path target) {
        try {
            var file = checksumFile(target);
            return Files.isRegularFile(file) && Files.isRegularFile(target) ? Optional.of(Files.readString(file).strip()) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static boolean checksumMatches(Path file, String expected) throws ModelLoadException {
        try (var in = new DigestInputStream(Files.newInputStream(file), sha256())) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return HexFormat.of().formatHex(in.getMessageDigest().digest()).equals(expected);
        } catch (IOException e) {
            return false;
        }
    }

    private static String fileName(String path) {
        if (path == null || path.isEmpty() || path.endsWith("/")) return "model";
        var name = path.substring(path.lastIndexOf('/') + 1);
        return name.isEmpty() || name.startsWith(".") ? "model" : name.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    private static MessageDigest sha256() throws ModelLoadException {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new ModelLoadException("SHA-256 is not available", e);
        }
    }

    static String sha256Hex(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
