package io.capstan.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.ConflictException;
import io.capstan.core.CoreKinds;
import io.capstan.core.Ids;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import io.capstan.core.NotFoundException;
import io.capstan.core.ObjectMeta;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceStatus;
import io.capstan.core.SecretSealer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.transaction.TransactionIsolationLevel;

/**
 * {@link ResourceStore} on H2 (PostgreSQL mode) or PostgreSQL through JDBI, with the schema of
 * {@code db/migration/store} (run {@code database.migrate("store")} first).
 *
 * <p>Every write transaction first increments the single-row counter {@code store_version}; the row lock this takes
 * serialises writers across all servers on the database, so versions commit in order and the change feed
 * ({@code resource_events}, written in the same transaction) has no holes that fill in later. Writers in this JVM
 * also queue on a local lock so that they never wait on a database lock (H2's lock timeout is short).
 *
 * <p>A write that would store exactly what is stored (same spec, metadata and status) changes nothing and takes no
 * version, so a level-triggered controller writing the same status twice does not wake itself up again.
 *
 * <p>Watchers wait on a local signal raised after each commit, and poll every {@value #POLL_MILLIS} ms so that
 * writes by other servers on the same database are seen too. Event rows beyond {@link Retention} are compacted;
 * a watcher positioned before the compacted range gets a {@link ConflictException} and must re-list.
 * Thread-safe.
 */
public final class JdbiResourceStore implements ResourceStore {
    static final long POLL_MILLIS = 250;
    private static final int COMPACT_EVERY = 1024;
    private static final TypeReference<Map<String, String>> LABELS = new TypeReference<>() {};

    /** How much of the change feed to keep: events older than {@code maxAge}, or beyond the newest {@code maxEvents}, go. */
    record Retention(Duration maxAge, long maxEvents) {
        static final Retention DEFAULT = new Retention(Duration.ofHours(24), 100_000);

        Retention {
            Objects.requireNonNull(maxAge, "maxAge");
            if (maxEvents < 1) throw new IllegalArgumentException("retention maxEvents must be >= 1, got " + maxEvents);
        }
    }

    private enum Op { CREATE, GET, LIST, UPDATE, APPLY, UPDATE_STATUS, DELETE, CHANGES, COMPACT }

    private final Jdbi jdbi;
    private final Clock clock;
    private final Retention retention;
    private final Map<Op, Timer> timers = new EnumMap<>(Op.class);
    /** Serialises this JVM's writers; held across the whole write transaction. */
    private final ReentrantLock writeLock = new ReentrantLock();
    /** Guards {@link #localVersion}; {@link #committed} is signalled after each local commit. */
    private final ReentrantLock feedLock = new ReentrantLock();
    private final Condition committed = feedLock.newCondition();
    private long localVersion;
    private final Codec codec;

    /** How a resource's body is stored: as given, or with its Secret values sealed. */
    private interface Codec {
        Codec PLAIN = new Codec() {
            @Override
            public Resource seal(Resource r) {
                return r;
            }

            @Override
            public Resource open(Resource r) {
                return r;
            }
        };

        Resource seal(Resource resource);

        Resource open(Resource resource);

        static Codec of(SecretSealer sealer) {
            return new Codec() {
                @Override
                public Resource seal(Resource r) {
                    return sealer.seal(r);
                }

                @Override
                public Resource open(Resource r) {
                    return sealer.open(r);
                }
            };
        }
    }

    public JdbiResourceStore(Database db, Clock clock) {
        this(db, clock, new CompositeMeterRegistry());
    }

    /**
     * As {@link #JdbiResourceStore(Database, Clock, MeterRegistry)}, with Secret values encrypted by {@code sealer}
     * before they reach the database (rows and change feed alike) and decrypted when read.
     */
    public JdbiResourceStore(Database db, Clock clock, MeterRegistry meters, SecretSealer sealer) {
        this(db, clock, meters, Retention.DEFAULT, Codec.of(Objects.requireNonNull(sealer, "sealer")));
    }

    /** As {@link #JdbiResourceStore(Database, Clock)}, timing every operation as {@code capstan.store.operation}{op}. */
    public JdbiResourceStore(Database db, Clock clock, MeterRegistry meters) {
        this(db, clock, meters, Retention.DEFAULT);
    }

