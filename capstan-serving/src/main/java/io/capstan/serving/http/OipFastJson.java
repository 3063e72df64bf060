package io.capstan.serving.http;

import io.capstan.serving.api.DataType;
import io.capstan.serving.api.InferenceRequest;
import io.capstan.serving.api.InferenceResponse;
import io.capstan.serving.api.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The common, small cases of the OIP JSON codec straight between bytes and primitive arrays, with no
 * tokenizer, parser or generator objects: requests with only {@code id} and {@code inputs} whose tensors
 * carry a name, shape, numeric datatype (FP32, FP64, INT32, INT64) and plain numeric data; responses
 * without parameters whose tensors are of those datatypes.
 *
 * <p>Both directions are conservative: anything else, malformed input included, makes them answer null,
 * and {@link OipJson} then takes the general Jackson path, which reads and writes the same documents
 * byte for byte and produces the error messages that name the field. So this never decides an error.
 */
final class OipFastJson {
    /** Longest number token taken here; longer ones go to the general path (and its limits). */
    private static final int MAX_NUMBER_CHARS = 64;
    private static final int MAX_DIMS = 32;
    private static final int MAX_DEPTH = 32;
    private static final double[] POWERS_OF_TEN = new double[23];

    static {
        double p = 1;
        for (int i = 0; i < POWERS_OF_TEN.length; i++) {
            POWERS_OF_TEN[i] = p;
            p *= 10;
        }
    }

    private OipFastJson() {
    }

    // ---------------------------------------------------------------- reading

    /** The request, or null when the body is not one of the simple cases this reads. */
    static InferenceRequest readRequest(byte[] body) {
        try {
            return new Reader(body).request();
        } catch (Bail | RuntimeException e) {
            return null;
        }
    }

    /** Thrown to give the document to the general path; carries no stack trace. */
    private static final class Bail extends Exception {
        static final Bail INSTANCE = new Bail();

        private Bail() {
            super(null, null, false, false);
        }
    }

    private static final class Reader {
        private final byte[] b;
        private int p;
        // the current tensor's data, as doubles (FP32, FP64) or longs (INT32, INT64), before the shape check
        private double[] doubles = new double[16];
        private long[] longs;
        private int count;

        Reader(byte[] body) {
            this.b = body;
        }

        InferenceRequest request() throws Bail {
            expect('{');
            String id = null;
            List<Tensor> inputs = null;
            while (true) {
                int keyStart = stringStart();
                int keyEnd = stringEnd(keyStart);
                expect(':');
                if (is(keyStart, keyEnd, "id") && id == null) {
                    id = string();
                } else if (is(keyStart, keyEnd, "inputs") && inputs == null) {
                    inputs = inputs();
                } else {
                    throw Bail.INSTANCE; // parameters, outputs, unknown or repeated fields: the general path
                }
                int c = next();
                if (c == ',') continue;
                if (c == '}') break;
                throw Bail.INSTANCE;
            }
            skipWhitespace();
            if (p != b.length || inputs == null) throw Bail.INSTANCE;
            return new InferenceRequest(id, Map.of(), inputs, List.of());
        }

        private List<Tensor> inputs() throws Bail {
            expect('[');
            var inputs = new ArrayList<Tensor>(2);
            if (peek() == ']') throw Bail.INSTANCE;
            while (true) {
                inputs.add(tensor());
                int c = next();
                if (c == ',') continue;
                if (c == ']') return inputs;
                throw Bail.INSTANCE;
            }
        }

        private Tensor tensor() throws Bail {
            expect('{');
            String name = null;
            DataType type = null;
            long[] shape = null;
            Object data = null;
            if (peek() == '}') throw Bail.INSTANCE;
            while (true) {
                int keyStart = stringStart();
                int keyEnd = stringEnd(keyStart);
                expect(':');
                if (is(keyStart, keyEnd, "name") && name == null) {
                    name = string();
                } else if (is(keyStart, keyEnd, "datatype") && type == null) {
                    type = datatype();
                } else if (is(keyStart, keyEnd, "shape") && shape == null) {
                    shape = shape();
                } else if (is(keyStart, keyEnd, "data") && data == null && type != null) {
                    data = data(type);
                } else {
                    throw Bail.INSTANCE; // parameters, data before datatype, unknown or repeated fields
                }
                int c = next();
                if (c == ',') continue;
                if (c == '}') break;
                throw Bail.INSTANCE;
            }
            if (name == null || shape == null || data == null) throw Bail.INSTANCE;
            long elements = 1;
            for (long d : shape) {
                if (d > Integer.MAX_VALUE) throw Bail.INSTANCE;
                elements *= d;
                if (elements > Integer.MAX_VALUE - 8) throw Bail.INSTANCE;
            }
            if (elements != java.lang.reflect.Array.getLength(data)) throw Bail.INSTANCE;
            return new Tensor(name, type, shape, data, Map.of());
        }

