package io.capstan.store;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.UnableToExecuteStatementException;

/**
 * Which replica launched each local workload, and when each replica was last seen alive (tables {@code replicas}
 * and {@code workload_owners}, schema {@code db/migration/store}). Several servers on one database each run their
 * own child processes; a new leader reads here whether a workload it cannot see was launched by another replica,
 * and whether that replica is gone or has given the workload up.
 *
 * <p>Thread-safe; every method is one short transaction and blocks on the database.
 */
public final class WorkloadOwners {
    /**
     * @param releasedAt when the owner stopped the workload (or saw it end) because another replica took the lead
     * @param lostAt     when a replica first found the workload lost; set once
     */
    public record Owner(String workloadId, String replica, Instant launchedAt, Optional<Instant> releasedAt, Optional<Instant> lostAt) {
        public Owner {
            Objects.requireNonNull(workloadId, "workloadId");
            Objects.requireNonNull(replica, "replica");
            Objects.requireNonNull(launchedAt, "launchedAt");
            Objects.requireNonNull(releasedAt, "releasedAt");
            Objects.requireNonNull(lostAt, "lostAt");
        }
    }

    /** A replica's last heartbeat; {@code description} says where it runs, such as {@code host:/home/path}. */
    public record Seen(String replica, String description, Instant seenAt) {
    }

    private final Jdbi jdbi;
    private final Clock clock;

    public WorkloadOwners(Database db, Clock clock) {
        this.jdbi = Objects.requireNonNull(db, "db").jdbi();
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** Records that {@code replica} is alive now. */
    public void heartbeat(String replica, String description) {
        var now = utc(clock.instant());
        int updated = jdbi.withHandle(h -> h.createUpdate("UPDATE replicas SET seen_at = :now, description = :description WHERE id = :id")
                .bind("id", replica).bind("description", description).bind("now", now).execute());
        if (updated == 1) return;
        try {
            jdbi.useHandle(h -> h.createUpdate("INSERT INTO replicas (id, description, seen_at) VALUES (:id, :description, :now)")
                    .bind("id", replica).bind("description", description).bind("now", now).execute());
        } catch (UnableToExecuteStatementException e) {
            // A second process with the same replica id inserted first; its heartbeat is as good as this one's.
            if (!isDuplicateKey(e)) throw e;
        }
    }

    /** The replica's last heartbeat, or empty if it never beat. */
    public Optional<Seen> seen(String replica) {
        return jdbi.withHandle(h -> h.createQuery("SELECT id, description, seen_at FROM replicas WHERE id = :id")
                .bind("id", replica)
                .map((rs, ctx) -> new Seen(rs.getString("id"), rs.getString("description"), instant(rs, "seen_at").orElseThrow()))
                .findOne());
    }

    /** Whether a replica other than {@code replica} was seen at or after {@code since}. */
    public boolean othersSeenSince(String replica, Instant since) {
        return jdbi.withHandle(h -> h.createQuery("SELECT COUNT(*) FROM replicas WHERE id <> :id AND seen_at >= :since")
                .bind("id", replica).bind("since", utc(since)).mapTo(Integer.class).one()) > 0;
    }

    /**
     * Records {@code replica} as the owner of {@code workloadId} unless the workload already has an owner, and
     * returns the owner as stored: {@code replica} itself, or the replica that claimed the workload first.
     */
    public Owner claim(String workloadId, String replica) {
        var now = clock.instant();
        try {
            jdbi.useHandle(h -> h.createUpdate("INSERT INTO workload_owners (workload_id, replica, launched_at) VALUES (:id, :replica, :now)")
                    .bind("id", workloadId).bind("replica", replica).bind("now", utc(now)).execute());
            return new Owner(workloadId, replica, now, Optional.empty(), Optional.empty());
        } catch (UnableToExecuteStatementException e) {
            if (!isDuplicateKey(e)) throw e;
        }
        return find(workloadId).orElseThrow(() -> new IllegalStateException("the owner of workload " + workloadId
                + " was forgotten while it was being claimed; launch it again"));
    }

    public Optional<Owner> find(String workloadId) {
        return jdbi.withHandle(h -> h.createQuery("""
                        SELECT workload_id, replica, launched_at, released_at, lost_at FROM workload_owners WHERE workload_id = :id""")
                .bind("id", workloadId)
                .map((rs, ctx) -> new Owner(rs.getString("workload_id"), rs.getString("replica"), instant(rs, "launched_at").orElseThrow(),
                        instant(rs, "released_at"), instant(rs, "lost_at")))
                .findOne());
    }

    /** Records that the owner no longer runs the workload, unless already recorded. */
    public void release(String workloadId) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE workload_owners SET released_at = :now WHERE workload_id = :id AND released_at IS NULL")
                .bind("id", workloadId).bind("now", utc(clock.instant())).execute());
    }

    /** Records that {@code replica} no longer runs any of its workloads. */
    public void releaseAll(String replica) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE workload_owners SET released_at = :now WHERE replica = :replica AND released_at IS NULL")
                .bind("replica", replica).bind("now", utc(clock.instant())).execute());
    }

    /** Records that the workload is lost, unless already recorded, and returns the owner as stored afterwards. */
    public Owner markLost(String workloadId) {
        jdbi.useHandle(h -> h.createUpdate("UPDATE workload_owners SET lost_at = :now WHERE workload_id = :id AND lost_at IS NULL")
                .bind("id", workloadId).bind("now", utc(clock.instant())).execute());
        return find(workloadId).orElseThrow(() -> new io.capstan.core.NotFoundException("no owner is recorded for workload " + workloadId));
    }

    /** Forgets the workload's owner, as when the workload is removed. */
    public void forget(String workloadId) {
        jdbi.useHandle(h -> h.createUpdate("DELETE FROM workload_owners WHERE workload_id = :id").bind("id", workloadId).execute());
    }

    private static boolean isDuplicateKey(UnableToExecuteStatementException e) {
        return e.getCause() instanceof SQLException sql && "23505".equals(sql.getSQLState());
    }

    private static Optional<Instant> instant(ResultSet rs, String column) throws SQLException {
        return Optional.ofNullable(rs.getObject(column, OffsetDateTime.class)).map(OffsetDateTime::toInstant);
    }

    private static OffsetDateTime utc(Instant t) {
        return OffsetDateTime.ofInstant(t, ZoneOffset.UTC);
    }
}
