package io.capstan.artifacts;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;

/**
 * Hashes what passes through and, on reaching the end, throws {@link CorruptArtifactException} if the bytes do not
 * match the recorded digest. The stores verify the whole artifact before they hand out this stream, so this check
 * only fires if the bytes change while they are being read. Not thread-safe, like any stream.
 */
final class VerifyingInputStream extends FilterInputStream {
    private final String key;
    private final String location;
    private final String expectedSha256;
    private final MessageDigest digest = Sha256.newDigest();
    private boolean verified;

    VerifyingInputStream(InputStream in, String key, String location, String expectedSha256) {
        super(in);
        this.key = key;
        this.location = location;
        this.expectedSha256 = expectedSha256;
    }

    @Override
    public int read() throws IOException {
        int b = in.read();
        if (b < 0) {
            verifyAtEnd();
        } else {
            digest.update((byte) b);
        }
        return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        int n = in.read(buffer, offset, length);
        if (n < 0) {
            verifyAtEnd();
        } else {
            digest.update(buffer, offset, n);
        }
        return n;
    }

    /** Skipped bytes are read, so that they are hashed too. */
    @Override
    public long skip(long n) throws IOException {
        var buffer = new byte[(int) Math.min(Math.max(n, 0), 8192)];
        long skipped = 0;
        while (skipped < n) {
            int r = read(buffer, 0, (int) Math.min(buffer.length, n - skipped));
            if (r < 0) break;
            skipped += r;
        }
        return skipped;
    }

    @Override
    public boolean markSupported() {
        return false;
    }

    @Override
    public void mark(int readLimit) {
        // mark/reset would hash the replayed bytes twice.
    }

    @Override
    public void reset() throws IOException {
        throw new IOException("mark/reset is not supported on a verified artifact stream");
    }

    private void verifyAtEnd() {
        if (verified) return;
        verified = true;
        var actual = Sha256.hex(digest);
        if (!actual.equals(expectedSha256)) {
            throw new CorruptArtifactException(key, location, expectedSha256, actual);
        }
    }
}