        private DataType datatype() throws Bail {
            int start = stringStart();
            int end = stringEnd(start);
            if (is(start, end, "FP32")) return DataType.FP32;
            if (is(start, end, "FP64")) return DataType.FP64;
            if (is(start, end, "INT64")) return DataType.INT64;
            if (is(start, end, "INT32")) return DataType.INT32;
            throw Bail.INSTANCE;
        }

        private long[] shape() throws Bail {
            expect('[');
            long[] dims = new long[4];
            int n = 0;
            if (peek() == ']') {
                p++;
                return new long[0];
            }
            while (true) {
                skipWhitespace();
                int start = p;
                long d = 0;
                while (p < b.length && b[p] >= '0' && b[p] <= '9') {
                    d = d * 10 + (b[p++] - '0');
                    if (p - start > 12) throw Bail.INSTANCE;
                }
                if (p == start || (b[start] == '0' && p - start > 1)) throw Bail.INSTANCE;
                if (n == MAX_DIMS) throw Bail.INSTANCE;
                if (n == dims.length) dims = Arrays.copyOf(dims, n * 2);
                dims[n++] = d;
                int c = next();
                if (c == ',') continue;
                if (c == ']') return Arrays.copyOf(dims, n);
                throw Bail.INSTANCE;
            }
        }

        private Object data(DataType type) throws Bail {
            boolean floating = type == DataType.FP32 || type == DataType.FP64;
            count = 0;
            if (!floating && longs == null) longs = new long[16];
            expect('[');
            array(floating, 0);
            return switch (type) {
                case FP32 -> {
                    var out = new float[count];
                    for (int i = 0; i < count; i++) out[i] = (float) doubles[i];
                    yield out;
                }
                case FP64 -> Arrays.copyOf(doubles, count);
                case INT64 -> Arrays.copyOf(longs, count);
                case INT32 -> {
                    var out = new int[count];
                    for (int i = 0; i < count; i++) {
                        long v = longs[i];
                        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) throw Bail.INSTANCE;
                        out[i] = (int) v;
                    }
                    yield out;
                }
                default -> throw Bail.INSTANCE;
            };
        }

        /** Reads the elements of an array whose '[' was just read, flattening nested arrays. */
        private void array(boolean floating, int depth) throws Bail {
            if (depth > MAX_DEPTH) throw Bail.INSTANCE;
            if (peek() == ']') {
                p++;
                return;
            }
            while (true) {
                skipWhitespace();
                if (p < b.length && b[p] == '[') {
                    p++;
                    array(floating, depth + 1);
                } else if (floating) {
                    if (count == doubles.length) doubles = Arrays.copyOf(doubles, count * 2);
                    doubles[count++] = number();
                } else {
                    if (count == longs.length) longs = Arrays.copyOf(longs, count * 2);
                    longs[count++] = integer();
                }
                int c = next();
                if (c == ',') continue;
                if (c == ']') return;
                throw Bail.INSTANCE;
            }
        }

        /** A JSON integer that fits a long comfortably (up to 18 digits). */
        private long integer() throws Bail {
            int start = p;
            boolean negative = p < b.length && b[p] == '-';
            if (negative) p++;
            int digits = p;
            long v = 0;
            while (p < b.length && b[p] >= '0' && b[p] <= '9') v = v * 10 + (b[p++] - '0');
            int n = p - digits;
            if (n == 0 || n > 18 || (b[digits] == '0' && n > 1)) throw Bail.INSTANCE;
            if (p < b.length && (b[p] == '.' || b[p] == 'e' || b[p] == 'E')) throw Bail.INSTANCE;
            if (p - start > MAX_NUMBER_CHARS) throw Bail.INSTANCE;
            return negative ? -v : v;
        }

