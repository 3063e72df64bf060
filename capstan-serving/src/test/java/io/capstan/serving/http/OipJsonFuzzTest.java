package io.capstan.serving.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.capstan.serving.api.InvalidInputException;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile OIP JSON request bodies: any bytes either read into a request or are refused with an
 * {@link InvalidInputException} (400). Where the fast reader takes a body, the general Jackson reader must read the
 * very same request from it, and what is read must survive being written and read again. Any other exception, a hang
 * past the timeout or running out of the fork's heap is a finding.
 */
class OipJsonFuzzTest {

    // Entries are in libFuzzer's dictionary syntax, hence the doubled escapes.
    @MethodSource("seeds")
    @DictionaryEntries({"\\\"inputs\\\"", "\\\"outputs\\\"", "\\\"name\\\"", "\\\"shape\\\"", "\\\"datatype\\\"", "\\\"data\\\"",
            "\\\"parameters\\\"", "\\\"id\\\"", "\\\"FP32\\\"", "\\\"FP64\\\"", "\\\"FP16\\\"", "\\\"INT64\\\"", "\\\"INT32\\\"",
            "\\\"INT8\\\"", "\\\"UINT64\\\"", "\\\"UINT8\\\"", "\\\"BOOL\\\"", "\\\"BYTES\\\"", "\\\"NaN\\\"", "\\\"-inf\\\"",
            "1e309", "-0", "18446744073709551616", "9223372036854775808", "[[", "]]", "true", "null", ":", ","})
    @FuzzTest
    void readsOrRefusesWithA400(byte[] body) {
        try {
            var request = OipJson.readRequest(body);
            var fast = OipFastJson.readRequest(body);
            if (fast != null) assertThat(OipJson.readRequestGeneral(body)).as("the general reader").isEqualTo(fast);
            assertThat(OipJson.readRequest(OipJson.writeRequest(request))).as("written and read again").isEqualTo(request);
        } catch (InvalidInputException e) {
            assertThat(e.getMessage()).isNotBlank();
            assertThat(OipFastJson.readRequest(body)).as("the fast reader takes what the general one refuses").isNull();
        }
    }

    static Stream<byte[]> seeds() {
        return Stream.of(
                "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[5.1,3.5,1.4,0.2]}]}",
                "{\"id\":\"r1\",\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP64\",\"shape\":[2,2],\"data\":[[1,-2.5e3],[0.0,-0]]}]}",
                "{\"inputs\":[{\"name\":\"a\",\"shape\":[3],\"datatype\":\"INT64\",\"data\":[-9223372036854775808,0,1]},"
                        + "{\"name\":\"b\",\"shape\":[1,2],\"datatype\":\"INT32\",\"data\":[[-2147483648,2147483647]]}]}",
                "{\"inputs\":[{\"name\":\"s\",\"shape\":[2],\"datatype\":\"BYTES\",\"data\":[\"hi\",\"\\u00e9\"],"
                        + "\"parameters\":{\"content_type\":\"str\"}}],\"outputs\":[{\"name\":\"y\",\"parameters\":{\"binary_data\":false}}],"
                        + "\"parameters\":{\"k\":1.5,\"b\":true,\"n\":null}}",
                "{\"inputs\":[{\"data\":[true,false],\"datatype\":\"BOOL\",\"shape\":[2],\"name\":\"late-type\"}]}",
                "{\"inputs\":[{\"name\":\"h\",\"shape\":[2],\"datatype\":\"FP16\",\"data\":[\"NaN\",\"-inf\"]},"
                        + "{\"name\":\"u\",\"shape\":[1],\"datatype\":\"UINT64\",\"data\":[18446744073709551615]},"
                        + "{\"name\":\"i8\",\"shape\":[1],\"datatype\":\"UINT8\",\"data\":[255]}]}",
                "{\"inputs\":[{\"name\":\"e\",\"shape\":[0,4],\"datatype\":\"FP32\",\"data\":[]}]}")
                .map(s -> s.getBytes(StandardCharsets.UTF_8));
    }
}
