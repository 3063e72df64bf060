package io.capstan.artifacts;

import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Objects;
import java.util.Optional;

/**
 * The rules every artifact key obeys, in every store: a relative, '/'-separated path of non-empty names, none of
 * them {@code .} or {@code ..}, with no backslash and no control character, at most {@value #MAX_KEY_BYTES} bytes
 * of UTF-8 and at most {@value #MAX_SEGMENT_BYTES} bytes per name.
 *
 * <p>Keys travel through URLs, shells and file systems that decode them again, so the rules also hold for every
 * percent-decoded form of the key ({@code %2e%2e}, {@code %252e%252e}, {@code %u002e}), decoded repeatedly until it
 * stops changing, and for the NFKC form of each ({@code ．．} becomes {@code ..}). Invalid UTF-8 in an encoded form,
 * which includes overlong encodings such as {@code %c0%ae}, is refused. Keys are stored exactly as given, never
 * decoded. Stateless and thread-safe.
 */
public final class ArtifactKeys {
    /** The longest key accepted, in bytes of UTF-8; the same limit as S3 object keys. */
    public static final int MAX_KEY_BYTES = 1024;
    /** The longest single name between slashes, in bytes of UTF-8; leaves room for a suffix in a 255-byte file name. */
    public static final int MAX_SEGMENT_BYTES = 250;
    /** Orders keys by Unicode code point, which is the UTF-8 byte order S3 lists in. */
    public static final Comparator<String> ORDER = ArtifactKeys::compareCodePoints;

    private static final int MAX_DECODE_ROUNDS = 4;
    private static final String EXAMPLE = "use a relative key of '/'-separated names such as 'runs/abc/model.onnx'";

    private ArtifactKeys() {
    }

    /**
     * Returns {@code key} unchanged if it is a valid artifact key.
     *
     * @throws InvalidSpecException naming the key, what is wrong with it and how to fix it
     * @throws NullPointerException if {@code key} is null
     */
    public static String requireValid(String key) {
        Objects.requireNonNull(key, "key");
        check(key).ifPresent(problem -> {
            throw InvalidSpecException.of("key", "artifact key '%s' %s; %s".formatted(Names.printable(key), problem, EXAMPLE));
        });
        return key;
    }

    /**
     * Returns {@code prefix} unchanged if it is empty (everything), or a valid key with an optional trailing '/';
     * the last name may be partial ({@code runs/ab} matches {@code runs/abc/model.onnx}).
     *
     * @throws InvalidSpecException naming the prefix and what is wrong with it
     */
    public static String requireValidPrefix(String prefix) {
        Objects.requireNonNull(prefix, "prefix");
        if (prefix.isEmpty()) return prefix;
        var body = prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix;
        var problem = body.isEmpty() ? Optional.of("is absolute (starts with '/')") : check(body);
        problem.ifPresent(p -> {
            throw InvalidSpecException.of("prefix", "artifact key prefix '%s' %s; %s, or '' for everything"
                    .formatted(Names.printable(prefix), p, EXAMPLE));
        });
        return prefix;
    }

