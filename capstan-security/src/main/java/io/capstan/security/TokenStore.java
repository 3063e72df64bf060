package io.capstan.security;

import io.capstan.core.InvalidSpecException;
import io.capstan.core.security.Caller;
import io.capstan.core.security.WorkloadScope;
import io.capstan.store.Database;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jdbi.v3.core.Jdbi;

/**
 * Users' and workloads' API tokens in the database, stored as SHA-256 hashes: a token is shown once, when it is
 * made, and cannot be read back. Checking a token costs one indexed read; the answer is then remembered for
 * {@link #RECHECK_AFTER}, so that a revocation made on another replica takes effect within that time (at once on
 * this one), and an inference endpoint under load does not query the database per request.
 */
public final class TokenStore implements Authenticator {
    static final Duration RECHECK_AFTER = Duration.ofSeconds(5);
    private static final int MAX_REMEMBERED = 10_000;
    public static final int MAX_DESCRIPTION = 1000;

    /** What is known about a token; never the token itself. */
    public record TokenInfo(String id, String user, Caller.Kind kind, Optional<WorkloadScope> scope, String description,
                            Instant createdAt, Optional<Instant> expiresAt, Optional<Instant> revokedAt) {
        public boolean activeAt(Instant now) {
            return revokedAt.isEmpty() && expiresAt.map(now::isBefore).orElse(true);
        }
    }

    /** A token just made: the only time its text is known. */
    public record IssuedToken(String token, TokenInfo info) {
    }

    private record Remembered(Optional<Caller> caller, Optional<Instant> expiresAt, Instant checkedAt) {
    }

    private final Jdbi jdbi;
    private final Clock clock;
    private final ConcurrentHashMap<String, Remembered> remembered = new ConcurrentHashMap<>();

