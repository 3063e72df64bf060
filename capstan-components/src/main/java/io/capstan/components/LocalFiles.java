package io.capstan.components;

import io.capstan.core.PermanentFailureException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** File operations that fail with a sentence naming what was being written or read. */
final class LocalFiles {
    private LocalFiles() {
    }

    static void writeString(Path file, String text, String what) {
        try {
            createParent(file);
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new PermanentFailureException("could not write %s to %s (%s); check that the directory is writable"
                    .formatted(what, file, e), e);
        }
    }

    static void createParent(Path file) throws IOException {
        var parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
    }

    /** Makes {@code dir} an empty-or-new directory for a directory-shaped output artifact. */
    static Path directory(Path dir, String what) {
        try {
            if (Files.isRegularFile(dir) && Files.size(dir) == 0) Files.delete(dir);
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new PermanentFailureException("could not create the directory for %s at %s (%s); check that it is writable"
                    .formatted(what, dir, e), e);
        }
    }

    static String sha256(Path file) {
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
        } catch (IOException e) {
            throw new PermanentFailureException("could not read %s (%s)".formatted(file, e), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
