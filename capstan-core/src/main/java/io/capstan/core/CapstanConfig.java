package io.capstan.core;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Settings read once at start-up. Each value comes from a command-line flag, else the environment variable named
 * beside it, else the default.
 *
 * @param home      {@code CAPSTAN_HOME}, default {@code ~/.capstan}: holds {@code db/}, {@code artifacts/} and {@code logs/}
 * @param host      {@code CAPSTAN_HOST}, default {@code 127.0.0.1}
 * @param port      {@code CAPSTAN_PORT}, default 8080
 * @param grpcPort  {@code CAPSTAN_GRPC_PORT}, default 8081, or 0 (ephemeral) when the HTTP port is 0
 * @param dbUrl     {@code CAPSTAN_DB_URL}: a JDBC URL; default is embedded H2 under {@code home/db}
 * @param dbUser    {@code CAPSTAN_DB_USER}
 * @param dbPassword {@code CAPSTAN_DB_PASSWORD}, or the content of the file {@code CAPSTAN_DB_PASSWORD_FILE} names; never
 *                  part of {@code dbUrl}, which is refused when it holds one
 * @param s3        the S3 settings, present when {@code CAPSTAN_S3_ENDPOINT} or {@code CAPSTAN_S3_BUCKET} is set
 * @param resync    {@code CAPSTAN_RESYNC_SECONDS}, default 30: how often controllers re-reconcile everything
 * @param secretKey {@code CAPSTAN_SECRET_KEY}: base64 of the 32-byte key that encrypts Secrets; empty means the key
 *                  in {@code home/keys}
 * @param metricsPublic {@code CAPSTAN_METRICS_PUBLIC}, default false: whether {@code /metrics} answers without a token
 */