        /**
         * A JSON number as the general path reads it: integers as their long value converted to double,
         * anything else correctly rounded (exactly, for up to 15 significant digits and small exponents;
         * otherwise by {@link Double#parseDouble}).
         */
        private double number() throws Bail {
            int start = p;
            boolean negative = p < b.length && b[p] == '-';
            if (negative) p++;
            int intStart = p;
            long mantissa = 0;
            int significant = 0;
            while (p < b.length && b[p] >= '0' && b[p] <= '9') {
                if (significant < 19) {
                    mantissa = mantissa * 10 + (b[p] - '0');
                    if (mantissa != 0) significant++;
                } else {
                    significant++;
                }
                p++;
            }
            int intDigits = p - intStart;
            if (intDigits == 0 || (b[intStart] == '0' && intDigits > 1)) throw Bail.INSTANCE;
            int exponent = 0;
            boolean integral = true;
            if (p < b.length && b[p] == '.') {
                integral = false;
                p++;
                int fracStart = p;
                while (p < b.length && b[p] >= '0' && b[p] <= '9') {
                    if (significant < 19) {
                        mantissa = mantissa * 10 + (b[p] - '0');
                        if (mantissa != 0) significant++;
                        exponent--;
                    } else {
                        significant++;
                    }
                    p++;
                }
                if (p == fracStart) throw Bail.INSTANCE;
            }
            if (p < b.length && (b[p] == 'e' || b[p] == 'E')) {
                integral = false;
                p++;
                boolean expNegative = false;
                if (p < b.length && (b[p] == '+' || b[p] == '-')) expNegative = b[p++] == '-';
                int expStart = p;
                int e = 0;
                while (p < b.length && b[p] >= '0' && b[p] <= '9') {
                    // Bounded by value, not by digits: leading zeros count for nothing (1e0000005 is 1e5).
                    if (e < 100_000) e = e * 10 + (b[p] - '0');
                    p++;
                }
                if (p == expStart) throw Bail.INSTANCE;
                exponent += expNegative ? -e : e;
            }
            if (p - start > MAX_NUMBER_CHARS) throw Bail.INSTANCE;
            if (integral) {
                // the general path reads an integer token as a long (or BigInteger) and converts it
                if (significant > 18) return Double.parseDouble(new String(b, start, p - start, java.nio.charset.StandardCharsets.ISO_8859_1));
                return (double) (negative ? -mantissa : mantissa); // "-0" is 0.0 there, as here
            }
            if (significant <= 15 && exponent >= -22 && exponent <= 22) {
                // exact: both the mantissa and the power of ten are exact doubles, so one rounding
                double v = exponent < 0 ? mantissa / POWERS_OF_TEN[-exponent] : mantissa * POWERS_OF_TEN[exponent];
                return negative ? -v : v;
            }
            return Double.parseDouble(new String(b, start, p - start, java.nio.charset.StandardCharsets.ISO_8859_1));
        }

        /** A string of printable ASCII without escapes. */
        private String string() throws Bail {
            int start = stringStart();
            int end = stringEnd(start);
            return new String(b, start, end - start, java.nio.charset.StandardCharsets.ISO_8859_1);
        }

        /** After whitespace and the opening quote: the index of the string's first byte. */
        private int stringStart() throws Bail {
            if (next() != '"') throw Bail.INSTANCE;
            return p;
        }

        /** The index of the closing quote of a string that starts at {@code start}; moves past it. */
        private int stringEnd(int start) throws Bail {
            int i = start;
            while (i < b.length) {
                byte c = b[i];
                if (c == '"') {
                    p = i + 1;
                    return i;
                }
                if (c == '\\' || c < 0x20 || c > 0x7e) throw Bail.INSTANCE;
                i++;
            }
            throw Bail.INSTANCE;
        }

        private boolean is(int start, int end, String ascii) {
            int n = end - start;
            if (n != ascii.length()) return false;
            for (int i = 0; i < n; i++) {
                if (b[start + i] != ascii.charAt(i)) return false;
            }
            return true;
        }

        private void expect(char c) throws Bail {
            if (next() != c) throw Bail.INSTANCE;
        }

        /** The next byte after whitespace, consumed; -1 at the end. */
        private int next() {
            skipWhitespace();
            return p < b.length ? b[p++] : -1;
        }

        /** The next byte after whitespace, not consumed; -1 at the end. */
        private int peek() {
            skipWhitespace();
            return p < b.length ? b[p] : -1;
        }

