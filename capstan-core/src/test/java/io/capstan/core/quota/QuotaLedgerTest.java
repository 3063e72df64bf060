package io.capstan.core.quota;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class QuotaLedgerTest {
    private static ResourceQuota quota(String hardJson) throws Exception {
        return ResourceQuota.parse("team-a", Json.json().readTree("{\"hard\": " + hardJson + "}"), "spec.resourceQuotaSpec");
    }

    @Test
    void readsKubernetesQuantitiesAndTheShortFormsOfRequests() throws Exception {
        var q = quota("{\"cpu\": \"3500m\", \"memory\": \"1.5Gi\", \"limits.cpu\": 8, \"requests.nvidia.com/gpu\": \"1\", \"pods\": \"10\", \"services\": \"2\"}");

        assertThat(q.hard()).containsEntry(QuotaResource.REQUESTS_CPU, 3500L).containsEntry(QuotaResource.REQUESTS_MEMORY, 3L << 29)
                .containsEntry(QuotaResource.LIMITS_CPU, 8000L).containsEntry(QuotaResource.REQUESTS_GPU, 1L).containsEntry(QuotaResource.PODS, 10L);
        assertThat(q.ignoredKeys()).containsExactly("services");
        assertThat(q.exceeded(new QuotaUsage(3000, 0, 0, 1), QuotaUsage.ofPod(1, 0, 0), "this step"))
                .hasValue("namespace team-a: requests.cpu 3 of 3.5 in use, this step asks 1");
        assertThat(q.exceeded(new QuotaUsage(0, 1L << 30, 0, 1), QuotaUsage.ofPod(0, 1L << 30, 0), "this step"))
                .hasValue("namespace team-a: requests.memory 1Gi of 1536Mi in use, this step asks 1Gi");
        assertThat(q.exceeded(new QuotaUsage(2500, 0, 0, 1), QuotaUsage.ofPod(1, 0, 0), "this step")).isEmpty();
    }

    @Test
    void refusesAHardThatIsNotAMap() {
        assertThatThrownBy(() -> quota("[\"4\"]")).isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("spec.resourceQuotaSpec.hard").hasMessageContaining("must be a map");
    }

    @Test
    void chargesAGangWholeOrNotAtAll() throws Exception {
        var ledger = new QuotaLedger();
        ledger.replaceQuotas(Map.of("team-a", quota("{\"pods\": \"3\"}")));
        ledger.charge("team-a", "single", QuotaUsage.ofPod(0, 0, 0));

        var refused = ledger.tryCharge("team-a", Map.of("r0", QuotaUsage.ofPod(0, 0, 0), "r1", QuotaUsage.ofPod(0, 0, 0),
                "r2", QuotaUsage.ofPod(0, 0, 0)), "this gang");

        assertThat(refused).hasValue("namespace team-a: pods 1 of 3 in use, this gang asks 3");
        assertThat(ledger.used("team-a").pods()).isEqualTo(1);
        ledger.release("single");
        assertThat(ledger.tryCharge("team-a", Map.of("r0", QuotaUsage.ofPod(0, 0, 0), "r1", QuotaUsage.ofPod(0, 0, 0),
                "r2", QuotaUsage.ofPod(0, 0, 0)), "this gang")).isEmpty();
        assertThat(ledger.used("team-a").pods()).isEqualTo(3);
    }

    @Test
    void tellsListenersOnlyWhenTheQuotasChange() throws Exception {
        var ledger = new QuotaLedger();
        var calls = new AtomicInteger();
        ledger.onChange(calls::incrementAndGet);

        ledger.replaceQuotas(Map.of("team-a", quota("{\"pods\": \"3\"}")));
        ledger.replaceQuotas(Map.of("team-a", quota("{\"pods\": \"3\"}")));
        ledger.replaceQuotas(Map.of());

        assertThat(calls.get()).isEqualTo(2);
    }

    @Test
    void concurrentChargesNeverPassTheQuota() throws Exception {
        var ledger = new QuotaLedger();
        ledger.replaceQuotas(Map.of("team-a", quota("{\"cpu\": \"4\"}")));
        var granted = new AtomicInteger();
        try (var exec = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 1000; i++) {
                var holder = "h" + i;
                exec.submit(() -> {
                    if (ledger.tryCharge("team-a", Map.of(holder, QuotaUsage.ofPod(0.5, 0, 0)), "x").isEmpty()) granted.incrementAndGet();
                });
            }
            exec.shutdown();
            assertThat(exec.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(granted.get()).isEqualTo(8);
        assertThat(ledger.used("team-a").millicpus()).isEqualTo(4000);
    }
}
