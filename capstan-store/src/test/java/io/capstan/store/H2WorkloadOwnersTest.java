package io.capstan.store;

import io.capstan.store.testing.TestDatabases;

class H2WorkloadOwnersTest extends WorkloadOwnersContract {
    @Override
    Database openDatabase() {
        return TestDatabases.h2();
    }
}