    public TokenStore(Database database, Clock clock) {
        this.jdbi = Objects.requireNonNull(database, "database").jdbi();
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** A token for a person; {@code ttl} empty means it does not expire. */
    public IssuedToken createUserToken(String user, Optional<Duration> ttl, String description) {
        if (user == null || !OidcAuthenticator.acceptableUser(user)) {
            throw InvalidSpecException.of("user", "a user name is 1 to 320 characters without surrounding spaces, control or format "
                    + "characters, and does not start with 'system:'");
        }
        if (description.length() > MAX_DESCRIPTION) {
            throw InvalidSpecException.of("description", "a description is at most " + MAX_DESCRIPTION + " characters");
        }
        ttl.ifPresent(TokenStore::checkTtl);
        return insert(user, Caller.Kind.USER, Optional.empty(), description, ttl);
    }

    /** A token a workload gets in its environment: valid for {@code ttl}, and only for what {@code scope} names. */
    public IssuedToken createWorkloadToken(WorkloadScope scope, Duration ttl) {
        checkTtl(ttl);
        return insert(Caller.workload(scope).user(), Caller.Kind.WORKLOAD, Optional.of(scope), "", Optional.of(ttl));
    }

    private static void checkTtl(Duration ttl) {
        if (ttl.isNegative() || ttl.isZero()) throw InvalidSpecException.of("expires", "a token's lifetime must be positive, got " + ttl);
    }

    private IssuedToken insert(String user, Caller.Kind kind, Optional<WorkloadScope> scope, String description, Optional<Duration> ttl) {
        var token = Tokens.newSecret();
        var now = clock.instant();
        var info = new TokenInfo(Tokens.newId(), user, kind, scope, description, now, ttl.map(now::plus), Optional.empty());
        jdbi.useHandle(h -> h.createUpdate("""
                        INSERT INTO api_tokens (id, token_hash, user_name, kind, scope_ns, scope_purpose, scope_subject, description, created_at, expires_at)
                        VALUES (:id, :hash, :user, :kind, :ns, :purpose, :subject, :description, :created, :expires)""")
                .bind("id", info.id()).bind("hash", Tokens.hash(token)).bind("user", user).bind("kind", kind.name())
                .bind("ns", scope.map(WorkloadScope::namespace).orElse(null))
                .bind("purpose", scope.map(WorkloadScope::purpose).orElse(null))
                .bind("subject", scope.map(WorkloadScope::subject).orElse(null))
                .bind("description", description).bind("created", utc(now)).bind("expires", info.expiresAt().map(TokenStore::utc).orElse(null))
                .execute());
        return new IssuedToken(token, info);
    }

    @Override
    public Optional<Caller> authenticate(String bearerToken) {
        if (!bearerToken.startsWith(Tokens.PREFIX)) return Optional.empty();
        var hash = Tokens.hash(bearerToken);
        var now = clock.instant();
        var known = remembered.get(hash);
        if (known == null || known.checkedAt().plus(RECHECK_AFTER).isBefore(now)) {
            var info = find("token_hash = :key", hash);
            known = new Remembered(info.filter(i -> i.activeAt(now)).map(TokenStore::callerOf), info.flatMap(TokenInfo::expiresAt), now);
            if (remembered.size() >= MAX_REMEMBERED) remembered.clear();
            remembered.put(hash, known);
        }
        if (known.expiresAt().filter(e -> !now.isBefore(e)).isPresent()) return Optional.empty();
        return known.caller();
    }

    private static Caller callerOf(TokenInfo info) {
        return info.scope().map(Caller::workload).orElseGet(() -> Caller.user(info.user()));
    }

    /** Every token, newest first; {@code user} empty for all users'. Workload tokens are left out unless asked for. */
    public List<TokenInfo> list(Optional<String> user, boolean includeWorkloads) {
        var where = new StringBuilder("1 = 1");
        if (user.isPresent()) where.append(" AND user_name = :user");
        if (!includeWorkloads) where.append(" AND kind = 'USER'");
        return jdbi.withHandle(h -> {
            var q = h.createQuery("SELECT * FROM api_tokens WHERE " + where + " ORDER BY created_at DESC, id");
            user.ifPresent(u -> q.bind("user", u));
            return q.map((rs, ctx) -> infoOf(rs)).list();
        });
    }

    public Optional<TokenInfo> get(String id) {
        return find("id = :key", id);
    }

    /** Revokes the token with {@code id}; false when there is none or it was already revoked. */
    public boolean revoke(String id) {
        int updated = jdbi.withHandle(h -> h.createUpdate("UPDATE api_tokens SET revoked_at = :now WHERE id = :id AND revoked_at IS NULL")
                .bind("now", utc(clock.instant())).bind("id", id).execute());
        if (updated > 0) remembered.clear();
        return updated > 0;
    }

    /** Revokes every live token made for {@code scope}, as a workload ends. */
    public int revokeWorkloadTokens(WorkloadScope scope) {
        int updated = jdbi.withHandle(h -> h.createUpdate("""
                        UPDATE api_tokens SET revoked_at = :now
                        WHERE kind = 'WORKLOAD' AND scope_ns = :ns AND scope_purpose = :purpose AND scope_subject = :subject AND revoked_at IS NULL""")
                .bind("now", utc(clock.instant())).bind("ns", scope.namespace()).bind("purpose", scope.purpose())
                .bind("subject", scope.subject()).execute());
        if (updated > 0) remembered.clear();
        return updated;
    }

    /** Deletes workload tokens that expired or were revoked more than {@code olderThan} ago; users' tokens stay listed. */
    public int purgeWorkloadTokens(Duration olderThan) {
        var cutoff = utc(clock.instant().minus(olderThan));
        return jdbi.withHandle(h -> h.createUpdate("""
                        DELETE FROM api_tokens WHERE kind = 'WORKLOAD' AND (expires_at < :cutoff OR revoked_at < :cutoff)""")
                .bind("cutoff", cutoff).execute());
    }

    private Optional<TokenInfo> find(String condition, String key) {
        return jdbi.withHandle(h -> h.createQuery("SELECT * FROM api_tokens WHERE " + condition).bind("key", key)
                .map((rs, ctx) -> infoOf(rs)).findOne());
    }

    private static TokenInfo infoOf(java.sql.ResultSet rs) throws java.sql.SQLException {
        var kind = Caller.Kind.valueOf(rs.getString("kind"));
        Optional<WorkloadScope> scope = kind == Caller.Kind.WORKLOAD
                ? Optional.of(new WorkloadScope(rs.getString("scope_ns"), rs.getString("scope_purpose"), rs.getString("scope_subject")))
                : Optional.empty();
        return new TokenInfo(rs.getString("id"), rs.getString("user_name"), kind, scope, rs.getString("description"),
                instant(rs, "created_at").orElseThrow(), instant(rs, "expires_at"), instant(rs, "revoked_at"));
    }

    private static Optional<Instant> instant(java.sql.ResultSet rs, String column) throws java.sql.SQLException {
        return Optional.ofNullable(rs.getObject(column, OffsetDateTime.class)).map(OffsetDateTime::toInstant);
    }

    private static OffsetDateTime utc(Instant t) {
        return OffsetDateTime.ofInstant(t, ZoneOffset.UTC);
    }
}