    /** What is wrong with {@code key} (a phrase such as "contains the path segment '..'"), or empty if it is valid. */
    static Optional<String> check(String key) {
        if (key.isEmpty()) return Optional.of("is empty");
        var unpaired = unpairedSurrogate(key);
        if (unpaired.isPresent()) return Optional.of(unpaired.get() + "; send the key as valid Unicode");
        int bytes = key.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_KEY_BYTES) {
            return Optional.of("is %d bytes of UTF-8, more than the limit of %d; use a shorter key".formatted(bytes, MAX_KEY_BYTES));
        }
        for (var segment : key.split("/", -1)) {
            int segmentBytes = segment.getBytes(StandardCharsets.UTF_8).length;
            if (segmentBytes > MAX_SEGMENT_BYTES) {
                return Optional.of("has a name of %d bytes of UTF-8 between slashes, more than the limit of %d; use shorter names"
                        .formatted(segmentBytes, MAX_SEGMENT_BYTES));
            }
        }
        var forms = new ArrayList<String>();
        forms.add(key);
        var current = key;
        for (int round = 1; ; round++) {
            String decoded;
            try {
                decoded = percentDecode(current);
            } catch (CharacterCodingException e) {
                return Optional.of("contains a percent-encoded sequence that is not valid UTF-8 (such as an overlong encoding like %c0%ae); "
                        + "use plain UTF-8 names without percent-encoding");
            }
            if (decoded.equals(current)) break;
            if (round > MAX_DECODE_ROUNDS) {
                return Optional.of("is still percent-encoded after %d rounds of decoding; use plain names without percent-encoding"
                        .formatted(MAX_DECODE_ROUNDS));
            }
            forms.add(decoded);
            current = decoded;
        }
        for (int i = 0; i < forms.size(); i++) {
            var form = forms.get(i);
            var how = i == 0 ? "" : " after percent-decoding to '" + Names.printable(form) + "'";
            var problem = checkForm(form).or(() -> checkForm(Normalizer.normalize(form, Normalizer.Form.NFKC))
                    .map(p -> p + " once Unicode-normalized (NFKC)"));
            if (problem.isPresent()) return Optional.of(problem.get() + how);
        }
        return Optional.empty();
    }

    private static Optional<String> unpairedSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return Optional.of("contains an unpaired UTF-16 surrogate at index " + i);
            }
        }
        return Optional.empty();
    }

    private static Optional<String> checkForm(String form) {
        if (form.isEmpty()) return Optional.of("is empty");
        var unpaired = unpairedSurrogate(form);
        if (unpaired.isPresent()) return unpaired;
        if (form.startsWith("/")) return Optional.of("is absolute (starts with '/')");
        if (form.length() >= 2 && form.charAt(1) == ':' && isAsciiLetter(form.charAt(0))) {
            return Optional.of("is an absolute Windows path (starts with a drive letter)");
        }
        for (int i = 0; i < form.length(); ) {
            int cp = form.codePointAt(i);
            if (cp == '\\') return Optional.of("contains a backslash");
            if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) {
                return Optional.of("contains the control character U+%04X".formatted(cp));
            }
            if (Character.getType(cp) == Character.FORMAT || cp == 0x2028 || cp == 0x2029) {
                return Optional.of("contains the invisible formatting character U+%04X".formatted(cp));
            }
            i += Character.charCount(cp);
        }
        for (var segment : form.split("/", -1)) {
            if (segment.isEmpty()) return Optional.of("contains an empty name ('//' or a trailing '/')");
            if (segment.equals(".") || segment.equals("..")) return Optional.of("contains the path segment '" + segment + "'");
        }
        return Optional.empty();
    }

    private static boolean isAsciiLetter(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }

    /**
     * One round of percent-decoding: {@code %XX} becomes a byte and {@code %uXXXX} a UTF-16 unit (the non-standard
     * IIS form); a '%' that starts neither stays as it is. The bytes must form strict UTF-8.
     */
    static String percentDecode(String s) throws CharacterCodingException {
        if (s.indexOf('%') < 0) return s;
        var out = new StringBuilder(s.length());
        var pending = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); ) {
            char c = s.charAt(i);
            if (c == '%' && isHex(s, i + 1, 2)) {
                pending.write(Integer.parseInt(s, i + 1, i + 3, 16));
                i += 3;
                continue;
            }
            flush(pending, out);
            if (c == '%' && i + 1 < s.length() && (s.charAt(i + 1) == 'u' || s.charAt(i + 1) == 'U') && isHex(s, i + 2, 4)) {
                out.append((char) Integer.parseInt(s, i + 2, i + 6, 16));
                i += 6;
            } else {
                out.append(c);
                i++;
            }
        }
        flush(pending, out);
        return out.toString();
    }

    private static void flush(ByteArrayOutputStream pending, StringBuilder out) throws CharacterCodingException {
        if (pending.size() == 0) return;
        out.append(StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(pending.toByteArray())));
        pending.reset();
    }

    private static boolean isHex(String s, int from, int count) {
        if (from + count > s.length()) return false;
        for (int i = from; i < from + count; i++) {
            if (Character.digit(s.charAt(i), 16) < 0) return false;
        }
        return true;
    }

    private static int compareCodePoints(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) return Integer.compare(ca, cb);
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }
}
