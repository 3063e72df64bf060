package io.capstan.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.Json;
import io.capstan.core.SecretKeyRing;
import io.capstan.store.Database;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry's events, kept in order in {@code registry_event}, read as a feed (long-polled for the next one) and
 * sent to webhooks: each event a JSON POST signed with HMAC-SHA256 of the body under the webhook's secret
 * ({@value #SIGNATURE_HEADER}: {@code sha256=HEX}), retried with doubling backoff until a 2xx or {@code maxAttempts}.
 * A webhook receives its events one at a time in order; a failed one is recorded on the webhook and then skipped.
 * Secrets are stored sealed with the server's keys ({@link SecretKeyRing}), bound to the webhook's namespace and URL,
 * and opened only to sign a delivery.
 */
final class Events implements AutoCloseable {
    static final String SIGNATURE_HEADER = "X-Capstan-Signature-256";
    static final String EVENT_HEADER = "X-Capstan-Event";
    static final String DELIVERY_HEADER = "X-Capstan-Delivery";
    static final Set<String> TYPES = Set.of("VERSION_CREATED", "ALIAS_MOVED", "VERSION_DEPLOYED", "VERSION_ARCHIVED");
    private static final Logger LOG = LoggerFactory.getLogger(Events.class);

    record Event(long id, String namespace, String type, long time, ObjectNode body) {
        ObjectNode json() {
            var out = JsonNodeFactory.instance.objectNode();
            out.put("id", Long.toString(id));
            out.put("type", type);
            out.put("namespace", namespace);
            out.put("timeSinceEpoch", Long.toString(time));
            out.setAll(body);
            return out;
        }
    }

    /** A webhook as stored: {@code storedSecret} is sealed, or plain in a row written before sealing existed. */
    record Webhook(long id, String namespace, String url, String storedSecret, Set<String> types, long deliveredId, long failures, String lastError,
                   long createTime) {
        ObjectNode json() {
            var out = JsonNodeFactory.instance.objectNode();
            out.put("id", Long.toString(id));
            out.put("url", url);
            var t = out.putArray("events");
            types.stream().sorted().forEach(t::add);
            out.put("deliveredEventId", Long.toString(deliveredId));
            out.put("failedDeliveries", failures);
            if (lastError != null) out.put("lastError", lastError);
            out.put("createTimeSinceEpoch", Long.toString(createTime));
            return out;
        }
    }

    private final Database db;
    private final Clock clock;
    private final SecretKeyRing keys;
    private final Object signal = new Object();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private volatile Thread dispatcher;
    private volatile boolean closed;

    Events(Database db, Clock clock, SecretKeyRing keys) {
        this.db = db;
        this.clock = clock;
        this.keys = keys;
    }

    private static String associatedData(String namespace, String url) {
        return String.join("\0", "registry_webhook", namespace, url);
    }

    private String seal(String namespace, String url, String secret) {
        return keys.seal(secret.getBytes(StandardCharsets.UTF_8), associatedData(namespace, url));
    }

    /** The secret as stored: opened if sealed; a row written before sealing existed holds it as it is. */
    private String open(String namespace, String url, String stored) {
        if (!SecretKeyRing.isSealed(stored)) return stored;
        return new String(keys.open(stored, associatedData(namespace, url), "the secret of the registry webhook to " + url + " in namespace '" + namespace + "'"),
                StandardCharsets.UTF_8);
    }

    /**
     * Seals every webhook secret not sealed with the current key: those stored in plain text before sealing existed,
     * and those sealed with an older key. Returns how many rows it rewrote; each row is rewritten only if unchanged since read.
     */
    int resealSecrets() {
        record Row(long id, String namespace, String url, String secret) {
        }
        var rows = db.jdbi().withHandle(h -> h.createQuery("SELECT id, namespace, url, secret FROM registry_webhook ORDER BY id")
                .map((rs, ctx) -> new Row(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4))).list());
        int rewritten = 0;
        for (var row : rows) {
            if (SecretKeyRing.keyIdOf(row.secret()).filter(keys.currentKeyId()::equals).isPresent()) continue;
            String sealed;
            try {
                sealed = seal(row.namespace(), row.url(), open(row.namespace(), row.url(), row.secret()));
            } catch (io.capstan.core.PermanentFailureException e) {
                // Its key is gone: the row stays as it is, and each delivery to it fails saying so.
                LOG.warn("cannot re-seal a registry webhook secret: {}", e.getMessage());
                continue;
            }
            rewritten += db.jdbi().withHandle(h -> h.createUpdate("UPDATE registry_webhook SET secret = ? WHERE id = ? AND secret = ?")
                    .bind(0, sealed).bind(1, row.id()).bind(2, row.secret()).execute());
        }
        return rewritten;
    }

    /** The ids of the keys that sealed the stored webhook secrets. */
    java.util.Set<String> keyIdsInUse() {
        var ids = new java.util.TreeSet<String>();
        db.jdbi().useHandle(h -> h.createQuery("SELECT secret FROM registry_webhook").mapTo(String.class)
                .forEach(s -> SecretKeyRing.keyIdOf(s).ifPresent(ids::add)));
        return ids;
    }

    Event record(String namespace, String type, ObjectNode body) {
        long now = clock.millis();
        var text = write(body);
        long id = db.jdbi().withHandle(h -> h.createUpdate("INSERT INTO registry_event (namespace, type, create_time, body) VALUES (?, ?, ?, ?)")
                .bind(0, namespace).bind(1, type).bind(2, now).bind(3, text).executeAndReturnGeneratedKeys("id").mapTo(Long.class).one());
        synchronized (signal) {
            signal.notifyAll();
        }
        return new Event(id, namespace, type, now, body);
    }

    /** Events of {@code namespace} after {@code after}, waiting up to {@code wait} for one where there is none yet. */
    List<Event> after(String namespace, long after, int limit, Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            var found = db.jdbi().withHandle(h -> h.createQuery("SELECT id, namespace, type, create_time, body FROM registry_event WHERE namespace = ? AND id > ?"
                            + " ORDER BY id LIMIT ?").bind(0, namespace).bind(1, after).bind(2, limit)
                    .map((rs, ctx) -> new Event(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getLong(4), read(rs.getString(5)))).list());
            long left = deadline - System.nanoTime();
            if (!found.isEmpty() || left <= 0) return found;
            synchronized (signal) {
                // Another replica's events are seen on the next poll, at most a second later.
                signal.wait(Math.max(1, Math.min(Duration.ofNanos(left).toMillis(), 1000)));
            }
        }
    }

    long lastId(String namespace) {
        return db.jdbi().withHandle(h -> h.createQuery("SELECT COALESCE(MAX(id), 0) FROM registry_event WHERE namespace = ?").bind(0, namespace)
                .mapTo(Long.class).one());
    }

    /** A webhook receiving the events of {@code types} from now on. */
    Webhook addWebhook(String namespace, String url, String secret, Set<String> types) {
        long now = clock.millis();
        long from = lastId(namespace);
        var joined = String.join(",", types);
        long id = db.jdbi().withHandle(h -> h.createUpdate("INSERT INTO registry_webhook (namespace, url, secret, types, delivered_id, failures, create_time)"
                + " VALUES (?, ?, ?, ?, ?, 0, ?)").bind(0, namespace).bind(1, url).bind(2, seal(namespace, url, secret)).bind(3, joined).bind(4, from).bind(5, now)
                .executeAndReturnGeneratedKeys("id").mapTo(Long.class).one());
        synchronized (signal) {
            signal.notifyAll();
        }
        return new Webhook(id, namespace, url, "", types, from, 0, null, now);
    }

    List<Webhook> webhooks(String namespace) {
        return db.jdbi().withHandle(h -> {
            var q = h.createQuery("SELECT id, namespace, url, secret, types, delivered_id, failures, last_error, create_time FROM registry_webhook"
                    + (namespace == null ? "" : " WHERE namespace = ?") + " ORDER BY id");
            if (namespace != null) q.bind(0, namespace);
            return q.map((rs, ctx) -> new Webhook(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        new LinkedHashSet<>(Arrays.asList(rs.getString(5).split(","))), rs.getLong(6), rs.getLong(7), rs.getString(8), rs.getLong(9))).list();
        });
    }

    boolean deleteWebhook(String namespace, long id) {
        return db.jdbi().withHandle(h -> h.createUpdate("DELETE FROM registry_webhook WHERE namespace = ? AND id = ?").bind(0, namespace).bind(1, id).execute()) > 0;
    }

    /** Starts sending events to webhooks on a thread of its own, trying each event up to {@code maxAttempts} times. */
    synchronized void startDeliveries(int maxAttempts, Duration firstBackoff) {
        if (dispatcher != null) return;
        dispatcher = Thread.ofVirtual().name("registry-webhooks").start(() -> {
            while (!closed) {
                try {
                    boolean sent = false;
                    for (var hook : webhooks(null)) sent |= deliverNext(hook, maxAttempts, firstBackoff);
                    if (!sent) {
                        synchronized (signal) {
                            signal.wait(1000);
                        }
                    }
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    LOG.warn("registry webhook delivery failed: {}", e.toString());
                    try {
                        Thread.sleep(1000);
                    } catch (InterruptedException stop) {
                        return;
                    }
                }
            }
        });
    }

    /** Sends {@code hook} its next event, if any; whether there was one. */
    private boolean deliverNext(Webhook hook, int maxAttempts, Duration firstBackoff) throws InterruptedException {
        var next = after(hook.namespace(), hook.deliveredId(), 1, Duration.ZERO);
        if (next.isEmpty()) return false;
        var event = next.getFirst();
        String error = null;
        if (hook.types().contains(event.type())) {
            var body = write(event.json()).getBytes(StandardCharsets.UTF_8);
            var backoff = firstBackoff;
            for (int attempt = 1; attempt <= maxAttempts && !closed; attempt++) {
                error = send(hook, event, body);
                if (error == null) break;
                if (attempt < maxAttempts) {
                    Thread.sleep(backoff.toMillis());
                    backoff = backoff.multipliedBy(2);
                }
            }
            if (closed && error != null) return false;
            if (error != null) LOG.warn("webhook {} ({}) gave up on event {} after {} attempts: {}", hook.id(), hook.url(), event.id(), maxAttempts, error);
        }
        var failed = error;
        db.jdbi().useHandle(h -> h.createUpdate("UPDATE registry_webhook SET delivered_id = ?, failures = failures + ?, last_error = COALESCE(?, last_error)"
                + " WHERE id = ? AND delivered_id = ?").bind(0, event.id()).bind(1, failed == null ? 0 : 1)
                .bind(2, failed == null ? (String) null : failed.length() > 1000 ? failed.substring(0, 1000) : failed).bind(3, hook.id()).bind(4, hook.deliveredId())
                .execute());
        return true;
    }

    /** One attempt: null on a 2xx answer, else what went wrong. */
    private String send(Webhook hook, Event event, byte[] body) {
        String secret;
        try {
            secret = open(hook.namespace(), hook.url(), hook.storedSecret());
        } catch (io.capstan.core.PermanentFailureException e) {
            return "event " + event.id() + ": " + e.getMessage();
        }
        try {
            var request = HttpRequest.newBuilder(URI.create(hook.url())).timeout(Duration.ofSeconds(10))
                    .header("Content-Type", "application/json").header(EVENT_HEADER, event.type()).header(DELIVERY_HEADER, Long.toString(event.id()))
                    .header(SIGNATURE_HEADER, "sha256=" + sign(secret, body)).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
            var response = http.send(request, HttpResponse.BodyHandlers.discarding());
            return response.statusCode() / 100 == 2 ? null : "event " + event.id() + ": the receiver answered " + response.statusCode();
        } catch (java.io.IOException e) {
            return "event " + event.id() + ": " + e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    static String sign(String secret, byte[] body) {
        try {
            var mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal(body));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        closed = true;
        BackgroundThreads.stop(dispatcher);
    }

    private static String write(ObjectNode body) {
        try {
            return Json.json().writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ObjectNode read(String text) {
        try {
            return (ObjectNode) Json.json().readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("registry_event holds a body that is not JSON", e);
        }
    }
}
