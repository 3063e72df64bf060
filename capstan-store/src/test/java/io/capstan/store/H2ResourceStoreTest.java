package io.capstan.store;

import io.capstan.store.testing.TestDatabases;

class H2ResourceStoreTest extends ResourceStoreContract {
    @Override
    Database openDatabase() {
        return TestDatabases.h2();
    }
}
