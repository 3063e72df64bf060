package io.capstan.registry;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Resolves {@code model-registry://[HOST/]MODEL[/VERSION][?namespace=NS]} as upstream's storage initializer does (no
 * version: the model's latest, the highest id), plus Capstan's {@code MODEL@ALIAS}. The version's newest model
 * artifact gives the storage URI.
 */
final class ModelUris {
    static final String SCHEME = "model-registry://";
    static final Pattern ALIAS = Pattern.compile("[a-z][a-z0-9_-]{0,62}");

    private ModelUris() {
    }

    /** The namespace {@code uri} names with {@code ?namespace=}, else {@code defaultNamespace}; checked before any lookup. */
    static String namespace(String uri, String defaultNamespace) {
        if (uri == null || !uri.startsWith(SCHEME)) return defaultNamespace;
        int q = uri.indexOf('?');
        if (q < 0) return defaultNamespace;
        for (var param : uri.substring(q + 1).split("&")) {
            var kv = param.split("=", 2);
            if (kv[0].equals("namespace") && kv.length == 2) return URLDecoder.decode(kv[1], StandardCharsets.UTF_8);
        }
        return defaultNamespace;
    }

    static ResolvedModel resolve(RegistryStore store, String uri, String defaultNamespace) {
        if (uri == null || !uri.startsWith(SCHEME)) throw RegistryException.badRequest("uri: '" + uri + "' does not start with " + SCHEME);
        var rest = uri.substring(SCHEME.length());
        var namespace = defaultNamespace;
        int q = rest.indexOf('?');
        if (q >= 0) {
            for (var param : rest.substring(q + 1).split("&")) {
                var kv = param.split("=", 2);
                if (kv[0].equals("namespace") && kv.length == 2) namespace = URLDecoder.decode(kv[1], StandardCharsets.UTF_8);
                else throw RegistryException.badRequest("uri: unknown parameter '" + param + "' in " + uri + "; only namespace=NS is known");
            }
            rest = rest.substring(0, q);
        }
        var tokens = rest.split("/", -1);
        if (tokens.length == 3) tokens = new String[] {tokens[1], tokens[2]};
        if (tokens.length > 3 || tokens[0].isEmpty() || (tokens.length == 2 && tokens[1].isEmpty())) {
            throw RegistryException.badRequest("uri: '" + uri + "' is not model-registry://MODEL[/VERSION][?namespace=NS] or model-registry://MODEL@ALIAS");
        }
        String modelName = decode(tokens[0]);
        String alias = null;
        int at = modelName.lastIndexOf('@');
        if (at > 0) {
            alias = modelName.substring(at + 1);
            modelName = modelName.substring(0, at);
            if (tokens.length == 2) throw RegistryException.badRequest("uri: '" + uri + "' names both a version and an alias; give one");
        }
        var ns = namespace;
        var name = modelName;
        var model = store.find(ns, List.of(Kind.REGISTERED_MODEL), name, null, null, null)
                .orElseThrow(() -> RegistryException.notFound("no registered model '" + name + "' in namespace '" + ns + "'"));
        Entity version;
        if (alias != null) {
            var a = alias;
            var target = store.alias(model.id(), a).orElseThrow(() -> RegistryException.notFound("registered model '" + name + "' has no alias '" + a + "'"));
            version = store.get(ns, target.versionId(), List.of(Kind.MODEL_VERSION)).orElseThrow();
        } else if (tokens.length == 2) {
            var versionName = decode(tokens[1]);
            version = store.find(ns, List.of(Kind.MODEL_VERSION), versionName, null, model.id(), null)
                    .orElseThrow(() -> RegistryException.notFound("registered model '" + name + "' has no version '" + versionName + "'"));
        } else {
            var latest = store.list(ns, new RegistryStore.ListQuery(List.of(Kind.MODEL_VERSION), model.id(), null, null, java.util.Set.of(), "ID", "DESC", 1,
                    null, null, List.of())).items();
            if (latest.isEmpty()) throw RegistryException.notFound("registered model '" + name + "' has no version");
            version = latest.getFirst();
        }
        var artifacts = store.list(ns, new RegistryStore.ListQuery(List.of(Kind.MODEL_ARTIFACT), null, version.id(), null, java.util.Set.of(),
                "CREATE_TIME", "DESC", 1, null, null, List.of())).items();
        if (artifacts.isEmpty()) throw RegistryException.notFound("model version '" + version.name() + "' of '" + name + "' has no model artifact");
        var artifact = artifacts.getFirst();
        var storage = artifact.text("uri");
        if (storage == null || storage.isEmpty()) throw RegistryException.notFound("model artifact " + artifact.id() + " of version '" + version.name() + "' has no uri");
        return new ResolvedModel(ns, Long.toString(model.id()), model.name(), Long.toString(version.id()), version.name(), alias, storage,
                artifact.text("modelFormatName"), artifact.text("modelFormatVersion"));
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }
}