    JdbiResourceStore(Database db, Clock clock, MeterRegistry meters, Retention retention) {
        this(db, clock, meters, retention, Codec.PLAIN);
    }

    private JdbiResourceStore(Database db, Clock clock, MeterRegistry meters, Retention retention, Codec codec) {
        this.codec = codec;
        this.jdbi = Objects.requireNonNull(db, "db").jdbi();
        this.clock = Objects.requireNonNull(clock, "clock");
        this.retention = Objects.requireNonNull(retention, "retention");
        Objects.requireNonNull(meters, "meters");
        for (var op : Op.values()) {
            timers.put(op, Timer.builder("capstan.store.operation")
                    .tag("op", op.name().toLowerCase(java.util.Locale.ROOT))
                    .description("Time taken by one ResourceStore operation")
                    .register(meters));
        }
    }

    // ---------------------------------------------------------------- writes

    @Override
    public Resource create(Resource resource) {
        Objects.requireNonNull(resource, "resource");
        checkNames(resource);
        return write(Op.CREATE, h -> {
            long version = nextVersion(h);
            if (stored(h, resource.key()).isPresent()) {
                throw new ConflictException(describe(resource.key()) + " already exists; use update or apply to change it");
            }
            return insert(h, resource, version);
        }).resource();
    }

    @Override
    public Resource update(Resource resource) {
        Objects.requireNonNull(resource, "resource");
        return write(Op.UPDATE, h -> {
            long version = nextVersion(h);
            var current = stored(h, resource.key())
                    .orElseThrow(() -> new NotFoundException(describe(resource.key()) + " does not exist; create it first"));
            var expected = resource.metadata().resourceVersion();
            var actual = current.metadata().resourceVersion();
            if (!expected.isEmpty() && !expected.equals(actual)) {
                throw new ConflictException("%s was modified: the update is based on resourceVersion %s but the stored one is %s; re-read and retry"
                        .formatted(describe(resource.key()), expected, actual));
            }
            return replaceSpec(h, current, resource, version);
        }).resource();
    }

    @Override
    public Resource apply(Resource resource) {
        Objects.requireNonNull(resource, "resource");
        checkNames(resource);
        return write(Op.APPLY, h -> {
            long version = nextVersion(h);
            var current = stored(h, resource.key());
            return current.isEmpty() ? insert(h, resource, version) : replaceSpec(h, current.get(), resource, version);
        }).resource();
    }

