package io.capstan.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.core.InvalidSpecException;
import io.capstan.core.security.Caller;
import io.capstan.core.security.WorkloadScope;
import io.capstan.store.Database;
import io.capstan.store.testing.MutableClock;
import io.capstan.store.testing.TestDatabases;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenStoreTest {
    private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    private Database database;
    private TokenStore tokens;

    @BeforeEach
    void open() {
        database = TestDatabases.h2();
        database.migrate("security");
        tokens = new TokenStore(database, clock);
    }

    @AfterEach
    void close() {
        database.close();
    }

    @Test
    void aUserTokenAuthenticatesItsUserAndOnlyItsHashIsStored() {
        var issued = tokens.createUserToken("alice@example.com", Optional.empty(), "laptop");

        assertThat(issued.token()).startsWith("capstan_").hasSizeGreaterThan(40);
        assertThat(tokens.authenticate(issued.token())).contains(Caller.user("alice@example.com"));
        var stored = database.jdbi().withHandle(h -> h.createQuery("SELECT * FROM api_tokens").mapToMap().list());
        assertThat(stored).hasSize(1);
        assertThat(stored.toString()).doesNotContain(issued.token()).doesNotContain(issued.token().substring(8));
        assertThat(tokens.list(Optional.empty(), false)).singleElement()
                .satisfies(i -> assertThat(i.user()).isEqualTo("alice@example.com"))
                .satisfies(i -> assertThat(i.description()).isEqualTo("laptop"));
    }

    @Test
    void unknownTokensAreRefused() {
        tokens.createUserToken("alice@example.com", Optional.empty(), "");

        assertThat(tokens.authenticate("capstan_nope")).isEmpty();
        assertThat(tokens.authenticate("")).isEmpty();
        assertThat(tokens.authenticate("not-even-ours")).isEmpty();
    }

    @Test
    void anExpiredTokenStopsWorkingAtItsExpiry() {
        var issued = tokens.createUserToken("bob@example.com", Optional.of(Duration.ofDays(30)), "");
        assertThat(tokens.authenticate(issued.token())).isPresent();

        clock.advance(Duration.ofDays(30).minusSeconds(1));
        assertThat(tokens.authenticate(issued.token())).isPresent();
        clock.advance(Duration.ofSeconds(1));
        assertThat(tokens.authenticate(issued.token())).isEmpty();
    }

    @Test
    void aRevokedTokenStopsWorkingAtOnce() {
        var issued = tokens.createUserToken("bob@example.com", Optional.empty(), "");
        assertThat(tokens.authenticate(issued.token())).isPresent();

        assertThat(tokens.revoke(issued.info().id())).isTrue();
        assertThat(tokens.revoke(issued.info().id())).isFalse();
        assertThat(tokens.authenticate(issued.token())).isEmpty();
        assertThat(tokens.get(issued.info().id()).orElseThrow().revokedAt()).isPresent();
    }

    @Test
    void aRevocationOnAnotherReplicaTakesEffectWithinTheRecheckTime() {
        var other = new TokenStore(database, clock);
        var issued = tokens.createUserToken("bob@example.com", Optional.empty(), "");
        assertThat(tokens.authenticate(issued.token())).isPresent();

        other.revoke(issued.info().id());
        clock.advance(TokenStore.RECHECK_AFTER.plusMillis(1));

        assertThat(tokens.authenticate(issued.token())).isEmpty();
    }

    @Test
    void aWorkloadTokenCarriesItsScope() {
        var scope = new WorkloadScope("team-a", WorkloadScope.TRIAL_OBSERVATIONS, "trial-1");
        var issued = tokens.createWorkloadToken(scope, Duration.ofHours(1));

        var caller = tokens.authenticate(issued.token()).orElseThrow();
        assertThat(caller.kind()).isEqualTo(Caller.Kind.WORKLOAD);
        assertThat(caller.isWorkloadScopedTo("team-a", WorkloadScope.TRIAL_OBSERVATIONS, "trial-1")).isTrue();
        assertThat(caller.isWorkloadScopedTo("team-b", WorkloadScope.TRIAL_OBSERVATIONS, "trial-1")).isFalse();
        assertThat(tokens.list(Optional.empty(), false)).isEmpty();
        assertThat(tokens.list(Optional.empty(), true)).hasSize(1);

        assertThat(tokens.revokeWorkloadTokens(scope)).isEqualTo(1);
        assertThat(tokens.authenticate(issued.token())).isEmpty();
        clock.advance(Duration.ofDays(2));
        assertThat(tokens.purgeWorkloadTokens(Duration.ofDays(1))).isEqualTo(1);
    }

    @Test
    void badUserNamesAndLifetimesAreRefusedNamingTheField() {
        assertThatThrownBy(() -> tokens.createUserToken("system:admin", Optional.empty(), ""))
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("user");
        assertThatThrownBy(() -> tokens.createUserToken(" alice", Optional.empty(), ""))
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("user");
        assertThatThrownBy(() -> tokens.createUserToken("a".repeat(321), Optional.empty(), ""))
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("user");
        assertThatThrownBy(() -> tokens.createUserToken("alice", Optional.of(Duration.ZERO), ""))
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("expires");
        assertThatThrownBy(() -> tokens.createUserToken("alice", Optional.empty(), "x".repeat(1001)))
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("description");
        assertThat(tokens.list(Optional.empty(), true)).isEmpty();
    }

    @Test
    void theAdminTokenFileIsWrittenOnceWithOwnerOnlyAccess(@TempDir Path home) throws Exception {
        var first = AdminToken.loadOrCreate(home);
        var text = AdminToken.read(home).orElseThrow();

        assertThat(Files.getPosixFilePermissions(home.resolve("token")))
                .isEqualTo(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE));
        assertThat(first.authenticate(text)).contains(Caller.serverAdmin());
        assertThat(first.authenticate(text + "x")).isEmpty();
        assertThat(AdminToken.loadOrCreate(home).authenticate(text)).contains(Caller.serverAdmin());

        Files.writeString(home.resolve("token"), "short");
        assertThatThrownBy(() -> AdminToken.loadOrCreate(home)).hasMessageContaining("no usable token");
    }
}
