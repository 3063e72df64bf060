package io.capstan.server;

import io.capstan.core.Ids;
import io.capstan.core.InvalidSpecException;
import io.capstan.store.LeaderLease;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * This server among the replicas that share one database.
 *
 * @param id          stable across restarts on one home: {@code CAPSTAN_REPLICA_ID}, or an id generated once and kept
 *                    in {@code CAPSTAN_HOME/replica-id}
 * @param description where it runs, {@code host:home}, for messages
 * @param leaseTtl    {@code CAPSTAN_LEASE_TTL_SECONDS}, default 15: how long the controllers' lease lasts without
 *                    renewal, and so how long a failover takes at most, plus a resync
 */
record Replica(String id, String description, Duration leaseTtl) {
    static final String ID_FILE = "replica-id";
    static final int MAX_LEASE_TTL_SECONDS = 3600;

    Replica {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(leaseTtl, "leaseTtl");
    }

    static Replica of(Path home, Map<String, String> env) {
        var id = env.getOrDefault("CAPSTAN_REPLICA_ID", "").strip();
        if (id.isEmpty()) id = storedId(home);
        if (id.length() > 200 || id.contains("/") || !id.chars().allMatch(c -> c > ' ' && c < 127)) {
            throw InvalidSpecException.of("CAPSTAN_REPLICA_ID", "replica id '" + id + "' must be up to 200 printable ASCII characters without "
                    + "'/' or spaces; set CAPSTAN_REPLICA_ID to such a name or delete " + home.resolve(ID_FILE) + " to get a new one");
        }
        return new Replica(id, hostName(env) + ":" + home.toAbsolutePath(), leaseTtl(env.get("CAPSTAN_LEASE_TTL_SECONDS")));
    }

    /** The lease holder name of this server process: the replica id, then a part new at each start. */
    String leaseHolder() {
        return id + "/" + Ids.uid();
    }

    /** The replica id inside a holder name made by {@link #leaseHolder()}. */
    static String replicaOf(String holder) {
        int cut = holder.lastIndexOf('/');
        return cut < 0 ? holder : holder.substring(0, cut);
    }

    private static Duration leaseTtl(String value) {
        if (value == null || value.isBlank()) return LeaderLease.DEFAULT_TTL;
        int seconds;
        try {
            seconds = Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            seconds = -1;
        }
        if (seconds < 1 || seconds > MAX_LEASE_TTL_SECONDS) {
            throw InvalidSpecException.of("CAPSTAN_LEASE_TTL_SECONDS", "CAPSTAN_LEASE_TTL_SECONDS is '" + value
                    + "'; give whole seconds from 1 to " + MAX_LEASE_TTL_SECONDS + " (default " + LeaderLease.DEFAULT_TTL.toSeconds() + ")");
        }
        return Duration.ofSeconds(seconds);
    }

    private static String storedId(Path home) {
        var file = home.resolve(ID_FILE);
        try {
            if (!Files.exists(file)) {
                try {
                    Files.writeString(file, Ids.uid() + "\n", java.nio.file.StandardOpenOption.CREATE_NEW);
                } catch (FileAlreadyExistsException e) {
                    // Another process on this home wrote it first: that id is this home's.
                }
            }
            return Files.readString(file).strip();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or create the replica id in " + file + "; check permissions or set CAPSTAN_REPLICA_ID", e);
        }
    }

    /** From the environment or /etc/hostname, not a DNS lookup that could hold up the start. */
    private static String hostName(Map<String, String> env) {
        var name = env.getOrDefault("HOSTNAME", "").strip();
        if (!name.isEmpty()) return name;
        try {
            var file = Path.of("/etc/hostname");
            if (Files.isReadable(file)) name = Files.readString(file).strip();
        } catch (IOException e) {
            name = "";
        }
        return name.isEmpty() ? "localhost" : name;
    }
}
