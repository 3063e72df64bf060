package io.capstan.serving.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import io.capstan.serving.EchoModel;
import io.capstan.serving.TestHttp;
import io.capstan.serving.api.DataType;
import io.capstan.serving.internal.ModelServer;
import io.capstan.serving.internal.PayloadLogger;
import io.capstan.serving.internal.Revision;
import io.capstan.serving.internal.RevisionSettings;
import io.capstan.serving.internal.Route;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every OIP datatype goes through JSON, the endpoint and a model and comes back unchanged. */
class DatatypesRestTest {
    static ModelServer server;
    static TestHttp http;

    /** Data for a [2, 2] tensor of each type, with the type's edge values. */
    static final Map<DataType, String> DATA = Map.ofEntries(
            Map.entry(DataType.BOOL, "[true, false, false, true]"),
            Map.entry(DataType.UINT8, "[0, 1, 254, 255]"),
            Map.entry(DataType.UINT16, "[0, 1, 65534, 65535]"),
            Map.entry(DataType.UINT32, "[0, 1, 4294967294, 4294967295]"),
            Map.entry(DataType.UINT64, "[0, 1, 9223372036854775808, 18446744073709551615]"),
            Map.entry(DataType.INT8, "[-128, -1, 0, 127]"),
            Map.entry(DataType.INT16, "[-32768, -1, 0, 32767]"),
            Map.entry(DataType.INT32, "[-2147483648, -1, 0, 2147483647]"),
            Map.entry(DataType.INT64, "[-9223372036854775808, -1, 0, 9223372036854775807]"),
            Map.entry(DataType.FP16, "[-2.5, 0.0, 1.5, 65504.0]"),
            Map.entry(DataType.FP32, "[-1.5, 0.0, 3.25, 1.0E30]"),
            Map.entry(DataType.FP64, "[-1.5, 0.0, 3.25, 1.0E300]"),
            Map.entry(DataType.BYTES, "[\"a\", \"\", \"h\\u00e9llo\", \"\\u2603\"]"));

    static final Map<DataType, String> OUT_OF_RANGE = Map.of(
            DataType.UINT8, "256", DataType.INT8, "-129", DataType.UINT16, "-1", DataType.INT16, "40000",
            DataType.UINT32, "4294967296", DataType.INT32, "2147483648", DataType.UINT64, "18446744073709551616",
            DataType.INT64, "9223372036854775808", DataType.BOOL, "1", DataType.BYTES, "5");

    @BeforeAll
    static void start() throws Exception {
        server = new ModelServer(Duration.ofSeconds(1));
        for (var type : DataType.values()) {
            var revision = new Revision("default", name(type), 1, () -> new EchoModel(type), RevisionSettings.defaults(),
                    new SimpleMeterRegistry(), Clock.systemUTC());
            revision.start();
            server.register("default", name(type)).route(Route.allTo(revision, PayloadLogger.NONE));
        }
        http = new TestHttp(new InferenceHttpService(server));
    }

    @AfterAll
    static void stop() {
        http.close();
        server.close();
    }

    static String name(DataType type) {
        return "echo-" + type.name().toLowerCase(Locale.ROOT);
    }

    static String request(DataType type, String data) {
        return "{\"inputs\": [{\"name\": \"x\", \"shape\": [2, 2], \"datatype\": \"" + type + "\", \"data\": " + data
                + ", \"parameters\": {\"content_type\": \"np\"}}], \"parameters\": {\"trace\": true, \"n\": 3, \"w\": 0.5}}";
    }

    @Test
    void everyDatatypeRoundTrips() throws Exception {
        for (var type : DataType.values()) {
            var response = http.post("/v2/models/" + name(type) + "/infer", request(type, DATA.get(type)));
            assertThat(response.statusCode()).as(type + ": " + response.body()).isEqualTo(200);
            JsonNode output = Json.json().readTree(response.body()).get("outputs").get(0);
            assertThat(output.get("datatype").asText()).isEqualTo(type.name());
            assertThat(output.get("shape").toString()).isEqualTo("[2,2]");
            assertThat(output.get("data")).as(type.name()).isEqualTo(Json.json().readTree(DATA.get(type)));
            assertThat(output.get("parameters").get("echoed").asInt()).isEqualTo(3);
        }
    }

    @Test
    void outOfRangeAndWrongKindElementsAreA400NamingTheElement() throws Exception {
        for (var entry : OUT_OF_RANGE.entrySet()) {
            var type = entry.getKey();
            var valid = type == DataType.BOOL ? "true, true, true" : type == DataType.BYTES ? "\"a\", \"b\", \"c\"" : "0, 0, 0";
            var response = http.post("/v2/models/" + name(type) + "/infer", request(type, "[" + valid + ", " + entry.getValue() + "]"));
            assertThat(response.statusCode()).as(type + ": " + response.body()).isEqualTo(400);
            assertThat(Json.json().readTree(response.body()).get("error").asText()).as(type.name()).contains("inputs[0].data[3]");
        }
        var fraction = http.post("/v2/models/echo-int32/infer", request(DataType.INT32, "[1, 2, 3, 4.5]"));
        assertThat(fraction.statusCode()).isEqualTo(400);
        var nested = http.post("/v2/models/echo-fp32/infer", request(DataType.FP32, "[[1, 2], [3, 4]]"));
        assertThat(nested.statusCode()).isEqualTo(200);
        var badParameters = http.post("/v2/models/echo-fp32/infer",
                "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 1], \"datatype\": \"FP32\", \"data\": [1], \"parameters\": {\"a\": [1]}}]}");
        assertThat(badParameters.statusCode()).isEqualTo(400);
        assertThat(badParameters.body()).contains("inputs[0].parameters.a");
    }

    @Test
    void v1WholeNumbersArePassedExactlyOrRefusedWhenOutOfRange() throws Exception {
        // Found by V1ProtocolFuzzTest: V1 read whole numbers through a double, so an INT32 out of range was clamped
        // and an INT64 beyond 2^53 lost its last digits, both silently.
        var int32 = http.post("/v1/models/echo-int32:predict", "{\"instances\": [[1], [-2148743648]]}");
        assertThat(int32.statusCode()).as(int32.body()).isEqualTo(400);
        assertThat(Json.json().readTree(int32.body()).get("error").asText()).contains("instances: element 1", "-2148743648", "INT32");

        var int64 = http.post("/v1/models/echo-int64:predict", "{\"instances\": [[9007199254740993], [-9223372036854775808]]}");
        assertThat(int64.statusCode()).as(int64.body()).isEqualTo(200);
        assertThat(Json.json().readTree(int64.body()).get("predictions").toString()).isEqualTo("[[9007199254740993],[-9223372036854775808]]");

        var tooLarge = http.post("/v1/models/echo-int64:predict", "{\"instances\": [[9223372036854775808]]}");
        assertThat(tooLarge.statusCode()).as(tooLarge.body()).isEqualTo(400);
        assertThat(Json.json().readTree(tooLarge.body()).get("error").asText()).contains("element 0", "INT64");
    }
}
