package io.capstan.registry;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.artifacts.ArtifactStore;
import io.capstan.artifacts.ArtifactUri;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Registers a model from an uploaded file in one request: the file goes to the artifact store under a key naming its
 * SHA-256 ({@code registry/sha256/DIGEST/FILENAME}), the registered model is found or made, the version made, and its
 * model artifact recorded PENDING while the bytes are stored, LIVE once they are. An ONNX file's signature is read
 * before anything is stored, so a file ONNX Runtime cannot load leaves nothing behind.
 */
final class Uploads {
    /** Model and version names in an upload: usable as they are in {@code model-registry://MODEL/VERSION} URIs. */
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    static final String KEY_PREFIX = "registry/sha256/";
    private static final Set<String> FIELDS = Set.of("file", "name", "version", "modelFormatName", "modelFormatVersion", "description", "author");
    private static final int MAX_FIELD_BYTES = 4096;

    private final RegistryStore store;
    private final ArtifactStore artifacts;
    private final long maxBytes;

    Uploads(RegistryStore store, ArtifactStore artifacts, long maxBytes) {
        this.store = store;
        this.artifacts = artifacts;
        this.maxBytes = maxBytes;
    }

    long maxBytes() {
        return maxBytes;
    }

    /** Spools at most {@link #maxBytes} of {@code in} to {@code file}; more is a 413. */
    void spool(InputStream in, Path file) throws IOException {
        try (OutputStream out = Files.newOutputStream(file)) {
            var buffer = new byte[65536];
            long total = 0;
            int n;
            while ((n = in.read(buffer)) > 0) {
                total += n;
                if (total > maxBytes) throw new RegistryException(413, "the upload exceeds the limit of " + maxBytes + " bytes");
                out.write(buffer, 0, n);
            }
        }
    }

