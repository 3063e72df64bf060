package io.capstan.store;

import static io.capstan.store.testing.TestResources.aResource;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.ConflictException;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import io.capstan.core.NotFoundException;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceStatus;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The {@link ResourceStore} contract, run against each database by a subclass. Each test works in a namespace of its own. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ResourceStoreContract {
    private static final AtomicInteger NAMESPACES = new AtomicInteger();
    private static final Instant T0 = Instant.parse("2025-01-02T03:04:05.678Z");

    private Database db;
    private SimpleMeterRegistry meters;
    ResourceStore store;
    String ns;

    abstract Database openDatabase();

    @BeforeAll
    void openStore() {
        db = openDatabase();
        db.migrate("store");
        meters = new SimpleMeterRegistry();
        store = new JdbiResourceStore(db, Clock.fixed(T0, ZoneOffset.UTC), meters);
    }

    @AfterAll
    void closeStore() {
        if (db != null) db.close();
    }

    @BeforeEach
    void freshNamespace() {
        ns = "ns" + NAMESPACES.incrementAndGet();
    }

    private ResourceKey job(String name) {
        return new ResourceKey("Job", ns, name);
    }

    @Test
    void createAssignsServerFieldsAndGetReturnsIt() {
        var created = store.create(aResource("Job", ns, "a").withLabel("team", "x").build());
        var m = created.metadata();
        assertThat(m.uid()).isNotEmpty();
        assertThat(m.generation()).isEqualTo(1);
        assertThat(m.creationTimestamp()).isEqualTo(T0);
        assertThat(Long.parseLong(m.resourceVersion())).isPositive().isEqualTo(store.currentVersion());
        assertThat(store.get(job("a"))).isEqualTo(created);
        assertThat(store.find(job("missing"))).isEmpty();
        assertThat(meters.get("capstan.store.operation").tag("op", "create").timer().count()).isPositive();
    }

    @Test
    void resourceVersionFollowsEveryWriteAndIsEmptyForAMissingOrDeletedResource() {
        var created = store.create(aResource("Job", ns, "v").build());
        assertThat(store.resourceVersion(job("v"))).contains(created.metadata().resourceVersion());
        var updated = store.updateStatus(created, created.status().withPhase("Running"));
        assertThat(store.resourceVersion(job("v"))).contains(updated.metadata().resourceVersion())
                .isNotEqualTo(java.util.Optional.of(created.metadata().resourceVersion()));
        assertThat(store.resourceVersion(job("missing"))).isEmpty();
        store.delete(job("v"));
        assertThat(store.resourceVersion(job("v"))).isEmpty();
    }

    @Test
    void getOfAMissingResourceNamesIt() {
        assertThatExceptionOfType(NotFoundException.class).isThrownBy(() -> store.get(job("nope")))
                .withMessageContaining("Job " + ns + "/nope");
    }

    @Test
    void duplicateCreateIsAConflict() {
        store.create(aResource("Job", ns, "dup").build());
        assertThatExceptionOfType(ConflictException.class)
                .isThrownBy(() -> store.create(aResource("Job", ns, "dup").build()))
                .withMessageContaining("Job " + ns + "/dup already exists");
        // Same name in another kind is another resource.
        store.create(aResource("Model", ns, "dup").build());
    }

    @Test
    void invalidNamesAreRefused() {
        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> store.create(aResource("Job", ns, "Not_A_Name").build()))
                .withMessageContaining("metadata.name");
    }

    @Test
    void deleteRemovesAndReturnsTheLastState() {
        var created = store.create(aResource("Job", ns, "gone").build());
        assertThat(store.delete(job("gone"))).contains(created);
        assertThat(store.find(job("gone"))).isEmpty();
        assertThat(store.delete(job("gone"))).isEmpty();
    }

    @Test
    void staleUpdateIsAConflictAndChangesNothing() {
        var v1 = store.create(aResource("Job", ns, "u").build());
        var v2 = store.update(v1.withSpec(spec("image", "two")));
        var stale = v1.withSpec(spec("image", "three"));
        assertThatExceptionOfType(ConflictException.class).isThrownBy(() -> store.update(stale))
                .withMessageContaining(v1.metadata().resourceVersion())
                .withMessageContaining(v2.metadata().resourceVersion());
        assertThat(store.get(job("u"))).isEqualTo(v2);
    }

    @Test
    void updateOfAMissingResourceIsNotFound() {
        assertThatExceptionOfType(NotFoundException.class)
                .isThrownBy(() -> store.update(aResource("Job", ns, "absent").build()));
    }

    @Test
    void generationGoesUpOnlyWhenTheSpecChanges() {
        var v1 = store.create(aResource("Job", ns, "g").build());
        var relabelled = store.update(v1.withMetadata(v1.metadata().withLabels(java.util.Map.of("a", "b"))));
        assertThat(relabelled.metadata().generation()).isEqualTo(1);
        assertThat(Long.parseLong(relabelled.metadata().resourceVersion())).isGreaterThan(Long.parseLong(v1.metadata().resourceVersion()));
        var respecced = store.update(relabelled.withSpec(spec("image", "new")));
        assertThat(respecced.metadata().generation()).isEqualTo(2);
        var same = store.update(respecced);
        assertThat(same).isEqualTo(respecced);
    }

    @Test
    void updateKeepsTheStoredStatus() {
        var v1 = store.create(aResource("Job", ns, "s").build());
        store.updateStatus(job("s"), "", ResourceStatus.EMPTY.withPhase("Running"));
        var updated = store.update(v1.withSpec(spec("image", "x")).withMetadata(v1.metadata().withResourceVersion("")));
        assertThat(updated.status().phase()).isEqualTo("Running");
    }

    @Test
    void statusUpdateTouchesNeitherSpecNorGeneration() {
        var v1 = store.create(aResource("Job", ns, "st").build());
        var after = store.updateStatus(job("st"), v1.metadata().resourceVersion(), ResourceStatus.EMPTY.withPhase("Running").withObservedGeneration(1));
        assertThat(after.status().phase()).isEqualTo("Running");
        assertThat(after.spec()).isEqualTo(v1.spec());
        assertThat(after.metadata().generation()).isEqualTo(1);
        assertThat(after.metadata().resourceVersion()).isNotEqualTo(v1.metadata().resourceVersion());
        assertThatExceptionOfType(ConflictException.class)
                .isThrownBy(() -> store.updateStatus(job("st"), v1.metadata().resourceVersion(), ResourceStatus.EMPTY.withPhase("Failed")));
        assertThat(store.get(job("st")).status().phase()).isEqualTo("Running");
    }

    @Test
    void statusUpdateOfTheResourceReadWritesItAsStoredAndRefusesAStaleOne() {
        var v1 = store.create(aResource("Job", ns, "sr").withLabel("x", "1").build());
        var after = store.updateStatus(v1, ResourceStatus.EMPTY.withPhase("Running"));
        assertThat(after).isEqualTo(store.get(job("sr")));
        assertThat(after.spec()).isEqualTo(v1.spec());
        assertThat(after.metadata().labels()).containsEntry("x", "1");
        assertThat(after.metadata().generation()).isEqualTo(v1.metadata().generation());
        assertThat(after.metadata().resourceVersion()).isNotEqualTo(v1.metadata().resourceVersion());
        var events = store.changes(inNamespace(), Long.parseLong(v1.metadata().resourceVersion()), 10, Duration.ZERO);
        assertThat(events).singleElement().satisfies(e -> assertThat(e.resource()).isEqualTo(after));

        long version = store.currentVersion();
        assertThat(store.updateStatus(after, ResourceStatus.EMPTY.withPhase("Running"))).isEqualTo(after);
        assertThat(store.currentVersion()).isEqualTo(version);
        assertThatExceptionOfType(ConflictException.class)
                .isThrownBy(() -> store.updateStatus(v1, ResourceStatus.EMPTY.withPhase("Failed")))
                .withMessageContaining("resourceVersion " + v1.metadata().resourceVersion());
        store.delete(job("sr"));
        assertThatExceptionOfType(NotFoundException.class).isThrownBy(() -> store.updateStatus(after, ResourceStatus.EMPTY.withPhase("Done")));
        assertThat(store.find(job("sr"))).isEmpty();
    }

    @Test
    void writingTheSameStatusTwiceTakesNoNewVersion() {
        store.create(aResource("Job", ns, "idem").build());
        var first = store.updateStatus(job("idem"), "", ResourceStatus.EMPTY.withPhase("Done"));
        long version = store.currentVersion();
        var second = store.updateStatus(job("idem"), "", ResourceStatus.EMPTY.withPhase("Done"));
        assertThat(second).isEqualTo(first);
        assertThat(store.currentVersion()).isEqualTo(version);
    }

    @Test
    void applyCreatesThenUpdatesUnconditionally() {
        var created = store.apply(aResource("Job", ns, "ap").build());
        assertThat(created.metadata().generation()).isEqualTo(1);
        var changed = store.apply(aResource("Job", ns, "ap").withSpecField("image", "v2").build());
        assertThat(changed.metadata().generation()).isEqualTo(2);
        assertThat(changed.metadata().uid()).isEqualTo(created.metadata().uid());
        assertThat(changed.metadata().creationTimestamp()).isEqualTo(created.metadata().creationTimestamp());
    }

    @Test
    void unknownSpecFieldsSurviveTheRoundTrip() throws Exception {
        var spec = (ObjectNode) Json.json().readTree("""
                {"image":"x","nodeSelector":{"gpu":"a100"},"weird":[1,2.5,{"deep":true}],"big":12345678901234}""");
        var created = store.create(aResource("Job", ns, "rt").withSpec(spec).build());
        assertThat(store.get(job("rt")).spec()).isEqualTo(spec);
        assertThat(created.spec()).isEqualTo(spec);
    }

    @Test
    void labelSelectorsFilterLists() {
        store.create(aResource("Job", ns, "a").withLabel("env", "prod").withLabel("team", "ml").build());
        store.create(aResource("Job", ns, "b").withLabel("env", "dev").build());
        store.create(aResource("Job", ns, "c").build());
        assertThat(names(list("env=prod"))).containsExactly("a");
        assertThat(names(list("env in (prod,dev)"))).containsExactly("a", "b");
        assertThat(names(list("env!=prod"))).containsExactly("b", "c");
        assertThat(names(list("!env"))).containsExactly("c");
        assertThat(names(list("team"))).containsExactly("a");
        assertThat(names(list(""))).containsExactly("a", "b", "c");
    }

    @Test
    void listsAreScopedByKindAndNamespace() {
        store.create(aResource("Job", ns, "a").build());
        store.create(aResource("Model", ns, "m").build());
        store.create(aResource("Job", ns + "x", "b").build());
        assertThat(names(store.list(ListQuery.all("Job", ns)))).containsExactly("a");
        var everywhere = store.list(new ListQuery("Job", Optional.empty(), LabelSelector.EVERYTHING, 1000, Optional.empty()));
        assertThat(everywhere.items()).extracting(r -> r.metadata().namespace() + "/" + r.metadata().name())
                .contains(ns + "/a", ns + "x/b")
                .doesNotContain(ns + "/m");
    }

    @Test
    void paginationVisitsEveryItemOnceInOrder() {
        for (int i = 0; i < 23; i++) {
            var b = aResource("Job", ns, "r%02d".formatted(i));
            if (i % 3 == 0) b.withLabel("pick", "yes");
            store.create(b.build());
        }
        assertThat(pageThrough("", 5)).hasSize(23).isSorted().doesNotHaveDuplicates();
        var picked = pageThrough("pick=yes", 2);
        assertThat(picked).containsExactly("r00", "r03", "r06", "r09", "r12", "r15", "r18", "r21");
        // An exact fit leaves no empty last page behind.
        var page = store.list(new ListQuery("Job", Optional.of(ns), LabelSelector.parse("pick=yes"), 8, Optional.empty()));
        assertThat(page.items()).hasSize(8);
        assertThat(page.continueToken()).isEmpty();
    }

    @Test
    void aForgedContinueTokenIsInvalid() {
        assertThatExceptionOfType(InvalidSpecException.class).isThrownBy(() -> store.list(
                new ListQuery("Job", Optional.of(ns), LabelSelector.EVERYTHING, 5, Optional.of("!!!not base64"))));
    }

    @Test
    void listReportsAVersionToWatchFrom() {
        store.create(aResource("Job", ns, "a").build());
        var page = store.list(ListQuery.all("Job", ns));
        store.create(aResource("Job", ns, "b").build());
        var events = store.changes(inNamespace(), page.resourceVersion(), 100, Duration.ZERO);
        assertThat(events).extracting(e -> e.resource().metadata().name()).containsExactly("b");
    }

    @Test
    void watchSeesEveryChangeInOrderWithItsType() {
        long from = store.currentVersion();
        var created = store.create(aResource("Job", ns, "w").withLabel("x", "1").build());
        store.updateStatus(job("w"), "", ResourceStatus.EMPTY.withPhase("Running"));
        store.delete(job("w"));
        var events = store.changes(inNamespace(), from, 100, Duration.ZERO);
        assertThat(events).extracting(WatchEvent::type)
                .containsExactly(WatchEvent.Type.ADDED, WatchEvent.Type.MODIFIED, WatchEvent.Type.DELETED);
        assertThat(events.getFirst().resource()).isEqualTo(created);
        assertThat(events.getLast().resource().status().phase()).isEqualTo("Running");
        assertThat(events).extracting(WatchEvent::resourceVersion).isSorted().doesNotHaveDuplicates();
        assertThat(events.getLast().resource().metadata().resourceVersion()).isEqualTo(Long.toString(events.getLast().resourceVersion()));
        var selected = store.changes(new WatchQuery(Optional.of("Job"), Optional.of(ns), LabelSelector.parse("x=2")), from, 100, Duration.ZERO);
        assertThat(selected).isEmpty();
        var limited = store.changes(inNamespace(), from, 2, Duration.ZERO);
        assertThat(limited).hasSize(2);
    }

    @Test
    void changedKeysNameTheSameChangesAsTheFullFeed() {
        long from = store.currentVersion();
        store.create(aResource("Job", ns, "k1").withLabel("x", "1").build());
        store.create(aResource("Job", ns, "k2").withLabel("x", "2").build());
        store.updateStatus(job("k1"), "", ResourceStatus.EMPTY.withPhase("Running"));
        store.delete(job("k2"));
        var full = store.changes(inNamespace(), from, 100, Duration.ZERO);
        var keys = store.changedKeys(inNamespace(), from, 100, Duration.ZERO);
        assertThat(keys).extracting(ChangedKey::resourceVersion).containsExactlyElementsOf(full.stream().map(WatchEvent::resourceVersion).toList());
        assertThat(keys).extracting(ChangedKey::key).containsExactly(job("k1"), job("k2"), job("k1"), job("k2"));
        var selected = store.changedKeys(new WatchQuery(Optional.of("Job"), Optional.of(ns), LabelSelector.parse("x=2")), from, 100, Duration.ZERO);
        assertThat(selected).extracting(ChangedKey::key).containsExactly(job("k2"), job("k2"));
        assertThat(store.changedKeys(inNamespace(), from, 3, Duration.ZERO)).hasSize(3);
    }

    @Test
    void watchUnderConcurrentWritersSeesEveryEventExactlyOnce() throws Exception {
        int writers = 4, writes = 50;
        long from = store.currentVersion();
        var seen = new ArrayList<WatchEvent>();
        try (ExecutorService exec = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<?> watcher = exec.submit(() -> {
                long after = from;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (seen.size() < writers * writes && System.nanoTime() < deadline) {
                    var batch = store.changes(inNamespace(), after, 37, Duration.ofMillis(500));
                    for (var e : batch) {
                        seen.add(e);
                        after = e.resourceVersion();
                    }
                }
                return null;
            });
            var futures = new ArrayList<Future<?>>();
            for (int w = 0; w < writers; w++) {
                int id = w;
                futures.add(exec.submit(() -> {
                    for (int i = 0; i < writes; i++) {
                        if (i % 2 == 0) store.create(aResource("Job", ns, "c" + id + "-" + i).build());
                        else store.updateStatus(job("c" + id + "-" + (i - 1)), "", ResourceStatus.EMPTY.withPhase("P" + i));
                    }
                    return null;
                }));
            }
            for (var f : futures) f.get(30, TimeUnit.SECONDS);
            watcher.get(30, TimeUnit.SECONDS);
        }
        assertThat(seen).hasSize(writers * writes);
        var versions = seen.stream().map(WatchEvent::resourceVersion).toList();
        for (int i = 1; i < versions.size(); i++) assertThat(versions.get(i)).isGreaterThan(versions.get(i - 1));
        assertThat(new HashSet<>(versions)).hasSize(writers * writes);
    }

    @Test
    void watchWaitReturnsEarlyWhenAWriteArrives() throws Exception {
        long from = store.currentVersion();
        try (ExecutorService exec = Executors.newVirtualThreadPerTaskExecutor()) {
            var started = new java.util.concurrent.CountDownLatch(1);
            Future<List<WatchEvent>> waiting = exec.submit(() -> {
                started.countDown();
                return store.changes(inNamespace(), from, 10, Duration.ofSeconds(20));
            });
            assertThat(started.await(5, TimeUnit.SECONDS)).isTrue();
            long t0 = System.nanoTime();
            store.create(aResource("Job", ns, "wake").build());
            var events = waiting.get(5, TimeUnit.SECONDS);
            assertThat(events).extracting(e -> e.resource().metadata().name()).containsExactly("wake");
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
        }
    }

    @Test
    void watchWithNothingNewReturnsEmptyAfterTheWait() {
        long t0 = System.nanoTime();
        var events = store.changes(inNamespace(), store.currentVersion(), 10, Duration.ofMillis(50));
        assertThat(events).isEmpty();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(50));
    }

    @Test
    void aWatchFromACompactedVersionMustRelist() {
        long from = store.currentVersion();
        for (int i = 0; i < 8; i++) store.create(aResource("Job", ns, "old" + i).build());
        var compacting = new JdbiResourceStore(db, Clock.fixed(T0, ZoneOffset.UTC), meters,
                new JdbiResourceStore.Retention(Duration.ofDays(1), 5));
        compacting.compact();
        assertThatExceptionOfType(ConflictException.class)
                .isThrownBy(() -> store.changes(inNamespace(), from, 10, Duration.ZERO))
                .withMessageContaining("resourceVersion " + from + " is too old");
        assertThat(store.changes(inNamespace(), store.currentVersion() - 5, 10, Duration.ZERO)).hasSize(5);
    }

    private WatchQuery inNamespace() {
        return new WatchQuery(Optional.of("Job"), Optional.of(ns), LabelSelector.EVERYTHING);
    }

    private List<String> pageThrough(String selector, int limit) {
        var out = new ArrayList<String>();
        Optional<String> token = Optional.empty();
        int pages = 0;
        do {
            var page = store.list(new ListQuery("Job", Optional.of(ns), LabelSelector.parse(selector), limit, token));
            assertThat(page.items().size()).isLessThanOrEqualTo(limit);
            out.addAll(names(page));
            token = page.continueToken();
            assertThat(++pages).isLessThan(100);
        } while (token.isPresent());
        return out;
    }

    private Page list(String selector) {
        return store.list(new ListQuery("Job", Optional.of(ns), LabelSelector.parse(selector), 1000, Optional.empty()));
    }

    private static List<String> names(Page page) {
        return page.items().stream().map(r -> r.metadata().name()).toList();
    }

    private static ObjectNode spec(String field, String value) {
        return Json.json().createObjectNode().put(field, value);
    }

}
