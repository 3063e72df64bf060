package io.capstan.components;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class XgboostTest {
    @Test
    void versionComesFromTheJar() {
        assertThat(Xgboost.version()).isEqualTo("3.4.0");
    }

    @Test
    void aNativeLibraryThatCannotLoadBecomesOneSentence() {
        var failure = Xgboost.unavailable(new UnsatisfiedLinkError("no xgboost4j in java.library.path"));
        assertThat(failure.getMessage())
                .startsWith("XGBoost's native library could not be loaded on ")
                .contains("no xgboost4j in java.library.path")
                .contains("use train-logistic-regression instead");
        assertThat(failure.getCause()).isInstanceOf(UnsatisfiedLinkError.class);
    }
}
