package io.capstan.store;

import io.capstan.store.testing.TestDatabases;

class H2SecretsAtRestTest extends SecretsAtRestContract {
    @Override
    Database openDatabase() {
        return TestDatabases.h2();
    }
}