    /** Registers the spooled multipart {@code body} in {@code ns}; {@code work} is an empty directory for the file. */
    ObjectNode register(String ns, Path body, String contentType, Path work) throws IOException {
        var boundary = Multipart.boundary(contentType);
        try (var channel = FileChannel.open(body, StandardOpenOption.READ)) {
            ByteBuffer buffer = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size());
            var fields = new HashMap<String, String>();
            Multipart.Part file = null;
            for (var part : Multipart.parse(buffer, boundary)) {
                if (!FIELDS.contains(part.name())) {
                    throw RegistryException.badRequest("part '" + part.name() + "' is not one of " + String.join(", ", new java.util.TreeSet<>(FIELDS)));
                }
                if (fields.containsKey(part.name()) || (file != null && part.name().equals("file"))) {
                    throw RegistryException.badRequest(part.name() + ": given twice");
                }
                if (part.name().equals("file")) {
                    if (part.filename() == null) throw RegistryException.badRequest("file: the part has no filename; send it as a file (filename=\"model.onnx\")");
                    file = part;
                } else {
                    if (part.length() > MAX_FIELD_BYTES) throw RegistryException.badRequest(part.name() + ": longer than " + MAX_FIELD_BYTES + " bytes");
                    fields.put(part.name(), Multipart.text(buffer, part.offset(), part.length(), part.name()));
                }
            }
            var name = required(fields, "name", "the registered model's name");
            var version = required(fields, "version", "the version's name, such as v1");
            if (file == null) throw RegistryException.badRequest("file: required, the model file as a multipart part named 'file'");
            if (file.length() == 0) throw RegistryException.badRequest("file: '" + file.filename() + "' is empty");
            var filename = filename(file.filename());
            var format = fields.get("modelFormatName");
            if (format == null || format.isBlank()) {
                if (!filename.toLowerCase(java.util.Locale.ROOT).endsWith(".onnx")) {
                    throw RegistryException.badRequest("modelFormatName: required for '" + filename + "' (only .onnx files imply their format)");
                }
                format = "onnx";
            }
            // The file, hashed as it is copied out of the body.
            var copy = Files.createDirectories(work.resolve("model")).resolve(filename);
            MessageDigest sha;
            try {
                sha = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
            try (var out = new DigestOutputStream(Files.newOutputStream(copy), sha)) {
                var slice = buffer.slice(file.offset(), file.length());
                var chunk = new byte[65536];
                while (slice.hasRemaining()) {
                    int n = Math.min(chunk.length, slice.remaining());
                    slice.get(chunk, 0, n);
                    out.write(chunk, 0, n);
                }
            }
            var digest = HexFormat.of().formatHex(sha.digest());
            ObjectNode signature = format.equals("onnx") ? Signatures.read(copy, filename) : null;

            var model = store.find(ns, List.of(Kind.REGISTERED_MODEL), name, null, null, null).orElseGet(() -> {
                var b = JsonNodeFactory.instance.objectNode().put("name", name);
                b.putObject("customProperties");
                Kind.REGISTERED_MODEL.defaults.forEach(b::put);
                return store.create(ns, Kind.REGISTERED_MODEL, 0, b);
            });
            if (store.find(ns, List.of(Kind.MODEL_VERSION), version, null, model.id(), null).isPresent()) {
                throw RegistryException.conflict("registered model '" + name + "' already has a version '" + version + "'; versions are immutable, upload under a new version name");
            }
            var vb = JsonNodeFactory.instance.objectNode().put("name", version).put("registeredModelId", Long.toString(model.id()));
            if (fields.containsKey("description")) vb.put("description", fields.get("description"));
            if (fields.containsKey("author")) vb.put("author", fields.get("author"));
            Kind.MODEL_VERSION.defaults.forEach(vb::put);
            var props = vb.putObject("customProperties");
            if (signature != null) Signatures.put(props, signature);
            var modelVersion = store.create(ns, Kind.MODEL_VERSION, model.id(), vb);

            var key = KEY_PREFIX + digest + "/" + filename;
            var ab = JsonNodeFactory.instance.objectNode().put("name", filename).put("uri", ArtifactUri.ofCapstan(key).toString())
                    .put("modelFormatName", format).put("storageKey", key).put("state", "PENDING");
            if (fields.containsKey("modelFormatVersion")) ab.put("modelFormatVersion", fields.get("modelFormatVersion"));
            var ap = ab.putObject("customProperties");
            ap.putObject("sha256").put("metadataType", "MetadataStringValue").put("string_value", digest);
            ap.putObject("sizeBytes").put("metadataType", "MetadataIntValue").put("int_value", Long.toString(file.length()));
            var artifact = store.create(ns, Kind.MODEL_ARTIFACT, modelVersion.id(), ab);
            store.link(modelVersion.id(), artifact.id());
            try (var in = Files.newInputStream(copy)) {
                var info = artifacts.put(key, in);
                if (!info.sha256().equals(digest)) throw new IllegalStateException("the artifact store recorded " + info.sha256() + " for " + key + ", not " + digest);
            } catch (RuntimeException | IOException e) {
                var abandoned = artifact.body().deepCopy().put("state", "ABANDONED");
                store.update(artifact, abandoned);
                throw e;
            }
            var live = artifact.body().deepCopy().put("state", "LIVE");
            artifact = store.update(artifact, live);
            var out = JsonNodeFactory.instance.objectNode();
            out.set("registeredModel", model.json());
            out.set("modelVersion", modelVersion.json());
            out.set("modelArtifact", artifact.json());
            if (signature != null) out.set("signature", signature);
            return out;
        }
    }

    private static String required(Map<String, String> fields, String field, String what) {
        var v = fields.get(field);
        if (v == null || v.isEmpty()) throw RegistryException.badRequest(field + ": required, " + what);
        if (!NAME.matcher(v).matches()) {
            throw RegistryException.badRequest(field + ": '" + printable(v) + "' must start with a letter or digit and hold at most 128 letters, digits, '.', '_' or '-'");
        }
        return v;
    }

    /** The file name without any directory a browser sent with it, checked as a name in an artifact key. */
    private static String filename(String sent) {
        var base = sent.replaceAll("^.*[/\\\\]", "");
        if (!NAME.matcher(base).matches() || base.equals(".") || base.equals("..")) {
            throw RegistryException.badRequest("file: the filename '" + printable(sent) + "' must be at most 128 letters, digits, '.', '_' or '-', such as model.onnx");
        }
        return base;
    }

    private static String printable(String s) {
        var t = io.capstan.core.Names.printable(s);
        return t.length() > 80 ? t.substring(0, 80) + "…" : t;
    }
}
