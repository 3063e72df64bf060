package io.capstan.security;

import io.capstan.store.Database;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;

/**
 * Who did what, where, and how it ended, in the database: one record per mutating request and per refused one.
 * Records are listed newest first, in pages addressed by the id of the last record seen.
 */
public final class AuditLog {
    public static final int MAX_PAGE = 1000;

    /**
     * One request.
     *
     * @param user      the caller's user name; {@code system:anonymous} when it presented no valid credential
     * @param verb      create, update, patch, delete, apply, upload, a KFP custom method, or for refused reads get
     * @param namespace the namespace the path or query names, else empty
     * @param resource  the collection the path names (such as {@code experiments} or {@code tokens}), else empty
     * @param name      the object the path names, else empty
     * @param outcome   success, denied or failure
     * @param reason    for a denial, why: missing, invalid, forbidden, origin, host; else empty
     */
    public record Entry(long id, Instant at, String user, String verb, String method, String path, String namespace,
                        String resource, String name, int status, String outcome, String reason) {
        public Entry {
            user = clip(user, 320);
            verb = clip(verb, 32);
            method = clip(method, 16);
            path = clip(path, 1024);
            namespace = clip(namespace, 253);
            resource = clip(resource, 253);
            name = clip(name, 253);
            outcome = clip(outcome, 16);
            reason = clip(reason, 32);
        }

        private static String clip(String s, int max) {
            s = s == null ? "" : s;
            return s.length() <= max ? s : s.substring(0, max);
        }
    }

    /** A page of records, newest first, and the cursor for the next (older) page when there may be one. */
    public record Page(List<Entry> entries, Optional<Long> next) {
    }

    private final Jdbi jdbi;

    public AuditLog(Database database) {
        this.jdbi = Objects.requireNonNull(database, "database").jdbi();
    }

    public void record(Entry e) {
        jdbi.useHandle(h -> h.createUpdate("""
                        INSERT INTO audit_log (at, user_name, verb, method, path, namespace, resource, name, status, outcome, reason)
                        VALUES (:at, :user, :verb, :method, :path, :ns, :resource, :name, :status, :outcome, :reason)""")
                .bind("at", OffsetDateTime.ofInstant(e.at(), ZoneOffset.UTC)).bind("user", e.user()).bind("verb", e.verb())
                .bind("method", e.method()).bind("path", e.path()).bind("ns", emptyToNull(e.namespace()))
                .bind("resource", emptyToNull(e.resource())).bind("name", emptyToNull(e.name())).bind("status", e.status())
                .bind("outcome", e.outcome()).bind("reason", emptyToNull(e.reason()))
                .execute());
    }

    /**
     * Records newest first.
     *
     * @param user   only this user's, when present
     * @param since  only records at or after this instant, when present
     * @param before only records older than this cursor (a {@link Page#next()}), when present
     * @param limit  at most this many, 1 to {@link #MAX_PAGE}
     */
    public Page list(Optional<String> user, Optional<Instant> since, Optional<Long> before, int limit) {
        if (limit < 1 || limit > MAX_PAGE) throw new IllegalArgumentException("limit must be 1.." + MAX_PAGE + ", got " + limit);
        var where = new ArrayList<String>();
        where.add("1 = 1");
        user.ifPresent(u -> where.add("user_name = :user"));
        since.ifPresent(s -> where.add("at >= :since"));
        before.ifPresent(b -> where.add("id < :before"));
        var entries = jdbi.withHandle(h -> {
            var q = h.createQuery("SELECT * FROM audit_log WHERE " + String.join(" AND ", where) + " ORDER BY id DESC LIMIT :limit");
            user.ifPresent(u -> q.bind("user", u));
            since.ifPresent(s -> q.bind("since", OffsetDateTime.ofInstant(s, ZoneOffset.UTC)));
            before.ifPresent(b -> q.bind("before", b));
            q.bind("limit", limit + 1);
            return q.map((rs, ctx) -> entryOf(rs)).list();
        });
        if (entries.size() > limit) {
            var page = List.copyOf(entries.subList(0, limit));
            return new Page(page, Optional.of(page.getLast().id()));
        }
        return new Page(List.copyOf(entries), Optional.empty());
    }

    private static Entry entryOf(ResultSet rs) throws SQLException {
        return new Entry(rs.getLong("id"), rs.getObject("at", OffsetDateTime.class).toInstant(), rs.getString("user_name"),
                rs.getString("verb"), rs.getString("method"), rs.getString("path"), rs.getString("namespace"),
                rs.getString("resource"), rs.getString("name"), rs.getInt("status"), rs.getString("outcome"), rs.getString("reason"));
    }

    private static String emptyToNull(String s) {
        return s.isEmpty() ? null : s;
    }
}
