package io.capstan.store;

import static io.capstan.store.testing.TestProfiles.profile;
import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.quota.QuotaLedger;
import io.capstan.core.quota.QuotaResource;
import io.capstan.core.quota.ResourceQuota;
import io.capstan.store.testing.TestDatabases;
import io.capstan.store.testing.TestProfiles;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ProfileQuotasTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    private Database db;
    private ResourceStore store;
    private final QuotaLedger ledger = new QuotaLedger();
    private ProfileQuotas quotas;

    @BeforeEach
    void open() {
        db = TestDatabases.h2();
        db.migrate("store");
        store = new JdbiResourceStore(db, Clock.systemUTC());
    }

    @AfterEach
    void close() {
        if (quotas != null) quotas.close();
        db.close();
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline >= 0) throw new AssertionError("timed out waiting for " + what);
            LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
        }
    }

    private Optional<Long> hard(String namespace, QuotaResource r) {
        return ledger.find(namespace).map(q -> q.hard().get(r));
    }

    @Test
    void loadsProfilesAtStartAndFollowsTheirChanges() {
        store.create(profile("team-a", Map.of("cpu", "4", "memory", "8Gi", "requests.nvidia.com/gpu", "1", "pods", "10", "requests.storage", "5Gi")));
        var changes = new AtomicInteger();
        ledger.onChange(changes::incrementAndGet);

        quotas = new ProfileQuotas(store, ledger).start();

        var a = ledger.find("team-a").orElseThrow();
        assertThat(a.hard()).isEqualTo(Map.of(QuotaResource.REQUESTS_CPU, 4000L, QuotaResource.REQUESTS_MEMORY, 8L << 30,
                QuotaResource.REQUESTS_GPU, 1L, QuotaResource.PODS, 10L));
        assertThat(a.ignoredKeys()).containsExactly("requests.storage");
        assertThat(ledger.find("team-b")).isEmpty();
        assertThat(changes.get()).isEqualTo(1);

        store.apply(profile("team-a", Map.of("pods", "3", "requests.cpu", "500m", "cpu", "2")));
        await("team-a's pods to become 3", () -> hard("team-a", QuotaResource.PODS).equals(Optional.of(3L)));
        assertThat(hard("team-a", QuotaResource.REQUESTS_CPU)).as("the smaller of cpu and requests.cpu").hasValue(500L);

        store.create(profile("team-b", Map.of("limits.memory", "1Gi")));
        await("team-b's quota", () -> hard("team-b", QuotaResource.LIMITS_MEMORY).equals(Optional.of(1L << 30)));

        store.delete(TestProfiles.key("team-a"));
        await("team-a to be unlimited", () -> ledger.find("team-a").isEmpty());
        assertThat(ledger.find("team-b")).isPresent();
    }

    @Test
    void aProfileWhoseQuotaDoesNotParseKeepsTheLastValidQuota() {
        store.create(profile("team-a", Map.of("pods", "2")));
        quotas = new ProfileQuotas(store, ledger).start();

        store.apply(profile("team-a", Map.of("pods", "two")));
        store.create(profile("team-b", Map.of("pods", "1")));
        await("team-b's quota", () -> ledger.find("team-b").isPresent());

        assertThat(hard("team-a", QuotaResource.PODS)).hasValue(2L);
    }

    @Test
    void aProfileWithoutResourceQuotaSpecIsUnlimited() {
        store.create(profile("team-a", Map.of()));
        quotas = new ProfileQuotas(store, ledger).start();

        assertThat(ledger.find("team-a")).isEmpty();
        assertThat(ledger.isEmpty()).isTrue();
    }

    @Test
    void parsingNamesEveryBadField() {
        var json = io.capstan.core.Json.json().createObjectNode();
        json.putObject("hard").put("cpu", "lots").put("pods", "-1").put("memory", "1Gi");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ResourceQuota.parse("team-a", json, "spec.resourceQuotaSpec"))
                .isInstanceOf(io.capstan.core.InvalidSpecException.class)
                .hasMessageContaining("spec.resourceQuotaSpec.hard.cpu")
                .hasMessageContaining("spec.resourceQuotaSpec.hard.pods");
    }
}