public record CapstanConfig(Path home, String host, int port, int grpcPort, String dbUrl, String dbUser, String dbPassword,
                            Optional<S3Settings> s3, Duration resync, String secretKey, boolean metricsPublic) {
    private static final Pattern URL_PASSWORD = Pattern.compile("(?i)([?&;]password=)|(^jdbc:[a-z0-9]+://[^/?#@]*:[^/?#@]*@)");

    public CapstanConfig {
        Objects.requireNonNull(home, "home");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(dbUrl, "dbUrl");
        dbUser = dbUser == null ? "" : dbUser;
        dbPassword = dbPassword == null ? "" : dbPassword;
        Objects.requireNonNull(s3, "s3");
        Objects.requireNonNull(resync, "resync");
        secretKey = secretKey == null ? "" : secretKey;
        if (URL_PASSWORD.matcher(dbUrl).find()) {
            // The URL is shown in ps, shell history and messages; the value is never repeated here.
            throw InvalidSpecException.of("db-url", "the database URL contains a password; remove it from the URL and give it in "
                    + "CAPSTAN_DB_PASSWORD, or in a file named by --db-password-file or CAPSTAN_DB_PASSWORD_FILE");
        }
        if (port < 0 || port > 65535) throw InvalidSpecException.of("port", "port must be 0..65535, got " + port);
        if (grpcPort < 0 || grpcPort > 65535) throw InvalidSpecException.of("grpc-port", "gRPC port must be 0..65535, got " + grpcPort);
    }

    /** S3-compatible object storage for artifacts. */
    public record S3Settings(String endpoint, String region, String bucket, String accessKey, String secretKey, boolean pathStyle) {
        public S3Settings {
            Objects.requireNonNull(bucket, "bucket");
            region = region == null || region.isEmpty() ? "us-east-1" : region;
            endpoint = endpoint == null ? "" : endpoint;
            accessKey = accessKey == null ? "" : accessKey;
            secretKey = secretKey == null ? "" : secretKey;
        }

        /** Without the secret key, so that logging the settings cannot leak it. */
        @Override
        public String toString() {
            return "S3Settings[endpoint=" + endpoint + ", region=" + region + ", bucket=" + bucket + ", accessKey=" + accessKey
                    + ", secretKey=" + (secretKey.isEmpty() ? "" : "<redacted>") + ", pathStyle=" + pathStyle + "]";
        }
    }

    /** Without the database password and the secret key, so that logging the configuration cannot leak them. */
    @Override
    public String toString() {
        return "CapstanConfig[home=" + home + ", host=" + host + ", port=" + port + ", grpcPort=" + grpcPort + ", dbUrl=" + dbUrl
                + ", dbUser=" + dbUser + ", dbPassword=" + (dbPassword.isEmpty() ? "" : "<redacted>") + ", s3=" + s3 + ", resync=" + resync
                + ", secretKey=" + (secretKey.isEmpty() ? "" : "<redacted>") + ", metricsPublic=" + metricsPublic + "]";
    }

    /** Reads the configuration from environment variables alone. */
    public static CapstanConfig fromEnvironment(Map<String, String> env) {
        var home = Optional.ofNullable(env.get("CAPSTAN_HOME")).filter(s -> !s.isBlank()).map(Path::of)
                .orElse(Path.of(System.getProperty("user.home"), ".capstan"));
        return new CapstanConfig(
                home.toAbsolutePath(),
                env.getOrDefault("CAPSTAN_HOST", "127.0.0.1"),
                intVar(env, "CAPSTAN_PORT", 8080),
                // An ephemeral HTTP port (tests, side-by-side servers) means an ephemeral gRPC port too, unless set.
                intVar(env, "CAPSTAN_GRPC_PORT", intVar(env, "CAPSTAN_PORT", 8080) == 0 ? 0 : 8081),
                Optional.ofNullable(env.get("CAPSTAN_DB_URL")).filter(s -> !s.isBlank()).orElse(embeddedDbUrl(home.toAbsolutePath())),
                env.get("CAPSTAN_DB_USER"),
                dbPassword(env.get("CAPSTAN_DB_PASSWORD"), Optional.ofNullable(env.get("CAPSTAN_DB_PASSWORD_FILE")).filter(s -> !s.isBlank()).map(Path::of)),
                s3FromEnvironment(env),
                Duration.ofSeconds(intVar(env, "CAPSTAN_RESYNC_SECONDS", 30)),
                env.get("CAPSTAN_SECRET_KEY"),
                "true".equalsIgnoreCase(env.getOrDefault("CAPSTAN_METRICS_PUBLIC", "false").strip()));
    }

    /**
     * The password given directly, or read from {@code file} (one trailing newline dropped, as {@code echo} writes
     * it); giving both is refused.
     */
    private static String dbPassword(String given, Optional<Path> file) {
        if (file.isEmpty()) return given;
        if (given != null && !given.isEmpty()) {
            throw InvalidSpecException.of("db-password-file", "both CAPSTAN_DB_PASSWORD and a password file are set; keep only one");
        }
        try {
            var text = java.nio.file.Files.readString(file.get());
            if (text.endsWith("\n")) text = text.substring(0, text.length() - (text.endsWith("\r\n") ? 2 : 1));
            return text;
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            throw InvalidSpecException.of("db-password-file", "cannot read the database password file " + file.get() + ": "
                    + e.getClass().getSimpleName() + "; check that it exists and is readable");
        }
    }

    /** With the password read from {@code file}, which replaces CAPSTAN_DB_PASSWORD (both at once are refused). */
    public CapstanConfig withDbPasswordFile(Path file, Map<String, String> env) {
        return new CapstanConfig(home, host, port, grpcPort, dbUrl, dbUser, dbPassword(env.get("CAPSTAN_DB_PASSWORD"), Optional.of(file)),
                s3, resync, secretKey, metricsPublic);
    }

    /**
     * The embedded H2 database under {@code home/db}. {@code WRITE_DELAY=0} makes every commit reach the file before
     * the commit returns; H2's default of 500 ms would let a {@code kill -9} lose the last half second of records.
     * {@code QUERY_CACHE_SIZE=64} keeps the parsed form of the statements a reconcile pass repeats (H2 keeps 8 by
     * default, fewer than one pass uses, so it parsed them again every time).
     */
    public static String embeddedDbUrl(Path home) {
        return "jdbc:h2:file:" + home.resolve("db").resolve("capstan")
                + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;WRITE_DELAY=0;QUERY_CACHE_SIZE=64";
    }

    public CapstanConfig withHome(Path newHome) {
        boolean embedded = dbUrl.equals(embeddedDbUrl(home));
        return new CapstanConfig(newHome.toAbsolutePath(), host, port, grpcPort,
                embedded ? embeddedDbUrl(newHome.toAbsolutePath()) : dbUrl, dbUser, dbPassword, s3, resync, secretKey, metricsPublic);
    }

    public CapstanConfig withPort(int newPort) {
        return new CapstanConfig(home, host, newPort, grpcPort, dbUrl, dbUser, dbPassword, s3, resync, secretKey, metricsPublic);
    }

    public CapstanConfig withGrpcPort(int newPort) {
        return new CapstanConfig(home, host, port, newPort, dbUrl, dbUser, dbPassword, s3, resync, secretKey, metricsPublic);
    }

    public CapstanConfig withDbUrl(String url) {
        return new CapstanConfig(home, host, port, grpcPort, url, dbUser, dbPassword, s3, resync, secretKey, metricsPublic);
    }

    public CapstanConfig withMetricsPublic(boolean isPublic) {
        return new CapstanConfig(home, host, port, grpcPort, dbUrl, dbUser, dbPassword, s3, resync, secretKey, isPublic);
    }

    public boolean isEmbeddedDatabase() {
        return dbUrl.startsWith("jdbc:h2:");
    }

    public Path artifactsDir() {
        return home.resolve("artifacts");
    }

    public Path logsDir() {
        return home.resolve("logs");
    }

    public Path workDir() {
        return home.resolve("work");
    }

    private static Optional<S3Settings> s3FromEnvironment(Map<String, String> env) {
        var bucket = env.get("CAPSTAN_S3_BUCKET");
        if (bucket == null || bucket.isBlank()) return Optional.empty();
        return Optional.of(new S3Settings(env.get("CAPSTAN_S3_ENDPOINT"), env.get("CAPSTAN_S3_REGION"), bucket,
                env.get("CAPSTAN_S3_ACCESS_KEY"), env.get("CAPSTAN_S3_SECRET_KEY"),
                !"false".equalsIgnoreCase(env.getOrDefault("CAPSTAN_S3_PATH_STYLE", "true"))));
    }

    private static int intVar(Map<String, String> env, String name, int fallback) {
        var v = env.get(name);
        if (v == null || v.isBlank()) return fallback;
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw InvalidSpecException.of(name, name + " must be an integer, got '" + Names.printable(v) + "'");
        }
    }
}
