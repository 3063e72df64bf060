package io.capstan.metadata;

import io.capstan.store.Database;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

class PostgresMetadataStoreTest extends MetadataStoreContract {
    private static String url;
    private static String schema;
    private static Database db;

    @BeforeAll
    static void open() {
        url = TestDatabases.pgUrl();
        schema = TestDatabases.uniqueSchema("md_test");
        db = TestDatabases.postgres(url, schema);
    }

    @AfterAll
    static void close() {
        if (db == null) return;
        db.close();
        TestDatabases.dropSchema(url, schema);
    }

    @Override
    Database database() {
        return db;
    }
}
