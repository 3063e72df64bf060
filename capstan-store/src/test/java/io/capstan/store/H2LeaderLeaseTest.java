package io.capstan.store;

import io.capstan.store.testing.TestDatabases;

class H2LeaderLeaseTest extends LeaderLeaseContract {
    @Override
    Database openDatabase() {
        return TestDatabases.h2();
    }
}
