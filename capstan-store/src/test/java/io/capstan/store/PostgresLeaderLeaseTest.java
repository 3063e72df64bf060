package io.capstan.store;

import io.capstan.store.testing.TestDatabases;

class PostgresLeaderLeaseTest extends LeaderLeaseContract {
    @Override
    Database openDatabase() {
        return TestDatabases.postgres();
    }
}
