package io.capstan.store;

import io.capstan.store.testing.TestDatabases;

class PostgresResourceStoreTest extends ResourceStoreContract {
    @Override
    Database openDatabase() {
        return TestDatabases.postgres();
    }
}
