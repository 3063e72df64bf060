package io.capstan.store.testing;

import io.capstan.store.Database;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Assumptions;

/**
 * Fresh, empty databases for tests: in-memory H2 in PostgreSQL mode, and PostgreSQL (a new schema each call) when
 * the system property {@code capstan.test.pg.url} names a server. Nothing is migrated; call
 * {@link Database#migrate(String)} for the modules a test needs. Schemas created here are dropped when the JVM exits.
 *
 * <p>Outside CI a missing PostgreSQL URL skips the test (JUnit assumption); with {@code CI=true} it fails, so that
 * CI never passes by skipping.
 */
public final class TestDatabases {
    public static final String PG_URL_PROPERTY = "capstan.test.pg.url";
    private static final String H2_OPTIONS = ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH";

    /** Guards {@link #schemas} and the one-time registration of the shutdown hook. */
    private static final ReentrantLock LOCK = new ReentrantLock();
    private static final List<String> schemas = new ArrayList<>();
    private static boolean hookInstalled;

    private TestDatabases() {
    }

    /** A new, private in-memory H2 database; it lives until the JVM exits. */
    public static Database h2() {
        return Database.open("jdbc:h2:mem:t" + UUID.randomUUID().toString().replace("-", "") + H2_OPTIONS + ";DB_CLOSE_DELAY=-1", "", "");
    }

    /** A file-backed H2 database under {@code dir}, as embedded mode uses it. */
    public static Database h2File(Path dir) {
        Objects.requireNonNull(dir, "dir");
        // The same URL the server uses for embedded storage, durability settings included.
        return Database.open(io.capstan.core.CapstanConfig.embeddedDbUrl(dir.toAbsolutePath()), "", "");
    }

    /** The PostgreSQL URL from {@code capstan.test.pg.url}; fails under {@code CI=true} when it is missing. */
    public static Optional<String> postgresUrl() {
        var url = System.getProperty(PG_URL_PROPERTY, "").trim();
        if (!url.isEmpty()) return Optional.of(url);
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new IllegalStateException("CI=true but system property " + PG_URL_PROPERTY
                    + " is empty; start PostgreSQL with .ci/postgres.sh and pass -D" + PG_URL_PROPERTY + "=<jdbc url>");
        }
        return Optional.empty();
    }

    /**
     * A PostgreSQL database in a new, empty schema of its own (the connection's {@code currentSchema}). Skips the
     * calling test when no URL is configured outside CI.
     */
    public static Database postgres() {
        var url = postgresUrl();
        Assumptions.assumeTrue(url.isPresent(), "PostgreSQL tests skipped: set -D" + PG_URL_PROPERTY + " to run them");
        return postgres(url.get());
    }

    /** As {@link #postgres()}, against the given server URL. */
    public static Database postgres(String baseUrl) {
        Objects.requireNonNull(baseUrl, "baseUrl");
        var schema = "capstan_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        try (var admin = Database.open(baseUrl, "", "")) {
            admin.jdbi().useHandle(h -> h.execute("CREATE SCHEMA " + schema));
        }
        register(baseUrl, schema);
        return Database.open(baseUrl + (baseUrl.contains("?") ? "&" : "?") + "currentSchema=" + schema, "", "");
    }

    private static void register(String baseUrl, String schema) {
        LOCK.lock();
        try {
            schemas.add(schema);
            if (hookInstalled) return;
            hookInstalled = true;
            Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> dropAll(baseUrl)));
        } finally {
            LOCK.unlock();
        }
    }

    private static void dropAll(String baseUrl) {
        List<String> toDrop;
        LOCK.lock();
        try {
            toDrop = List.copyOf(schemas);
        } finally {
            LOCK.unlock();
        }
        try (var admin = Database.open(baseUrl, "", "")) {
            admin.jdbi().useHandle(h -> {
                for (var s : toDrop) h.execute("DROP SCHEMA IF EXISTS " + s + " CASCADE");
            });
        } catch (RuntimeException e) {
            // Shutdown hook: nobody can act on it any more, so say it on stderr; the schemas are throwaway.
            System.err.println("could not drop test schemas " + toDrop + ": " + e);
        }
    }
}
