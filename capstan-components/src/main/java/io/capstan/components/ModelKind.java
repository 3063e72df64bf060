package io.capstan.components;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.capstan.core.InvalidSpecException;

import java.util.Arrays;

/** Which library trained a model artifact, as written in its {@code provenance.json}. */
enum ModelKind {
    XGBOOST("xgboost", "model.json"),
    TRIBUO_LOGISTIC_REGRESSION("tribuo-logistic-regression", "model.tribuo");

    private final String wireName;
    private final String fileName;

    ModelKind(String wireName, String fileName) {
        this.wireName = wireName;
        this.fileName = fileName;
    }

    @JsonValue
    String wireName() {
        return wireName;
    }

    /** The model file inside the model artifact's directory. */
    String fileName() {
        return fileName;
    }

    @JsonCreator
    static ModelKind of(String wireName) {
        return Arrays.stream(values()).filter(k -> k.wireName.equals(wireName)).findFirst()
                .orElseThrow(() -> new InvalidSpecException("provenance.json has model kind '%s'; expected one of xgboost, tribuo-logistic-regression"
                        .formatted(wireName)));
    }
}
