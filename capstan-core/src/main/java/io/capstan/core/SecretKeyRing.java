package io.capstan.core;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The AES-256 keys that encrypt Secret values at rest, with AES-GCM: a fresh random 96-bit nonce per value and
 * caller-given associated data, so that a ciphertext only opens where it was sealed. A sealed value reads
 * {@code capstan:v1:<key id>:<base64 of nonce and ciphertext>}; the key id lets a rotated ring open what older keys
 * sealed.
 *
 * <p>Keys live in {@code <home>/keys} (folder 0700): {@code <id>.key} holds a key in base64 (file 0600) and
 * {@code current} names the key that seals; the first start creates both. {@code CAPSTAN_SECRET_KEY} (base64 of 32
 * bytes) overrides the folder's current key; keys in the folder stay readable. Immutable and thread-safe;
 * {@link #rotate} writes a new key and returns a new ring.
 */
public final class SecretKeyRing {
    public static final String ENV = "CAPSTAN_SECRET_KEY";
    static final String PREFIX = "capstan:v1:";
    private static final int KEY_BYTES = 32;
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final Pattern KEY_ID = Pattern.compile("[0-9a-f]{8,64}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Optional<Path> dir;
    private final String current;
    private final Map<String, SecretKeySpec> keys;
    private final boolean fromEnvironment;

    private SecretKeyRing(Optional<Path> dir, String current, Map<String, SecretKeySpec> keys, boolean fromEnvironment) {
        this.dir = dir;
        this.current = current;
        this.keys = Map.copyOf(keys);
        this.fromEnvironment = fromEnvironment;
    }

    /** A ring of one key that lives only in memory; for tests and tools that never persist it. */
    public static SecretKeyRing ofKey(byte[] key) {
        var spec = aes(key);
        var id = idOf(key);
        return new SecretKeyRing(Optional.empty(), id, Map.of(id, spec), false);
    }

    /**
     * The ring of {@code keysDir}, creating the folder (0700) and a first key (0600) if there is none, with
     * {@code env}'s {@value #ENV} as the current key when set.
     *
     * @throws InvalidSpecException if {@value #ENV} is not base64 of 32 bytes (its value is never repeated)
     * @throws UncheckedIOException if the folder cannot be created or read
     */
    public static SecretKeyRing load(Path keysDir, Map<String, String> env) {
        Objects.requireNonNull(keysDir, "keysDir");
        var given = Optional.ofNullable(env.get(ENV)).filter(s -> !s.isBlank()).map(SecretKeyRing::decodeEnvKey);
        try {
            createPrivateDir(keysDir);
            var keys = new LinkedHashMap<String, SecretKeySpec>();
            try (var files = Files.list(keysDir)) {
                for (var f : files.toList()) {
                    var name = f.getFileName().toString();
                    if (!name.endsWith(".key")) continue;
                    var id = name.substring(0, name.length() - 4);
                    if (!KEY_ID.matcher(id).matches()) continue;
                    keys.put(id, aes(decodeFile(f)));
                }
            }
            if (given.isPresent()) {
                var id = idOf(given.get());
                keys.put(id, aes(given.get()));
                return new SecretKeyRing(Optional.of(keysDir), id, keys, true);
            }
            var currentFile = keysDir.resolve("current");
            Optional<String> current = Optional.empty();
            try {
                current = Optional.of(Files.readString(currentFile).trim()).filter(keys::containsKey);
            } catch (NoSuchFileException e) {
                // First start, or a crash before "current" was written: a key file alone is not yet in use.
            }
            if (current.isEmpty()) {
                var key = randomKey();
                var id = idOf(key);
                writeKey(keysDir, id, key);
                writeCurrent(keysDir, id);
                keys.put(id, aes(key));
                return new SecretKeyRing(Optional.of(keysDir), id, keys, false);
            }
            return new SecretKeyRing(Optional.of(keysDir), current.get(), keys, false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or create the secret keys in " + keysDir + "; check its permissions", e);
        }
    }

    /** The id of the key that seals. */
    public String currentKeyId() {
        return current;
    }

    /** The ids of every key that can open. */
    public Set<String> keyIds() {
        return keys.keySet();
    }

    /**
     * Writes a new key, then makes it current (an atomic rename), and returns the ring with both; the old keys stay
     * on disk until {@link #retire}, so values sealed with them stay readable whatever happens in between.
     *
     * @throws InvalidSpecException when the current key comes from {@value #ENV}, which this cannot change
     */
    public SecretKeyRing rotate() {
        if (fromEnvironment || dir.isEmpty()) {
            throw InvalidSpecException.of(ENV, "the secret key comes from " + ENV + ", which Capstan cannot rotate: unset it to use "
                    + "the keys folder, or keep the old key as a <id>.key file in the keys folder and set a new " + ENV);
        }
        var key = randomKey();
        var id = idOf(key);
        try {
            writeKey(dir.get(), id, key);
            writeCurrent(dir.get(), id);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write a new secret key in " + dir.get(), e);
        }
        var all = new LinkedHashMap<>(keys);
        all.put(id, aes(key));
        return new SecretKeyRing(dir, id, all, false);
    }

    /** Deletes the key files that are neither current nor in {@code inUse}; returns their ids. */
    public Set<String> retire(Set<String> inUse) {
        if (dir.isEmpty()) return Set.of();
        var removed = new java.util.TreeSet<String>();
        for (var id : keys.keySet()) {
            if (id.equals(current) || inUse.contains(id)) continue;
            try {
                Files.deleteIfExists(dir.get().resolve(id + ".key"));
                removed.add(id);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot delete the retired secret key " + id + " in " + dir.get(), e);
            }
        }
        return removed;
    }

    /** Whether {@code text} is a value this class sealed (with any key). */
    public static boolean isSealed(String text) {
        return text.startsWith(PREFIX);
    }

    /** The key id of a sealed value. */
    public static Optional<String> keyIdOf(String sealed) {
        if (!isSealed(sealed)) return Optional.empty();
        int colon = sealed.indexOf(':', PREFIX.length());
        return colon < 0 ? Optional.empty() : Optional.of(sealed.substring(PREFIX.length(), colon));
    }

    /** Encrypts {@code plaintext} with the current key, bound to {@code associatedData}. */
    public String seal(byte[] plaintext, String associatedData) {
        var nonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        try {
            var cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, keys.get(current), new GCMParameterSpec(TAG_BITS, nonce));
            cipher.updateAAD(associatedData.getBytes(StandardCharsets.UTF_8));
            var sealed = cipher.doFinal(plaintext);
            var out = ByteBuffer.allocate(NONCE_BYTES + sealed.length).put(nonce).put(sealed).array();
            return PREFIX + current + ":" + Base64.getEncoder().encodeToString(out);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available in this JVM: " + e.getMessage(), e);
        }
    }

    /**
     * Decrypts a value sealed with {@code associatedData}.
     *
     * @throws PermanentFailureException if its key is not in the ring, or it was altered or sealed for other data;
     *                                   the message names {@code what} and the key id, never the value
     */
    public byte[] open(String sealed, String associatedData, String what) {
        var id = keyIdOf(sealed).orElseThrow(() -> new PermanentFailureException(what + " is not an encrypted value"));
        var key = keys.get(id);
        if (key == null) {
            throw new PermanentFailureException(what + " was encrypted with key " + id + ", which is not in the keys folder"
                    + dir.map(d -> " " + d).orElse("") + " (keys there: " + new java.util.TreeSet<>(keys.keySet())
                    + "); restore that key file or set " + ENV + " to it");
        }
        byte[] raw;
        try {
            raw = Base64.getDecoder().decode(sealed.substring(PREFIX.length() + id.length() + 1));
        } catch (IllegalArgumentException e) {
            throw new PermanentFailureException(what + " is a damaged encrypted value (not base64)", e);
        }
        if (raw.length < NONCE_BYTES + TAG_BITS / 8) throw new PermanentFailureException(what + " is a damaged encrypted value (too short)");
        try {
            var cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, raw, 0, NONCE_BYTES));
            cipher.updateAAD(associatedData.getBytes(StandardCharsets.UTF_8));
            return cipher.doFinal(raw, NONCE_BYTES, raw.length - NONCE_BYTES);
        } catch (AEADBadTagException e) {
            throw new PermanentFailureException(what + " does not decrypt with key " + id
                    + ": it was altered, or copied from another secret", e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available in this JVM: " + e.getMessage(), e);
        }
    }

    private static byte[] decodeEnvKey(String value) {
        byte[] key;
        try {
            key = Base64.getDecoder().decode(value.trim());
        } catch (IllegalArgumentException e) {
            throw InvalidSpecException.of(ENV, ENV + " is not valid base64; set it to 32 random bytes in base64, e.g. `head -c 32 /dev/urandom | base64`");
        }
        if (key.length != KEY_BYTES) {
            throw InvalidSpecException.of(ENV, ENV + " decodes to " + key.length + " bytes; it must be exactly 32 bytes in base64, e.g. `head -c 32 /dev/urandom | base64`");
        }
        return key;
    }

    private static byte[] decodeFile(Path file) throws IOException {
        try {
            var key = Base64.getDecoder().decode(Files.readString(file).trim());
            if (key.length != KEY_BYTES) throw new IOException("secret key file " + file + " holds " + key.length + " bytes, not 32");
            return key;
        } catch (IllegalArgumentException e) {
            throw new IOException("secret key file " + file + " is not base64", e);
        }
    }

    private static SecretKeySpec aes(byte[] key) {
        if (key.length != KEY_BYTES) throw new IllegalArgumentException("an AES-256 key has 32 bytes, got " + key.length);
        return new SecretKeySpec(key, "AES");
    }

    private static byte[] randomKey() {
        var key = new byte[KEY_BYTES];
        RANDOM.nextBytes(key);
        return key;
    }

    /** A key's id is a digest prefix, so the same key (from the environment, say) always has the same id. */
    private static String idOf(byte[] key) {
        try {
            var digest = MessageDigest.getInstance("SHA-256").digest(key);
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available in this JVM", e);
        }
    }

    private static void createPrivateDir(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir);
        }
        try {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        } catch (UnsupportedOperationException e) {
            // Not a POSIX file system: the folder keeps its default permissions.
        }
    }

    private static void writeKey(Path dir, String id, byte[] key) throws IOException {
        writePrivate(dir.resolve(id + ".key"), Base64.getEncoder().encodeToString(key) + "\n");
    }

    private static void writeCurrent(Path dir, String id) throws IOException {
        writePrivate(dir.resolve("current"), id + "\n");
    }

    /** Written to a 0600 temp file and renamed into place, so a crash leaves the old file or the whole new one. */
    private static void writePrivate(Path target, String text) throws IOException {
        var tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        try {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(tmp);
        }
        Files.writeString(tmp, text);
        try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