        private void skipWhitespace() {
            while (p < b.length) {
                byte c = b[p];
                if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return;
                p++;
            }
        }
    }

    // ---------------------------------------------------------------- writing

    /** The response as the general path writes it, or null when it is not one of the simple cases. */
    static byte[] writeResponse(InferenceResponse response) {
        if (!response.parameters().isEmpty()) return null;
        if (!plain(response.modelName()) || (response.modelVersion() != null && !plain(response.modelVersion()))
                || (response.id() != null && !plain(response.id()))) {
            return null;
        }
        var outputs = response.outputs();
        for (int i = 0; i < outputs.size(); i++) {
            var t = outputs.get(i);
            if (!t.parameters().isEmpty() || !plain(t.name())) return null;
            switch (t.datatype()) {
                case FP32, FP64, INT64, INT32 -> { }
                default -> { return null; }
            }
        }
        var w = new Writer(estimate(response));
        w.ascii("{\"model_name\":\"").ascii(response.modelName()).ascii("\"");
        if (response.modelVersion() != null) w.ascii(",\"model_version\":\"").ascii(response.modelVersion()).ascii("\"");
        if (response.id() != null) w.ascii(",\"id\":\"").ascii(response.id()).ascii("\"");
        w.ascii(",\"outputs\":[");
        for (int i = 0; i < outputs.size(); i++) {
            var t = outputs.get(i);
            if (i > 0) w.ascii(",");
            w.ascii("{\"name\":\"").ascii(t.name()).ascii("\",\"datatype\":\"").ascii(t.datatype().name()).ascii("\",\"shape\":[");
            long[] shape = t.shape();
            for (int d = 0; d < shape.length; d++) {
                if (d > 0) w.ascii(",");
                w.number(shape[d]);
            }
            w.ascii("],\"data\":[");
            switch (t.datatype()) {
                case FP32 -> {
                    float[] v = t.floats();
                    for (int k = 0; k < v.length; k++) {
                        if (k > 0) w.ascii(",");
                        float f = v[k];
                        if (Float.isFinite(f)) w.ascii(Float.toString(f));
                        else w.ascii(Float.isNaN(f) ? "\"NaN\"" : f > 0 ? "\"Infinity\"" : "\"-Infinity\"");
                    }
                }
                case FP64 -> {
                    double[] v = t.doubles();
                    for (int k = 0; k < v.length; k++) {
                        if (k > 0) w.ascii(",");
                        double f = v[k];
                        if (Double.isFinite(f)) w.ascii(Double.toString(f));
                        else w.ascii(Double.isNaN(f) ? "\"NaN\"" : f > 0 ? "\"Infinity\"" : "\"-Infinity\"");
                    }
                }
                case INT64 -> {
                    long[] v = t.longs();
                    for (int k = 0; k < v.length; k++) {
                        if (k > 0) w.ascii(",");
                        w.number(v[k]);
                    }
                }
                case INT32 -> {
                    int[] v = t.ints();
                    for (int k = 0; k < v.length; k++) {
                        if (k > 0) w.ascii(",");
                        w.number(v[k]);
                    }
                }
                default -> throw new IllegalStateException();
            }
            w.ascii("]}");
        }
        w.ascii("]}");
        return w.toBytes();
    }

    private static int estimate(InferenceResponse response) {
        int size = 96;
        for (var t : response.outputs()) size += 64 + t.name().length() + t.size() * 14;
        return size;
    }

    /** Printable ASCII that JSON strings carry as is: no quote, backslash or control character. */
    private static boolean plain(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') return false;
        }
        return true;
    }

    private static final class Writer {
        private byte[] out;
        private int n;

        Writer(int capacity) {
            out = new byte[capacity];
        }

        Writer ascii(String s) {
            int len = s.length();
            ensure(len);
            for (int i = 0; i < len; i++) out[n + i] = (byte) s.charAt(i);
            n += len;
            return this;
        }

        void number(long v) {
            ensure(20);
            if (v < 0) {
                if (v == Long.MIN_VALUE) {
                    ascii(Long.toString(v));
                    return;
                }
                out[n++] = '-';
                v = -v;
            }
            int digits = 1;
            for (long x = v; x >= 10; x /= 10) digits++;
            int end = n + digits;
            for (int i = end - 1; i >= n; i--) {
                out[i] = (byte) ('0' + (v % 10));
                v /= 10;
            }
            n = end;
        }

        private void ensure(int more) {
            if (n + more > out.length) out = Arrays.copyOf(out, Math.max(out.length * 2, n + more));
        }

        byte[] toBytes() {
            return n == out.length ? out : Arrays.copyOf(out, n);
        }
    }
}