    @Override
    public Resource updateStatus(ResourceKey key, String expectedResourceVersion, ResourceStatus status) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(expectedResourceVersion, "expectedResourceVersion");
        Objects.requireNonNull(status, "status");
        return write(Op.UPDATE_STATUS, h -> {
            long version = nextVersion(h);
            var current = stored(h, key).orElseThrow(() -> new NotFoundException(describe(key) + " does not exist; cannot write its status"));
            var actual = current.metadata().resourceVersion();
            if (!expectedResourceVersion.isEmpty() && !expectedResourceVersion.equals(actual)) {
                throw new ConflictException("%s was modified: the status update is based on resourceVersion %s but the stored one is %s; re-read and retry"
                        .formatted(describe(key), expectedResourceVersion, actual));
            }
            // Only the status can differ, so comparing it alone (not the whole resource as JSON) is enough.
            if (current.status().equals(status)) return Written.unchanged(current, h);
            return store(h, current.withStatus(status), current.metadata().generation(), version, WatchEvent.Type.MODIFIED);
        }).resource();
    }

    /** Reads only the stored version, not the body: the resource the caller read is the stored one if it matches. */
    @Override
    public Resource updateStatus(Resource current, ResourceStatus status) {
        Objects.requireNonNull(current, "current");
        Objects.requireNonNull(status, "status");
        var key = current.key();
        var expected = current.metadata().resourceVersion();
        if (expected.isEmpty()) return updateStatus(key, "", status);
        return write(Op.UPDATE_STATUS, h -> {
            long version = nextVersion(h);
            var actual = storedVersion(h, key)
                    .orElseThrow(() -> new NotFoundException(describe(key) + " does not exist; cannot write its status"));
            if (!expected.equals(Long.toString(actual))) {
                throw new ConflictException("%s was modified: the status update is based on resourceVersion %s but the stored one is %s; re-read and retry"
                        .formatted(describe(key), expected, actual));
            }
            if (current.status().equals(status)) return Written.unchanged(current, h);
            return store(h, current.withStatus(status), current.metadata().generation(), version, WatchEvent.Type.MODIFIED);
        }).resource();
    }

    @Override
    public Optional<Resource> delete(ResourceKey key) {
        Objects.requireNonNull(key, "key");
        var written = write(Op.DELETE, h -> {
            long version = nextVersion(h);
            var current = stored(h, key);
            if (current.isEmpty()) {
                h.rollback();
                return new Written(null, 0);
            }
            h.createUpdate("DELETE FROM resources WHERE kind = :kind AND namespace = :namespace AND name = :name")
                    .bind("kind", key.kind()).bind("namespace", key.namespace()).bind("name", key.name())
                    .execute();
            var tombstone = current.get().withMetadata(current.get().metadata().withResourceVersion(Long.toString(version)));
            appendEvent(h, WatchEvent.Type.DELETED, tombstone, version);
            // The caller gets the state as last stored; the event carries the deletion's version, as in Kubernetes.
            return new Written(current.get(), version);
        });
        return Optional.ofNullable(written.resource());
    }

    private Written insert(Handle h, Resource input, long version) {
        Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
        var meta = input.metadata().stamped(Ids.uid(), now, 1, Long.toString(version));
        var created = input.withMetadata(meta);
        var body = toJson(codec.seal(created));
        h.createUpdate("""
                        INSERT INTO resources (kind, namespace, name, uid, resource_version, generation, labels, body, created_at)
                        VALUES (:kind, :namespace, :name, :uid, :version, 1, :labels, :body, :createdAt)""")
                .bind("kind", created.kind()).bind("namespace", meta.namespace()).bind("name", meta.name())
                .bind("uid", meta.uid()).bind("version", version).bind("labels", toJson(meta.labels()))
                .bind("body", body).bind("createdAt", OffsetDateTime.ofInstant(now, ZoneOffset.UTC))
                .execute();
        appendEvent(h, WatchEvent.Type.ADDED, created, body, version);
        return new Written(created, version);
    }

    /** Spec, labels, annotations, owners and apiVersion come from the input; identity and status stay as stored. */
    private Written replaceSpec(Handle h, Resource current, Resource input, long version) {
        var cm = current.metadata();
        var im = input.metadata();
        var meta = new ObjectMeta(cm.name(), cm.namespace(), cm.uid(), im.labels(), im.annotations(),
                cm.creationTimestamp(), cm.generation(), cm.resourceVersion(), im.ownerReferences());
        var next = new Resource(input.apiVersion(), current.kind(), meta, input.spec(), current.status());
        if (sameContent(current, next)) return Written.unchanged(current, h);
        long generation = current.spec().equals(input.spec()) ? cm.generation() : cm.generation() + 1;
        return store(h, next, generation, version, WatchEvent.Type.MODIFIED);
    }

    private Written store(Handle h, Resource next, long generation, long version, WatchEvent.Type type) {
        var m = next.metadata();
        var stamped = next.withMetadata(m.stamped(m.uid(), m.creationTimestamp(), generation, Long.toString(version)));
        var body = toJson(codec.seal(stamped));
        h.createUpdate("""
                        UPDATE resources SET resource_version = :version, generation = :generation, labels = :labels, body = :body
                        WHERE kind = :kind AND namespace = :namespace AND name = :name""")
                .bind("version", version).bind("generation", generation).bind("labels", toJson(m.labels())).bind("body", body)
                .bind("kind", stamped.kind()).bind("namespace", m.namespace()).bind("name", m.name())
                .execute();
        appendEvent(h, type, stamped, body, version);
        return new Written(stamped, version);
    }

    private void appendEvent(Handle h, WatchEvent.Type type, Resource resource, long version) {
        appendEvent(h, type, resource, toJson(codec.seal(resource)), version);
    }

    private void appendEvent(Handle h, WatchEvent.Type type, Resource resource, String body, long version) {
        var m = resource.metadata();
        h.createUpdate("""
                        INSERT INTO resource_events (version, event_type, kind, namespace, name, labels, body, recorded_at)
                        VALUES (:version, :type, :kind, :namespace, :name, :labels, :body, :at)""")
                .bind("version", version).bind("type", type.name()).bind("kind", resource.kind())
                .bind("namespace", m.namespace()).bind("name", m.name()).bind("labels", toJson(m.labels()))
                .bind("body", body).bind("at", OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC))
                .execute();
    }

    private static long nextVersion(Handle h) {
        h.createUpdate("UPDATE store_version SET v = v + 1 WHERE id = 1").execute();
        return h.createQuery("SELECT v FROM store_version WHERE id = 1").mapTo(Long.class).one();
    }

    /**
     * What a write transaction produced: the resource to return and the version written, or 0 when nothing was
     * written (the resource may then be null, as for a delete of nothing).
     */
    private record Written(Resource resource, long version) {
        /** Rolls back the version increment: nothing changed, so no version is used up. */
        static Written unchanged(Resource current, Handle h) {
            h.rollback();
            return new Written(current, 0);
        }
    }

    @FunctionalInterface
    private interface WriteBody {
        Written run(Handle h);
    }

    private Written write(Op op, WriteBody body) {
        return time(op, () -> {
            Written written;
            writeLock.lock();
            try {
                written = jdbi.inTransaction(TransactionIsolationLevel.READ_COMMITTED, body::run);
            } finally {
                writeLock.unlock();
            }
            if (written.version() > 0) {
                published(written.version());
                if (written.version() % COMPACT_EVERY == 0) compact();
            }
            return written;
        });
    }

    private void published(long version) {
        feedLock.lock();
        try {
            if (version > localVersion) localVersion = version;
            committed.signalAll();
        } finally {
            feedLock.unlock();
        }
    }

    /** Drops events beyond the retention; package-private so tests can compact on demand. */
    void compact() {
        time(Op.COMPACT, () -> {
            writeLock.lock();
            try {
                jdbi.useTransaction(h -> {
                    long current = h.createQuery("SELECT v FROM store_version WHERE id = 1 FOR UPDATE").mapTo(Long.class).one();
                    long byCount = current - retention.maxEvents();
                    var cutoff = OffsetDateTime.ofInstant(clock.instant().minus(retention.maxAge()), ZoneOffset.UTC);
                    long byAge = h.createQuery("SELECT COALESCE(MAX(version), 0) FROM resource_events WHERE recorded_at < :cutoff")
                            .bind("cutoff", cutoff).mapTo(Long.class).one();
                    long through = Math.max(byCount, byAge);
                    if (through <= 0) return;
                    h.createUpdate("DELETE FROM resource_events WHERE version <= :through").bind("through", through).execute();
                    h.createUpdate("UPDATE store_version SET compacted_through = :through WHERE id = 1 AND compacted_through < :through")
                            .bind("through", through).execute();
                });
            } finally {
                writeLock.unlock();
            }
            return null;
        });
    }

    // ---------------------------------------------------------------- reads

    @Override
    public Optional<Resource> find(ResourceKey key) {
        Objects.requireNonNull(key, "key");
        return time(Op.GET, () -> jdbi.withHandle(h -> stored(h, key)));
    }

    @Override
    public Optional<String> resourceVersion(ResourceKey key) {
        Objects.requireNonNull(key, "key");
        return time(Op.GET, () -> jdbi.withHandle(h -> storedVersion(h, key).map(String::valueOf)));
    }

    private static Optional<Long> storedVersion(Handle h, ResourceKey key) {
        return h.createQuery("SELECT resource_version FROM resources WHERE kind = :kind AND namespace = :namespace AND name = :name")
                .bind("kind", key.kind()).bind("namespace", key.namespace()).bind("name", key.name())
                .mapTo(Long.class).findOne();
    }

    @Override
    public Resource get(ResourceKey key) {
        return find(key).orElseThrow(() -> new NotFoundException(describe(key) + " not found"));
    }

    private Optional<Resource> stored(Handle h, ResourceKey key) {
        return h.createQuery("SELECT body FROM resources WHERE kind = :kind AND namespace = :namespace AND name = :name")
                .bind("kind", key.kind()).bind("namespace", key.namespace()).bind("name", key.name())
                .mapTo(String.class)
                .findOne()
                .map(body -> codec.open(fromJson(body, key.toString())));
    }

    private record Row(String namespace, String name, String labels, String body) {}

    @Override
    public Page list(ListQuery query) {
        Objects.requireNonNull(query, "query");
        var after = query.continueToken().map(JdbiResourceStore::decodeContinue).orElse(new Cursor("", ""));
        return time(Op.LIST, () -> jdbi.inTransaction(TransactionIsolationLevel.REPEATABLE_READ, h -> {
            // Read the version first: a write that commits between the two reads then shows in the list and in a
            // watch from this version, which is harmless; the other order could lose it from both.
            long version = currentVersion(h);
            var items = new ArrayList<Resource>(Math.min(query.limit(), 64));
            int batch = query.selector().isEverything() ? query.limit() + 1 : Math.max(query.limit() + 1, 200);
            var cursor = after;
            boolean more = false;
            scan:
            while (true) {
                var rows = h.createQuery("""
                                SELECT namespace, name, labels, body FROM resources
                                WHERE kind = :kind AND (:allNamespaces OR namespace = :namespace)
                                  AND (namespace > :afterNamespace OR (namespace = :afterNamespace AND name > :afterName))
                                ORDER BY namespace, name
                                FETCH FIRST :batch ROWS ONLY""")
                        .bind("kind", query.kind())
                        .bind("allNamespaces", query.namespace().isEmpty())
                        .bind("namespace", query.namespace().orElse(""))
                        .bind("afterNamespace", cursor.namespace()).bind("afterName", cursor.name())
                        .bind("batch", batch)
                        .map((rs, ctx) -> new Row(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)))
                        .list();
                for (var row : rows) {
                    if (!query.selector().isEverything() && !query.selector().matches(labels(row.labels()))) continue;
                    if (items.size() == query.limit()) {
                        more = true;
                        break scan;
                    }
                    items.add(codec.open(fromJson(row.body(), query.kind() + " " + row.namespace() + "/" + row.name())));
                }
                if (rows.size() < batch) break;
                var last = rows.getLast();
                cursor = new Cursor(last.namespace(), last.name());
            }
            Optional<String> token = more ? Optional.of(encodeContinue(items.getLast())) : Optional.empty();
            return new Page(items, token, version);
        }));
    }

    private record Cursor(String namespace, String name) {}

    private static String encodeContinue(Resource last) {
        var raw = last.metadata().namespace() + "\n" + last.metadata().name();
        return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
    }

    private static Cursor decodeContinue(String token) {
        try {
            var raw = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
            int nl = raw.indexOf('\n');
            if (nl > 0 && nl < raw.length() - 1) return new Cursor(raw.substring(0, nl), raw.substring(nl + 1));
        } catch (IllegalArgumentException e) {
            throw InvalidSpecException.of("continue", "continue token '" + io.capstan.core.Names.printable(token)
                    + "' is not one this server issued (" + e.getMessage() + "); start the list again without it");
        }
        throw InvalidSpecException.of("continue", "continue token '" + io.capstan.core.Names.printable(token)
                + "' is not one this server issued; start the list again without it");
    }

    @Override
    public long currentVersion() {
        return jdbi.withHandle(JdbiResourceStore::currentVersion);
    }

    private static long currentVersion(Handle h) {
        return h.createQuery("SELECT v FROM store_version WHERE id = 1").mapTo(Long.class).one();
    }

    // ---------------------------------------------------------------- watch

    private record EventRow(long version, String type, String kind, String namespace, String name, String labels, String body) {}

    private record FeedState(long current, long compactedThrough) {}

    @Override
    public List<WatchEvent> changes(WatchQuery query, long afterVersion, int limit, Duration wait) {
        return awaitChanges(query, afterVersion, limit, wait, true,
                row -> new WatchEvent(WatchEvent.Type.valueOf(row.type()), row.version(), codec.open(fromJson(row.body(), "event " + row.version()))));
    }

    /** As {@link #changes} without reading or parsing the bodies. */
    @Override
    public List<ChangedKey> changedKeys(WatchQuery query, long afterVersion, int limit, Duration wait) {
        return awaitChanges(query, afterVersion, limit, wait, false,
                row -> new ChangedKey(row.version(), new ResourceKey(row.kind(), row.namespace(), row.name())));
    }

    private <T> List<T> awaitChanges(WatchQuery query, long afterVersion, int limit, Duration wait, boolean withBody,
                                     Function<EventRow, T> mapper) {
        Objects.requireNonNull(query, "query");
        Objects.requireNonNull(wait, "wait");
        if (limit < 1) throw new IllegalArgumentException("changes limit must be >= 1, got " + limit);
        if (afterVersion < 0) throw new IllegalArgumentException("afterVersion must be >= 0, got " + afterVersion);
        long deadline = System.nanoTime() + Math.max(0, wait.toNanos());
        while (true) {
            long seen = localVersion();
            var events = time(Op.CHANGES, () -> readChanges(query, afterVersion, limit, withBody, mapper));
            if (!events.isEmpty()) return events;
            long left = deadline - System.nanoTime();
            if (left <= 0) return List.of();
            if (!awaitCommitAfter(seen, Math.min(left, TimeUnit.MILLISECONDS.toNanos(POLL_MILLIS)))) return List.of();
        }
    }

    private <T> List<T> readChanges(WatchQuery query, long afterVersion, int limit, boolean withBody, Function<EventRow, T> mapper) {
        return jdbi.withHandle(h -> {
            var state = h.createQuery("SELECT v, compacted_through FROM store_version WHERE id = 1")
                    .map((rs, ctx) -> new FeedState(rs.getLong(1), rs.getLong(2))).one();
            if (afterVersion < state.compactedThrough()) {
                throw new ConflictException("resourceVersion %d is too old: changes up to %d were compacted; re-list and watch from the list's resourceVersion"
                        .formatted(afterVersion, state.compactedThrough()));
            }
            var out = new ArrayList<T>();
            long from = afterVersion;
            int batch = query.selector().isEverything() ? limit : Math.max(limit, 200);
            // Scan only up to the version read above so that a filtered scan ends even under a steady write load.
            while (out.size() < limit && from < state.current()) {
                var rows = h.createQuery("""
                                SELECT version, event_type, kind, namespace, name, labels, <body> FROM resource_events
                                WHERE version > :after AND version <= :upTo AND (:anyKind OR kind = :kind)
                                  AND (:anyNamespace OR namespace = :namespace)
                                ORDER BY version
                                FETCH FIRST :batch ROWS ONLY""")
                        .define("body", withBody ? "body" : "NULL AS body")
                        .bind("after", from).bind("upTo", state.current())
                        .bind("anyKind", query.kind().isEmpty()).bind("kind", query.kind().orElse(""))
                        .bind("anyNamespace", query.namespace().isEmpty()).bind("namespace", query.namespace().orElse(""))
                        .bind("batch", batch)
                        .map((rs, ctx) -> new EventRow(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4),
                                rs.getString(5), rs.getString(6), rs.getString(7)))
                        .list();
                for (var row : rows) {
                    if (out.size() == limit) break;
                    if (query.selector().isEverything() || query.selector().matches(labels(row.labels()))) out.add(mapper.apply(row));
                }
                if (rows.size() < batch) break;
                from = rows.getLast().version();
            }
            return out;
        });
    }

    private long localVersion() {
        feedLock.lock();
        try {
            return localVersion;
        } finally {
            feedLock.unlock();
        }
    }

    /** Waits until a local commit newer than {@code seen}, or the timeout; false if interrupted. */
    private boolean awaitCommitAfter(long seen, long nanos) {
        feedLock.lock();
        try {
            long left = nanos;
            while (localVersion == seen && left > 0) left = committed.awaitNanos(left);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            feedLock.unlock();
        }
    }

    // ---------------------------------------------------------------- secret keys

    /**
     * Re-encrypts, with {@code sealer}'s current key, every stored Secret and every Secret in the change feed that
     * an older key sealed (or that is not sealed at all); returns how many rows it rewrote. Each row is rewritten in
     * a transaction of its own, in place: the content is the same, so neither its resourceVersion nor the feed
     * changes. Stopping half-way leaves every row sealed with a key of the ring, old or new.
     */
    public int resealSecrets(SecretSealer sealer) {
        return resealSecrets(sealer, Integer.MAX_VALUE);
    }

    private record SealedRow(long version, String namespace, String name, String body) {}

    /** As {@link #resealSecrets(SecretSealer)}, stopping after {@code maxRows} rewritten rows. */
    int resealSecrets(SecretSealer sealer, int maxRows) {
        Objects.requireNonNull(sealer, "sealer");
        int done = 0;
        for (var events : List.of(false, true)) {
            var rows = jdbi.withHandle(h -> h.createQuery(events
                            ? "SELECT version, namespace, name, body FROM resource_events WHERE kind = :kind AND body IS NOT NULL ORDER BY version"
                            : "SELECT resource_version, namespace, name, body FROM resources WHERE kind = :kind ORDER BY namespace, name")
                    .bind("kind", CoreKinds.SECRET)
                    .map((rs, ctx) -> new SealedRow(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4)))
                    .list());
            for (var row : rows) {
                if (done == maxRows) return done;
                var stored = fromJson(row.body(), "Secret " + row.namespace() + "/" + row.name());
                if (sealer.isCurrent(stored)) continue;
                var body = toJson(sealer.seal(sealer.open(stored)));
                writeLock.lock();
                try {
                    done += jdbi.inTransaction(TransactionIsolationLevel.READ_COMMITTED, h -> events
                            ? h.createUpdate("UPDATE resource_events SET body = :body WHERE version = :version")
                                    .bind("body", body).bind("version", row.version()).execute()
                            : h.createUpdate("UPDATE resources SET body = :body WHERE kind = :kind AND namespace = :namespace "
                                            + "AND name = :name AND resource_version = :version")
                                    .bind("body", body).bind("kind", CoreKinds.SECRET).bind("namespace", row.namespace())
                                    .bind("name", row.name()).bind("version", row.version()).execute());
                } finally {
                    writeLock.unlock();
                }
            }
        }
        return done;
    }

    /** The ids of the keys that sealed any stored Secret or any Secret in the change feed. */
    public Set<String> secretKeyIdsInUse() {
        var ids = new TreeSet<String>();
        jdbi.useHandle(h -> {
            for (var table : List.of("resources", "resource_events")) {
                h.createQuery("SELECT body FROM <table> WHERE kind = :kind AND body IS NOT NULL").define("table", table)
                        .bind("kind", CoreKinds.SECRET).mapTo(String.class)
                        .forEach(body -> ids.addAll(SecretSealer.keyIds(fromJson(body, "a stored Secret"))));
            }
        });
        return ids;
    }

    // ---------------------------------------------------------------- helpers

    private <T> T time(Op op, Supplier<T> action) {
        var sample = Timer.start();
        try {
            return action.get();
        } finally {
            sample.stop(timers.get(op));
        }
    }

    private static boolean sameContent(Resource a, Resource b) {
        var x = (ObjectNode) Json.json().valueToTree(a);
        var y = (ObjectNode) Json.json().valueToTree(b);
        ((ObjectNode) x.get("metadata")).remove("resourceVersion");
        ((ObjectNode) y.get("metadata")).remove("resourceVersion");
        return x.equals(y);
    }

    private static void checkNames(Resource r) {
        var m = r.metadata();
        io.capstan.core.Names.checkSubdomain(m.name()).ifPresent(msg -> {
            throw InvalidSpecException.of("metadata.name", r.kind() + " name: " + msg);
        });
        io.capstan.core.Names.checkLabel(m.namespace()).ifPresent(msg -> {
            throw InvalidSpecException.of("metadata.namespace", r.kind() + " namespace: " + msg);
        });
    }

    private static String describe(ResourceKey key) {
        return key.kind() + " " + key.namespace() + "/" + key.name();
    }

    private static String toJson(Object value) {
        try {
            return Json.json().writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise " + value.getClass().getSimpleName() + " to JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static Resource fromJson(String body, String what) {
        try {
            return Json.json().readValue(body, Resource.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored " + what + " is not a valid resource document: " + e.getOriginalMessage()
                    + "; the row was written by an incompatible version or edited by hand", e);
        }
    }

    private static Map<String, String> labels(String json) {
        try {
            return Json.json().readValue(json, LABELS);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored labels are not a JSON object of strings: " + e.getOriginalMessage(), e);
        }
    }
}
