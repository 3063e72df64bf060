package io.capstan.security;

import io.capstan.core.security.Caller;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.Optional;

/**
 * The server admin's token, kept in {@code $CAPSTAN_HOME/token} (mode 0600) as Jupyter keeps its token: written on
 * first start, read by the CLI of the same user on the same machine, so that local use needs no login step.
 */
public final class AdminToken implements Authenticator {
    public static final String FILE_NAME = "token";

    private final byte[] token;

    private AdminToken(String token) {
        this.token = token.getBytes(StandardCharsets.UTF_8);
    }

    /** Reads {@code home/token}, or writes a new random one there first; a token in the file is kept as it is. */
    public static AdminToken loadOrCreate(Path home) {
        var file = home.resolve(FILE_NAME);
        try {
            Files.createDirectories(home);
            if (!Files.exists(file)) {
                try {
                    Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                    Files.writeString(file, Tokens.newSecret() + "\n");
                } catch (FileAlreadyExistsException raced) {
                    // Another server on the same home wrote it first: use theirs.
                }
            }
            var text = Files.readString(file).strip();
            if (text.length() < 32) {
                throw new IllegalStateException(file + " holds no usable token (under 32 characters); delete it and Capstan writes a new one");
            }
            return new AdminToken(text);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or write the admin token " + file + ": " + e.getMessage(), e);
        }
    }

    /** The token as it is in the file, for the local CLI. */
    public static Optional<String> read(Path home) {
        try {
            var file = home.resolve(FILE_NAME);
            return Files.isReadable(file) ? Optional.of(Files.readString(file).strip()).filter(s -> !s.isEmpty()) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    @Override
    public Optional<Caller> authenticate(String bearerToken) {
        return MessageDigest.isEqual(token, bearerToken.getBytes(StandardCharsets.UTF_8)) ? Optional.of(Caller.serverAdmin()) : Optional.empty();
    }
}
