package io.capstan.serving.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.serving.api.InferenceRequest;
import io.capstan.serving.api.InferenceResponse;
import io.capstan.serving.api.Tensor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The fast codec reads and writes exactly what the general (Jackson) path does, and leaves everything else to it. */
class OipFastJsonTest {

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void sameAsGeneral(String body) {
        var fast = OipFastJson.readRequest(utf8(body));
        assertThat(fast).as("the fast path reads %s", body).isNotNull();
        assertThat(fast).as(body).isEqualTo(OipJson.readRequestGeneral(utf8(body)));
        assertThat(OipJson.readRequest(utf8(body))).isEqualTo(fast);
    }

    private static String tensor(String type, String shape, String data) {
        return "{\"name\":\"input\",\"shape\":" + shape + ",\"datatype\":\"" + type + "\",\"data\":" + data + "}";
    }

    @Test
    void readsTheCommonRequestsExactlyAsTheGeneralPath() {
        sameAsGeneral("{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[5.1,3.5,1.4,0.2]}]}");
        sameAsGeneral(" {\n \"id\" : \"r1\" ,\t\"inputs\" : [ { \"name\" : \"x\" , \"datatype\" : \"FP64\" , \"shape\" : [ 2 , 2 ] ,"
                + " \"data\" : [ [ 1 , -2.5e3 ] , [ 0.0 , -0 ] ] } ] } \r\n");
        sameAsGeneral("{\"inputs\":[" + tensor("INT64", "[3]", "[-9223372036854775,0,123456789012345678]") + ","
                + tensor("INT32", "[1,2]", "[[-2147483648,2147483647]]").replace("input", "other") + "]}");
        sameAsGeneral("{\"inputs\":[" + tensor("FP32", "[0,4]", "[]") + "]}");
        sameAsGeneral("{\"inputs\":[" + tensor("FP32", "[4]", "[-0,-0.0,1E2,1e-2]") + "]}");
        sameAsGeneral("{\"inputs\":[" + tensor("FP64", "[5]", "[12345678901234567890123,1.00000000000000000000001,"
                + "2.2250738585072011e-308,1.7976931348623157E308,4.9e-324]") + "]}");
        sameAsGeneral("{\"inputs\":[" + tensor("FP32", "[3]", "[3.4028235e38,1.4e-45,16777217]") + "]}");
    }

    @Test
    void readsExponentsWithLeadingZerosAsTheGeneralPath() {
        // Found by OipJsonFuzzTest: the fast path read only an exponent's first six characters, zeros included, so
        // 1e0000005 was 1 there and 100000 on the general path.
        sameAsGeneral("{\"inputs\":[" + tensor("FP32", "[3]", "[1e0000005,-2.18446770956651e00000000000000005,5E-0000000000001]") + "]}");
        sameAsGeneral("{\"inputs\":[" + tensor("FP64", "[2]", "[1e000000000000000000000000000000300,1e-0000000000400]") + "]}");
        assertThat(OipJson.readRequest(utf8("{\"inputs\":[" + tensor("FP32", "[1]", "[1e0000005]") + "]}")).inputs().getFirst().floats())
                .containsExactly(100000f);
    }

    @Test
    void readsRandomNumbersInEveryNotationExactlyAsTheGeneralPath() {
        var random = new Random(42);
        for (int round = 0; round < 300; round++) {
            var values = new ArrayList<String>();
            for (int i = 0; i < 40; i++) {
                double d = switch (random.nextInt(5)) {
                    case 0 -> random.nextGaussian();
                    case 1 -> random.nextGaussian() * Math.pow(10, random.nextInt(80) - 40);
                    case 2 -> Double.longBitsToDouble(random.nextLong());
                    case 3 -> random.nextInt(2000) - 1000;
                    default -> Float.intBitsToFloat(random.nextInt());
                };
                if (!Double.isFinite(d)) d = 1.5;
                var text = switch (random.nextInt(6)) {
                    case 0 -> Double.toString(d);
                    case 1 -> Float.toString((float) d);
                    case 2 -> String.format(Locale.ROOT, "%.3f", d);
                    case 3 -> String.format(Locale.ROOT, "%.17e", d);
                    case 4 -> String.valueOf((long) d);
                    default -> String.format(Locale.ROOT, "%.6E", d).replace("E+", "e");
                };
                values.add(text.contains("Infinity") ? "1e38" : text.length() > 60 ? Double.toString(d) : text);
            }
            var data = "[" + String.join(",", values) + "]";
            sameAsGeneral("{\"inputs\":[" + tensor("FP32", "[40]", data) + "]}");
            sameAsGeneral("{\"inputs\":[" + tensor("FP64", "[4,10]", data) + "]}");
        }
    }

