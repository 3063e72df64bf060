package io.capstan.metadata;

import io.capstan.store.Database;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

class H2MetadataStoreTest extends MetadataStoreContract {
    private static Database db;

    @BeforeAll
    static void open() {
        db = TestDatabases.h2();
    }

    @AfterAll
    static void close() {
        db.close();
    }

    @Override
    Database database() {
        return db;
    }
}
