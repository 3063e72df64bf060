package io.capstan.artifacts;

import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Where an artifact lives, as users write it:
 * <ul>
 *   <li>{@code file:///abs/path}: a file on this machine; {@link #path()} is the decoded absolute path;</li>
 *   <li>{@code s3://bucket/key}: an S3 object; {@link #authority()} is the bucket and {@link #path()} the key;</li>
 *   <li>{@code capstan://artifacts/key}: a key in the artifact store Capstan is configured with, whichever that
 *       is; {@link #path()} is the key, to pass to {@link ArtifactStore}.</li>
 * </ul>
 * Keys and paths follow {@link ArtifactKeys}: no {@code ..}, no empty names, no encoded traversal. S3 and Capstan
 * keys are kept exactly as written; file paths are percent-decoded once, as RFC 8089 file URIs are encoded.
 *
 * @param scheme    which kind of location
 * @param authority the bucket for S3, {@code artifacts} for Capstan, empty for files
 * @param path      the absolute path for files, the key otherwise
 */
public record ArtifactUri(Scheme scheme, String authority, String path) {
    /** Longest URI accepted by {@link #parse}. */
    public static final int MAX_URI_LENGTH = 4096;
    /** The authority of every {@code capstan://} URI. */
    public static final String CAPSTAN_AUTHORITY = "artifacts";

    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
    private static final String FILE_FIX = "use a normalized absolute path such as file:///data/model.onnx";
    private static final String FORMS = "use file:///abs/path, s3://bucket/key or capstan://artifacts/key";

    /** The URI schemes Capstan reads artifacts from. */
    public enum Scheme {
        FILE("file"), S3("s3"), CAPSTAN("capstan");

        private final String wireName;

        Scheme(String wireName) {
            this.wireName = wireName;
        }

        public String wireName() {
            return wireName;
        }
    }

    public ArtifactUri {
        Objects.requireNonNull(scheme, "scheme");
        Objects.requireNonNull(authority, "authority");
        Objects.requireNonNull(path, "path");
        switch (scheme) {
            case FILE -> {
                if (!authority.isEmpty()) {
                    throw invalid("a file URI has no host, got '" + Names.printable(authority) + "'; use file:///abs/path");
                }
                if (!path.startsWith("/") || path.length() < 2) {
                    throw invalid("file path '" + Names.printable(path) + "' is not absolute; use file:///abs/path");
                }
                ArtifactKeys.check(path.substring(1)).ifPresent(problem -> {
                    throw invalid("file path '" + Names.printable(path) + "' " + problem + "; " + FILE_FIX);
                });
            }
            case S3 -> {
                if (!BUCKET.matcher(authority).matches() || authority.contains("..")) {
                    throw invalid("S3 bucket '" + Names.printable(authority)
                            + "' is not a valid bucket name: use 3-63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit");
                }
                requireValidKey(path);
            }
            case CAPSTAN -> {
                if (!authority.equals(CAPSTAN_AUTHORITY)) {
                    throw invalid("Capstan artifact URIs have the authority '" + CAPSTAN_AUTHORITY + "', got '"
                            + Names.printable(authority) + "'; use capstan://artifacts/key");
                }
                requireValidKey(path);
            }
        }
    }

    private static void requireValidKey(String key) {
        ArtifactKeys.check(key).ifPresent(problem -> {
            throw invalid("artifact key '" + Names.printable(key) + "' " + problem
                    + "; use a relative key of '/'-separated names, such as s3://bucket/runs/abc/model.onnx");
        });
    }

    /**
     * Parses {@code file:///abs/path}, {@code s3://bucket/key} or {@code capstan://artifacts/key}; the scheme is
     * case-insensitive.
     *
     * @throws InvalidSpecException naming the URI, what is wrong with it and the forms that are accepted
     */
    public static ArtifactUri parse(String uri) {
        Objects.requireNonNull(uri, "uri");
        if (uri.length() > MAX_URI_LENGTH) {
            throw invalid("artifact URI is %d characters, more than the limit of %d".formatted(uri.length(), MAX_URI_LENGTH));
        }
        int sep = uri.indexOf("://");
        if (sep <= 0) {
            throw invalid("artifact URI '" + Names.printable(uri) + "' has no scheme; " + FORMS);
        }
        var schemeName = uri.substring(0, sep).toLowerCase(Locale.ROOT);
        var rest = uri.substring(sep + 3);
        return switch (schemeName) {
            case "file" -> parseFile(uri, rest);
            case "s3" -> {
                int slash = rest.indexOf('/');
                if (slash < 0 || slash == rest.length() - 1) {
                    throw invalid("S3 URI '" + Names.printable(uri) + "' names no object; use s3://bucket/key");
                }
                yield new ArtifactUri(Scheme.S3, rest.substring(0, slash), rest.substring(slash + 1));
            }
            case "capstan" -> {
                int slash = rest.indexOf('/');
                if (slash < 0 || slash == rest.length() - 1) {
                    throw invalid("Capstan URI '" + Names.printable(uri) + "' names no artifact; use capstan://artifacts/key");
                }
                yield new ArtifactUri(Scheme.CAPSTAN, rest.substring(0, slash), rest.substring(slash + 1));
            }
            default -> throw invalid("artifact URI '%s' has the scheme '%s', which Capstan does not read artifacts from; %s"
                    .formatted(Names.printable(uri), Names.printable(schemeName), FORMS));
        };
    }

    public static ArtifactUri ofFile(Path path) {
        return new ArtifactUri(Scheme.FILE, "", path.toAbsolutePath().toString());
    }

    public static ArtifactUri ofS3(String bucket, String key) {
        return new ArtifactUri(Scheme.S3, bucket, key);
    }

    public static ArtifactUri ofCapstan(String key) {
        return new ArtifactUri(Scheme.CAPSTAN, CAPSTAN_AUTHORITY, key);
    }

    /** The URI as text; {@link #parse} reads it back to an equal record. */
    @Override
    public String toString() {
        return switch (scheme) {
            case FILE -> fileUri(path);
            case S3, CAPSTAN -> scheme.wireName() + "://" + authority + "/" + path;
        };
    }

    /** RFC 8089 form with an empty authority; unlike {@code Path.toUri()} it adds no '/' for an existing directory. */
    private static String fileUri(String absolutePath) {
        try {
            return new URI("file", "", absolutePath, null, null).toASCIIString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException("absolute path '" + Names.printable(absolutePath) + "' has no file URI", e);
        }
    }

    private static ArtifactUri parseFile(String uri, String rest) {
        String encodedPath;
        if (rest.startsWith("/")) {
            encodedPath = rest;
        } else if (rest.regionMatches(true, 0, "localhost/", 0, 10)) {
            encodedPath = rest.substring(9);
        } else {
            throw invalid("file URI '" + Names.printable(uri) + "' names a host; only local files are read, as file:///abs/path");
        }
        if (encodedPath.indexOf('?') >= 0 || encodedPath.indexOf('#') >= 0) {
            throw invalid("file URI '" + Names.printable(uri) + "' has a query or fragment; percent-encode '?' as %3F and '#' as %23");
        }
        // Traversal is checked on the encoded form too, which decodes repeatedly, before the single decoding RFC 8089 asks for.
        ArtifactKeys.check(encodedPath.substring(1)).ifPresent(problem -> {
            throw invalid("file URI '" + Names.printable(uri) + "' has a path that " + problem + "; " + FILE_FIX);
        });
        try {
            return new ArtifactUri(Scheme.FILE, "", ArtifactKeys.percentDecode(encodedPath));
        } catch (CharacterCodingException e) {
            throw invalid("file URI '" + Names.printable(uri) + "' has a percent-encoded path that is not valid UTF-8");
        }
    }

    private static InvalidSpecException invalid(String message) {
        return InvalidSpecException.of("uri", message);
    }
}
