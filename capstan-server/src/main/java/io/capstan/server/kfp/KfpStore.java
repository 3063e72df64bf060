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

/** The resource store as KFP objects use it: by id in one namespace, validated on write. Thread-safe. */
final class KfpStore {
    private static final int CONFLICT_RETRIES = 5;

    private final ResourceStore store;

    KfpStore(ResourceStore store) {
        this.store = store;
    }

    ResourceStore store() {
        return store;
    }

    static ResourceKey key(String kind, String id) {
        return new ResourceKey(kind, KfpKinds.NAMESPACE, id);
    }

    /** @throws NotFoundException naming what was looked for, when the id is malformed or unknown */
    Resource get(String kind, String id, String what) {
        return find(kind, id).orElseThrow(() -> new NotFoundException(what + " '" + Names.printable(id) + "' not found"));
    }

    Optional<Resource> find(String kind, String id) {
        if (Names.checkSubdomain(id).isPresent()) return Optional.empty();
        return store.find(key(kind, id));
    }

    /** Validates {@code spec} with the kind's validator, then stores a new resource named {@code id}. */
    Resource create(ResourceKind kind, String id, ObjectNode spec, Map<String, String> labels, Map<String, String> annotations) {
        check(kind, spec);
        var meta = ObjectMeta.named(KfpKinds.NAMESPACE, id).withLabels(labels).withAnnotations(annotations);
        return store.create(Resource.of(kind.apiVersion(), kind.kind(), meta, spec));
    }

    static void check(ResourceKind kind, ObjectNode spec) {
        var problems = new Problems();
        kind.validator().validate(spec, problems);
        problems.throwIfAny();
    }

    /** Every resource of {@code kind} matching {@code selector}. */
    List<Resource> all(String kind, LabelSelector selector) {
        var out = new ArrayList<Resource>();
        Optional<String> token = Optional.empty();
        do {
            var page = store.list(new ListQuery(kind, Optional.of(KfpKinds.NAMESPACE), selector, ListQuery.MAX_LIMIT, token));
            out.addAll(page.items());
            token = page.continueToken();
        } while (token.isPresent());
        return out;
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

    Optional<Resource> delete(ResourceKey key) {
        return store.delete(key);
    }

    static Instant created(Resource r) {
        return r.metadata().created().orElse(Instant.EPOCH);
    }

    static String text(ObjectNode spec, String field) {
        return spec.path(field).asText("");
    }
}
