package io.capstan.artifacts;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** SHA-256 hashing while bytes are copied. */
final class Sha256 {
    static final Pattern HEX = Pattern.compile("[0-9a-f]{64}");
    private static final int BUFFER_BYTES = 64 * 1024;

    private Sha256() {
    }

    /** What a hashing copy saw: the digest (lower-case hex) and the number of bytes. */
    record Digest(String sha256, long sizeBytes) {
    }

    static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime provides SHA-256", e);
        }
    }

    static String hex(MessageDigest digest) {
        return HexFormat.of().formatHex(digest.digest());
    }

    /** Copies {@code in} to its end into {@code out}, hashing on the way; closes neither. */
    static Digest copy(InputStream in, OutputStream out) throws IOException {
        var digest = newDigest();
        var buffer = new byte[BUFFER_BYTES];
        long size = 0;
        for (int n; (n = in.read(buffer)) >= 0; ) {
            digest.update(buffer, 0, n);
            out.write(buffer, 0, n);
            size += n;
        }
        return new Digest(hex(digest), size);
    }

    /** Hashes {@code in} to its end; does not close it. */
    static Digest of(InputStream in) throws IOException {
        return copy(in, OutputStream.nullOutputStream());
    }
}
