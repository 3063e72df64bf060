package io.capstan.registry;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.capstan.store.Database;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;

/** Migrated test databases: a fresh in-memory H2, or a fresh schema in the PostgreSQL named by capstan.test.pg.url. */
final class TestDatabases {
    static final String PG_URL_PROPERTY = "capstan.test.pg.url";

    private TestDatabases() {
    }

    static Database h2() {
        var db = Database.open("jdbc:h2:mem:mr" + UUID.randomUUID().toString().replace("-", "")
                + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;DB_CLOSE_DELAY=-1", "", "");
        db.migrate("store");
        db.migrate(ModelRegistry.MIGRATIONS);
        return db;
    }

    /** The configured PostgreSQL URL; skips the test when unset, unless CI=true, where it fails. */
    static String pgUrl() {
        var url = System.getProperty(PG_URL_PROPERTY, "");
        if (url.isBlank()) {
            if ("true".equals(System.getenv("CI"))) fail("CI=true but -D" + PG_URL_PROPERTY + " is empty; PostgreSQL tests must run in CI");
            assumeTrue(false, "PostgreSQL tests skipped: set -D" + PG_URL_PROPERTY + "=jdbc:postgresql://...");
        }
        return url;
    }

    static Database postgres(String url, String schema) {
        Jdbi.create(url).useHandle(h -> h.execute("CREATE SCHEMA " + schema));
        var db = Database.open(url + (url.contains("?") ? "&" : "?") + "currentSchema=" + schema, "", "");
        db.migrate("store");
        db.migrate(ModelRegistry.MIGRATIONS);
        return db;
    }

    static void dropSchema(String url, String schema) {
        Jdbi.create(url).useHandle(h -> h.execute("DROP SCHEMA " + schema + " CASCADE"));
    }

    static String uniqueSchema(String prefix) {
        return prefix + "_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    }
}
