package io.capstan.registry;

import io.capstan.store.Database;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

class PostgresRegistryApiTest extends RegistryApiContract {
    private static String url;
    private static String schema;
    private static Database db;

    @BeforeAll
    static void open() {
        url = TestDatabases.pgUrl();
        schema = TestDatabases.uniqueSchema("mr_test");
        db = TestDatabases.postgres(url, schema);
    }

    @AfterAll
    static void close() {
        stop();
        if (db == null) return;
        db.close();
        TestDatabases.dropSchema(url, schema);
    }

    @Override
    Database database() {
        return db;
    }
}
