package io.capstan.serving.http;

import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import io.capstan.serving.api.InvalidInputException;
import org.junit.jupiter.api.Test;

/** Bodies the OIP JSON reader refuses, found by {@link OipJsonFuzzTest}. */
class OipJsonTest {

    @Test
    void aBodyJacksonTakesForUtf32WithAnImpossibleCharacterIsInvalidJson() {
        // Four zero bytes make Jackson read UTF-32; 0x0000_0005 is fine, 0x223a5b7b is no character at all.
        var body = new byte[] {0, 0, 0, 0, 0, 0, 0, 5, '"', ':', '[', '{', '"', 'n'};

        assertThatExceptionOfType(InvalidInputException.class).isThrownBy(() -> OipJson.readRequest(body))
                .withMessageContaining("the body is not valid JSON")
                .withMessageContaining("UTF-32");
    }
}
