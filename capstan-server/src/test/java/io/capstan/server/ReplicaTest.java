package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import io.capstan.core.InvalidSpecException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplicaTest {
    @TempDir
    Path home;

    @Test
    void theIdIsGeneratedOnceAndKeptInTheHome() throws Exception {
        var first = Replica.of(home, Map.of());
        assertThat(first.id()).isNotBlank().doesNotContain("/");
        assertThat(Files.readString(home.resolve(Replica.ID_FILE)).strip()).isEqualTo(first.id());
        assertThat(Replica.of(home, Map.of()).id()).isEqualTo(first.id());
        assertThat(first.description()).endsWith(":" + home.toAbsolutePath());
        assertThat(first.leaseTtl()).isEqualTo(Duration.ofSeconds(15));
    }

    @Test
    void theEnvironmentNamesTheIdAndTheLeaseTtl() {
        var replica = Replica.of(home, Map.of("CAPSTAN_REPLICA_ID", "capstan-0", "CAPSTAN_LEASE_TTL_SECONDS", "4", "HOSTNAME", "node-1"));
        assertThat(replica.id()).isEqualTo("capstan-0");
        assertThat(replica.leaseTtl()).isEqualTo(Duration.ofSeconds(4));
        assertThat(replica.description()).isEqualTo("node-1:" + home.toAbsolutePath());
        var holder = replica.leaseHolder();
        assertThat(holder).startsWith("capstan-0/").isNotEqualTo(replica.leaseHolder());
        assertThat(Replica.replicaOf(holder)).isEqualTo("capstan-0");
    }

    @Test
    void aBadLeaseTtlOrIdIsRefusedNamingTheVariable() {
        for (var ttl : new String[] {"0", "-3", "1.5", "ten", "3601"}) {
            assertThatExceptionOfType(InvalidSpecException.class).as(ttl)
                    .isThrownBy(() -> Replica.of(home, Map.of("CAPSTAN_LEASE_TTL_SECONDS", ttl)))
                    .withMessageContaining("CAPSTAN_LEASE_TTL_SECONDS").withMessageContaining(ttl).withMessageContaining("1 to 3600");
        }
        for (var id : new String[] {"a/b", "with space", "x".repeat(201)}) {
            assertThatExceptionOfType(InvalidSpecException.class).as(id)
                    .isThrownBy(() -> Replica.of(home, Map.of("CAPSTAN_REPLICA_ID", id)))
                    .withMessageContaining("CAPSTAN_REPLICA_ID");
        }
    }
}
