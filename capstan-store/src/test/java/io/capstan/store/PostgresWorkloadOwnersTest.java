package io.capstan.store;

import io.capstan.store.testing.TestDatabases;

class PostgresWorkloadOwnersTest extends WorkloadOwnersContract {
    @Override
    Database openDatabase() {
        return TestDatabases.postgres();
    }
}
