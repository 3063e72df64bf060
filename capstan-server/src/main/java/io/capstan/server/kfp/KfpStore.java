package io.capstan.server.kfp;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.ConflictException;
import io.capstan.core.Names;
import io.capstan.core.NotFoundException;
import io.capstan.core.ObjectMeta;
import io.capstan.core.Problems;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceKind;
import io.capstan.store.LabelSelector;
import io.capstan.store.ListQuery;
import io.capstan.store.ResourceStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The resource store as KFP objects use it: by id in any namespace (through the id index, see {@link KfpKinds}),
 * validated on write. Thread-safe.
 */
final class KfpStore {
    private static final int CONFLICT_RETRIES = 5;

    private final ResourceStore store;

    KfpStore(ResourceStore store) {
        this.store = store;
    }

    ResourceStore store() {
        return store;
    }

    /** @throws NotFoundException naming what was looked for, when the id is malformed or unknown */
    Resource get(String kind, String id, String what) {
        return find(kind, id).orElseThrow(() -> notFound(id, what));
    }

    static NotFoundException notFound(String id, String what) {
        return new NotFoundException(what + " '" + Names.printable(id) + "' not found");
    }

    /**
     * The object of {@code kind} named {@code id}, in the namespace its index entry names; without an entry (an object
     * stored before the index, or created through the resource API) in namespace {@value KfpKinds#NAMESPACE}.
     */
    Optional<Resource> find(String kind, String id) {
        if (id == null || Names.checkSubdomain(id).isPresent()) return Optional.empty();
        var entry = store.find(indexKey(id));
        if (entry.isPresent()) {
            var spec = entry.get().spec();
            if (!text(spec, "kind").equals(kind)) return Optional.empty();
            return store.find(new ResourceKey(kind, text(spec, "namespace"), id));
        }
        return store.find(new ResourceKey(kind, KfpKinds.NAMESPACE, id));
    }

    private static ResourceKey indexKey(String id) {
        return new ResourceKey(KfpKinds.INDEX, KfpKinds.INDEX_NAMESPACE, id);
    }

    /**
     * Validates {@code spec} with the kind's validator, then stores a new resource named {@code id} in
     * {@code namespace}, its index entry first: a crash between the two leaves an entry naming nothing, which reads
     * as not found.
     */
    Resource create(ResourceKind kind, String namespace, String id, ObjectNode spec, Map<String, String> labels,
                    Map<String, String> annotations) {
        check(kind, spec);
        Names.checkLabel(namespace).ifPresent(msg -> {
            throw io.capstan.core.InvalidSpecException.of("namespace", "'" + Names.printable(namespace) + "' is not a namespace: " + msg);
        });
        boolean indexed = index(kind.kind(), namespace, id);
        try {
            var meta = ObjectMeta.named(namespace, id).withLabels(labels).withAnnotations(annotations);
            return store.create(Resource.of(kind.apiVersion(), kind.kind(), meta, spec));
        } catch (RuntimeException e) {
            if (indexed) store.delete(indexKey(id));
            throw e;
        }
    }

    /** Writes the index entry of {@code id}; false when the same entry is there already (a retried create). */
    private boolean index(String kind, String namespace, String id) {
        var spec = io.capstan.core.Json.json().createObjectNode();
        spec.put("kind", kind);
        spec.put("namespace", namespace);
        try {
            store.create(Resource.of(KfpKinds.INDEX_KIND.apiVersion(), KfpKinds.INDEX, ObjectMeta.named(KfpKinds.INDEX_NAMESPACE, id), spec));
            return true;
        } catch (ConflictException e) {
            var existing = store.find(indexKey(id));
            if (existing.isPresent() && existing.get().spec().equals(spec)) return false;
            throw e;
        }
    }

    static void check(ResourceKind kind, ObjectNode spec) {
        var problems = new Problems();
        kind.validator().validate(spec, problems);
        problems.throwIfAny();
    }

    /** Every resource of {@code kind} in {@code namespace} (every namespace when empty) matching {@code selector}. */
    List<Resource> all(String kind, Optional<String> namespace, LabelSelector selector) {
        var out = new ArrayList<Resource>();
        Optional<String> token = Optional.empty();
        do {
            var page = store.list(new ListQuery(kind, namespace, selector, ListQuery.MAX_LIMIT, token));
            out.addAll(page.items());
            token = page.continueToken();
        } while (token.isPresent());
        return out;
    }

    /** Every resource of {@code kind} matching {@code selector} in the namespaces of {@code scope}. */
    List<Resource> all(String kind, ListRequest.Scope scope, LabelSelector selector) {
        return all(kind, scope.namespace(), selector).stream().filter(r -> scope.visible().test(r.metadata().namespace())).toList();
    }

    /** Every resource of {@code kind} in {@code namespace} matching {@code selector}. */
    List<Resource> all(String kind, String namespace, LabelSelector selector) {
        return all(kind, Optional.of(namespace), selector);
    }

    /** Read-modify-write of spec, labels and annotations, retried while another writer gets in between. */
    Resource mutate(ResourceKey key, UnaryOperator<Resource> change) {
        for (int i = 0; ; i++) {
            var current = store.get(key);
            var next = change.apply(current);
            if (next.equals(current)) return current;
            try {
                return store.update(next.withMetadata(next.metadata().withResourceVersion(current.metadata().resourceVersion())));
            } catch (ConflictException e) {
                if (i >= CONFLICT_RETRIES) throw e;
            }
        }
    }

    /** Deletes the resource, then its index entry when that names it. */
    Optional<Resource> delete(ResourceKey key) {
        var gone = store.delete(key);
        store.find(indexKey(key.name())).filter(e -> text(e.spec(), "kind").equals(key.kind())
                && text(e.spec(), "namespace").equals(key.namespace())).ifPresent(e -> store.delete(e.key()));
        return gone;
    }

    static Instant created(Resource r) {
        return r.metadata().created().orElse(Instant.EPOCH);
    }

    static String text(ObjectNode spec, String field) {
        return spec.path(field).asText("");
    }
}
