package io.capstan.store;

import io.capstan.core.Ids;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.UnableToExecuteStatementException;

/**
 * Leader election through one row of the {@code leader_lease} table (schema {@code db/migration/store}). The holder
 * calls {@link #tryAcquire()} every {@link #renewEvery()}; each success extends the lease by {@link #ttl()}. Another
 * holder can take the lease only once it has expired, so at most one holder leads while clocks agree to within the
 * safety margin: a holder stops calling itself leader a fifth of the ttl before its lease runs out.
 *
 * <p>Thread-safe. {@link #tryAcquire()} and {@link #release()} block on the database.
 */
public final class LeaderLease {
    public static final Duration DEFAULT_TTL = Duration.ofSeconds(15);

    private final Jdbi jdbi;
    private final String name;
    private final String holder;
    private final Clock clock;
    private final Duration ttl;
    /** Until when this holder may act as leader; {@link Instant#MIN} when it does not lead. */
    private volatile Instant leadingUntil = Instant.MIN;

    public LeaderLease(Database db, String name, String holder, Clock clock, Duration ttl) {
        this.jdbi = Objects.requireNonNull(db, "db").jdbi();
        this.name = Objects.requireNonNull(name, "name");
        this.holder = Objects.requireNonNull(holder, "holder");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.ttl = Objects.requireNonNull(ttl, "ttl");
        if (name.isBlank() || holder.isBlank()) throw new IllegalArgumentException("lease name and holder must not be blank");
        if (ttl.compareTo(Duration.ofMillis(30)) < 0) throw new IllegalArgumentException("lease ttl must be at least 30ms, got " + ttl);
    }

    /** A lease named {@code name} with a fresh random holder id and the default ttl of 15 s. */
    public static LeaderLease of(Database db, String name, Clock clock) {
        return new LeaderLease(db, name, Ids.uid(), clock, DEFAULT_TTL);
    }

    public String name() {
        return name;
    }

    public String holder() {
        return holder;
    }

    public Duration ttl() {
        return ttl;
    }

    /** How often a leader should renew: a third of the ttl, so that two renewals may fail before the lease lapses. */
    public Duration renewEvery() {
        return ttl.dividedBy(3);
    }

    /**
     * Takes the lease if it is free or expired, or renews it if this holder has it. Returns whether this holder now
     * leads. A database failure propagates; the holder then keeps leading only until its last lease runs out.
     */
    public boolean tryAcquire() {
        var now = clock.instant();
        var expires = now.plus(ttl);
        boolean won = jdbi.inTransaction(h -> {
            int updated = h.createUpdate("""
                            UPDATE leader_lease
                            SET acquired_at = CASE WHEN holder = :holder THEN acquired_at ELSE :now END, holder = :holder, expires_at = :expires
                            WHERE name = :name AND (holder = :holder OR expires_at < :now)""")
                    .bind("name", name).bind("holder", holder).bind("now", utc(now)).bind("expires", utc(expires))
                    .execute();
            if (updated == 1) return true;
            int exists = h.createQuery("SELECT COUNT(*) FROM leader_lease WHERE name = :name").bind("name", name).mapTo(Integer.class).one();
            return exists == 0 && insert(h, now, expires);
        });
        leadingUntil = won ? now.plus(ttl.minus(ttl.dividedBy(5))) : Instant.MIN;
        return won;
    }

    private boolean insert(org.jdbi.v3.core.Handle h, Instant now, Instant expires) {
        try {
            h.createUpdate("INSERT INTO leader_lease (name, holder, acquired_at, expires_at) VALUES (:name, :holder, :now, :expires)")
                    .bind("name", name).bind("holder", holder).bind("now", utc(now)).bind("expires", utc(expires))
                    .execute();
            return true;
        } catch (UnableToExecuteStatementException e) {
            // Another holder inserted the row first: it leads. Anything else is a real failure. PostgreSQL has
            // aborted the transaction, so end it here rather than let the commit report a silent rollback.
            if (e.getCause() instanceof SQLException sql && "23505".equals(sql.getSQLState())) {
                h.rollback();
                return false;
            }
            throw e;
        }
    }

    /** Whether this holder leads now, by its own clock; false once the lease may have passed to someone else. */
    public boolean isLeader() {
        return clock.instant().isBefore(leadingUntil);
    }

    /**
     * Until when this holder may act as leader by its own clock (a fifth of the ttl before its lease runs out), or
     * empty when it does not lead; work it started as leader should end by then, as another holder may take over.
     */
    public Optional<Instant> leadingUntil() {
        var until = leadingUntil;
        return until.equals(Instant.MIN) ? Optional.empty() : Optional.of(until);
    }

    /** The holder whose lease has not expired by this holder's clock, read from the database; empty while the lease is free. */
    public Optional<String> liveHolder() {
        return jdbi.withHandle(h -> h.createQuery("SELECT holder FROM leader_lease WHERE name = :name AND expires_at >= :now")
                .bind("name", name).bind("now", utc(clock.instant())).mapTo(String.class).findOne());
    }

    /** Gives the lease up at once, if this holder has it, so that another holder need not wait for it to expire. */
    public void release() {
        leadingUntil = Instant.MIN;
        jdbi.useHandle(h -> h.createUpdate("DELETE FROM leader_lease WHERE name = :name AND holder = :holder")
                .bind("name", name).bind("holder", holder).execute());
    }

    private static OffsetDateTime utc(Instant t) {
        return OffsetDateTime.ofInstant(t, ZoneOffset.UTC);
    }
}
