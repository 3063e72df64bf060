package io.capstan.store;

import io.capstan.core.ConflictException;
import io.capstan.core.NotFoundException;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceStatus;
import java.time.Duration;
import java.util.Optional;

/**
 * Durable home of every resource, with Kubernetes semantics: server-assigned uid, creation time, generation and
 * resourceVersion; optimistic concurrency; a status subresource; and a change feed.
 *
 * <p>Resource versions are one global, strictly increasing sequence: every write (create, update, status update,
 * delete) takes the next version, and writes commit in version order, so that a watcher that has seen version
 * {@code v} has seen every change up to {@code v}. Each method is one transaction. Thread-safe.
 */
public interface ResourceStore {

    /**
     * Stores a new resource; assigns uid, creationTimestamp, generation 1 and a resourceVersion. Any status on the
     * input is kept (so that imports keep history), otherwise it starts empty.
     *
     * @throws ConflictException if a resource with the same kind, namespace and name exists
     */
    Resource create(Resource resource);

    Optional<Resource> find(ResourceKey key);

    /**
     * The stored resourceVersion of {@code key}, or empty when there is no such resource: for a controller that keeps
     * the resource it last wrote, to learn whether that copy is still current without reading and parsing the body.
     */
    default Optional<String> resourceVersion(ResourceKey key) {
        return find(key).map(r -> r.metadata().resourceVersion());
    }

    /** @throws NotFoundException naming the key */
    Resource get(ResourceKey key);

    Page list(ListQuery query);

    /**
     * Replaces spec, labels and annotations. If {@code metadata.resourceVersion} is set it must equal the stored
     * one. The generation goes up by one when the spec changed. Status is left as stored.
     *
     * @throws ConflictException on a stale resourceVersion
     * @throws NotFoundException if the resource does not exist
     */
    Resource update(Resource resource);

    /** Creates the resource, or updates spec, labels and annotations unconditionally: {@code kubectl apply}. */
    Resource apply(Resource resource);

    /**
     * Writes the status subresource only. {@code expectedResourceVersion} empty means unconditional.
     *
     * @throws ConflictException on a stale version
     * @throws NotFoundException if the resource does not exist
     */
    Resource updateStatus(ResourceKey key, String expectedResourceVersion, ResourceStatus status);

    /**
     * As {@link #updateStatus(ResourceKey, String, ResourceStatus)} with {@code current}'s key and resourceVersion:
     * replaces the status of the resource the caller read, and fails with a conflict if it changed since. A store
     * may use {@code current} itself instead of reading the stored body again, since an unchanged version means an
     * unchanged body.
     */
    default Resource updateStatus(Resource current, ResourceStatus status) {
        return updateStatus(current.key(), current.metadata().resourceVersion(), status);
    }

    /** Deletes the resource and emits a DELETED event; returns the last stored state, or empty if there was none. */
    Optional<Resource> delete(ResourceKey key);

    /**
     * Changes with resourceVersion greater than {@code afterVersion}, oldest first, at most {@code limit}, filtered
     * by the query's kind, namespace and label selector. Waits up to {@code wait} for a first change when there is
     * none yet. The feed is complete: no change is missed and none is repeated.
     */
    java.util.List<WatchEvent> changes(WatchQuery query, long afterVersion, int limit, Duration wait);

    /**
     * Which resources changed, as {@link #changes} reports them, without the resources themselves: for a
     * controller that re-reads what it reconciles. A store may answer it more cheaply than {@code changes}.
     */
    default java.util.List<ChangedKey> changedKeys(WatchQuery query, long afterVersion, int limit, Duration wait) {
        return changes(query, afterVersion, limit, wait).stream()
                .map(e -> new ChangedKey(e.resourceVersion(), e.resource().key())).toList();
    }

    /** The uids of every resource of {@code kind} in every namespace, read page by page. */
    default java.util.Set<String> uids(String kind) {
        var uids = new java.util.HashSet<String>();
        java.util.Optional<String> token = java.util.Optional.empty();
        do {
            var page = list(new ListQuery(kind, java.util.Optional.empty(), LabelSelector.EVERYTHING, ListQuery.MAX_LIMIT, token));
            page.items().forEach(r -> uids.add(r.metadata().uid()));
            token = page.continueToken();
        } while (token.isPresent());
        return uids;
    }

    /** The highest resourceVersion written so far; a watch that starts here sees only future changes. */
    long currentVersion();
}