    @Test
    void leavesEverythingElseToTheGeneralPath() {
        for (var body : List.of(
                "{}", "[]", "", "{\"inputs\":[]}",
                "{\"inputs\":[" + tensor("FP32", "[1,4]", "[1,2,3]") + "]}", // shape and data disagree
                "{\"inputs\":[" + tensor("FP32", "[1,2]", "[1,\"NaN\"]") + "]}",
                "{\"inputs\":[" + tensor("BYTES", "[1]", "[\"a\"]") + "]}",
                "{\"inputs\":[" + tensor("INT32", "[1]", "[2147483648]") + "]}",
                "{\"inputs\":[" + tensor("INT64", "[1]", "[1.5]") + "]}",
                "{\"inputs\":[" + tensor("FP32", "[1]", "[01]") + "]}",
                "{\"inputs\":[" + tensor("FP32", "[1]", "[1.]") + "]}",
                "{\"inputs\":[" + tensor("FP32", "[1]", "[.5]") + "]}",
                "{\"inputs\":[" + tensor("FP32", "[1]", "[+1]") + "]}",
                "{\"inputs\":[" + tensor("FP32", "[1]", "[1,]") + "]}",
                "{\"inputs\":[" + tensor("FP32", "[-1]", "[1]") + "]}",
                "{\"inputs\":[" + tensor("FP32", "[1]", "1") + "]}",
                "{\"inputs\":[{\"name\":\"x\",\"data\":[1],\"datatype\":\"FP32\",\"shape\":[1]}]}", // data before datatype
                "{\"inputs\":[{\"name\":\"x\\u0041\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}]}",
                "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1],\"parameters\":{}}]}",
                "{\"inputs\":[" + tensor("FP32", "[1]", "[1]") + "],\"outputs\":[{\"name\":\"y\"}]}",
                "{\"inputs\":[" + tensor("FP32", "[1]", "[1]") + "],\"parameters\":{\"a\":1}}",
                "{\"inputs\":[" + tensor("FP32", "[1]", "[1]") + "],\"inputs\":[" + tensor("FP32", "[1]", "[2]") + "]}",
                "{\"inputs\":[" + tensor("FP32", "[1]", "[1]") + "]} x",
                "{\"inputs\":[" + tensor("FP32", "[1]", "[1]") + "]",
                "{\"inputs\":[" + tensor("FP32", "[1]", "[1]") + "],}",
                "{\"id\":null,\"inputs\":[" + tensor("FP32", "[1]", "[1]") + "]}",
                "{\"id\":\"é\",\"inputs\":[" + tensor("FP32", "[1]", "[1]") + "]}")) {
            assertThat(OipFastJson.readRequest(utf8(body))).as(body).isNull();
        }
    }

    private static void writesAsGeneral(InferenceResponse response) {
        var fast = OipFastJson.writeResponse(response);
        assertThat(fast).isNotNull();
        assertThat(new String(fast, StandardCharsets.UTF_8)).isEqualTo(new String(OipJson.writeResponseGeneral(response), StandardCharsets.UTF_8));
    }

    @Test
    void writesResponsesByteForByteAsTheGeneralPath() {
        var random = new Random(7);
        for (int round = 0; round < 500; round++) {
            int n = 1 + random.nextInt(20);
            var floats = new float[n];
            var doubles = new double[n];
            var longs = new long[n];
            var ints = new int[n];
            for (int i = 0; i < n; i++) {
                floats[i] = random.nextBoolean() ? Float.intBitsToFloat(random.nextInt()) : (float) random.nextGaussian();
                doubles[i] = random.nextBoolean() ? Double.longBitsToDouble(random.nextLong()) : random.nextGaussian() * 1e6;
                longs[i] = random.nextBoolean() ? random.nextLong() : random.nextInt(100) - 50;
                ints[i] = random.nextInt();
            }
            floats[0] = switch (round % 6) {
                case 0 -> Float.NaN;
                case 1 -> Float.NEGATIVE_INFINITY;
                case 2 -> -0.0f;
                case 3 -> Float.MIN_VALUE;
                case 4 -> 1e7f;
                default -> floats[0];
            };
            longs[0] = round % 3 == 0 ? Long.MIN_VALUE : longs[0];
            writesAsGeneral(new InferenceResponse("iris", round % 2 == 0 ? "1" : null, round % 3 == 0 ? "req-" + round : null, Map.of(), List.of(
                    Tensor.ofFloats("probabilities", new long[] {1, n}, floats),
                    Tensor.ofDoubles("d", new long[] {n}, doubles),
                    Tensor.ofLongs("label", new long[] {n, 1}, longs),
                    Tensor.ofInts("i", new long[] {n}, ints))));
        }
    }

    @Test
    void leavesOtherResponsesToTheGeneralPath() {
        var floats = Tensor.ofFloats("y", new long[] {1}, new float[] {1});
        assertThat(OipFastJson.writeResponse(new InferenceResponse("a\"b", "1", null, Map.of(), List.of(floats)))).isNull();
        assertThat(OipFastJson.writeResponse(new InferenceResponse("iris", "1", "ü", Map.of(), List.of(floats)))).isNull();
        assertThat(OipFastJson.writeResponse(new InferenceResponse("iris", "1", null, Map.of("a", 1L), List.of(floats)))).isNull();
        assertThat(OipFastJson.writeResponse(new InferenceResponse("iris", "1", null, Map.of(),
                List.of(new Tensor("y", io.capstan.serving.api.DataType.FP32, new long[] {1}, new float[] {1}, Map.of("p", "q")))))).isNull();
        assertThat(OipFastJson.writeResponse(new InferenceResponse("iris", "1", null, Map.of(),
                List.of(Tensor.ofStrings("s", new long[] {1}, "x"))))).isNull();
        var request = new InferenceRequest("r", Map.of(), List.of(floats), List.of());
        assertThat(OipJson.readRequest(OipJson.writeRequest(request))).isEqualTo(request);
    }
}
