package io.capstan.store;

import io.capstan.store.testing.TestDatabases;

class PostgresSecretsAtRestTest extends SecretsAtRestContract {
    @Override
    Database openDatabase() {
        return TestDatabases.postgres();
    }
}
