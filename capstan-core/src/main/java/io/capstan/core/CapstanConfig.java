package io.capstan.core;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

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
 * @param dbPassword {@code CAPSTAN_DB_PASSWORD}
 * @param s3        the S3 settings, present when {@code CAPSTAN_S3_ENDPOINT} or {@code CAPSTAN_S3_BUCKET} is set
 * @param resync    {@code CAPSTAN_RESYNC_SECONDS}, default 30: how often controllers re-reconcile everything
 * @param metricsPublic {@code CAPSTAN_METRICS_PUBLIC}, default false: whether {@code /metrics} answers without a token
 */
public record CapstanConfig(Path home, String host, int port, int grpcPort, String dbUrl, String dbUser, String dbPassword,
                            Optional<S3Settings> s3, Duration resync, boolean metricsPublic) {

    public CapstanConfig {
        Objects.requireNonNull(home, "home");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(dbUrl, "dbUrl");
        dbUser = dbUser == null ? "" : dbUser;
        dbPassword = dbPassword == null ? "" : dbPassword;
        Objects.requireNonNull(s3, "s3");
        Objects.requireNonNull(resync, "resync");
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
                env.get("CAPSTAN_DB_PASSWORD"),
                s3FromEnvironment(env),
                Duration.ofSeconds(intVar(env, "CAPSTAN_RESYNC_SECONDS", 30)),
                "true".equalsIgnoreCase(env.getOrDefault("CAPSTAN_METRICS_PUBLIC", "false").strip()));
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
                embedded ? embeddedDbUrl(newHome.toAbsolutePath()) : dbUrl, dbUser, dbPassword, s3, resync, metricsPublic);
    }

    public CapstanConfig withPort(int newPort) {
        return new CapstanConfig(home, host, newPort, grpcPort, dbUrl, dbUser, dbPassword, s3, resync, metricsPublic);
    }

    public CapstanConfig withGrpcPort(int newPort) {
        return new CapstanConfig(home, host, port, newPort, dbUrl, dbUser, dbPassword, s3, resync, metricsPublic);
    }

    public CapstanConfig withDbUrl(String url) {
        return new CapstanConfig(home, host, port, grpcPort, url, dbUser, dbPassword, s3, resync, metricsPublic);
    }

    public CapstanConfig withMetricsPublic(boolean isPublic) {
        return new CapstanConfig(home, host, port, grpcPort, dbUrl, dbUser, dbPassword, s3, resync, isPublic);
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
