package io.capstan.registry;

import io.capstan.store.Database;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

class H2RegistryApiTest extends RegistryApiContract {
    private static Database db;

    @BeforeAll
    static void open() {
        db = TestDatabases.h2();
    }

    @AfterAll
    static void close() {
        stop();
        if (db != null) db.close();
    }

    @Override
    Database database() {
        return db;
    }
}
