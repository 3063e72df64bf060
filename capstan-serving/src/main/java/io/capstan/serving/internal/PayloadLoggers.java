package io.capstan.serving.internal;

import io.capstan.serving.api.InferenceRequest;
import io.capstan.serving.api.InferenceResponse;
import io.capstan.serving.http.OipJson;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * KServe's payload logger: request and/or response payloads, sampled, sent as CloudEvents (binary
 * mode) to an http(s) URL, or appended as JSON lines to a {@code file://} path. Events wait in a
 * bounded queue and are dropped, not queued without end, when the sink falls behind.
 */
public final class PayloadLoggers implements PayloadLogger {
    private static final System.Logger LOG = System.getLogger(PayloadLoggers.class.getName());
    static final int QUEUE = 10_000;

    private record Event(String id, String type, String namespace, String model, String revision, boolean shadow, byte[] payload) {
    }

    private final String url;
    private final String mode;
    private final int samplePercent;
    private final Clock clock;
    private final ArrayBlockingQueue<Event> queue = new ArrayBlockingQueue<>(QUEUE);
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong sent = new AtomicLong();
    private final HttpClient http;
    private final Thread sender;
    private volatile boolean closed;

    /**
     * @param url http(s):// for CloudEvents, file:///path for JSON lines
     * @param mode all, request or response
     * @param samplePercent share of requests logged, 0 to 100
     */
    public PayloadLoggers(String url, String mode, int samplePercent, Clock clock) {
        this.url = url;
        this.mode = mode;
        this.samplePercent = samplePercent;
        this.clock = clock;
        this.http = url.startsWith("http") ? HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build() : null;
        this.sender = Thread.ofVirtual().name("capstan-payload-logger").start(this::drain);
    }

    public long sent() {
        return sent.get();
    }

    public long dropped() {
        return dropped.get();
    }

    @Override
    public void log(String namespace, String model, Revision revision, InferenceRequest request, InferenceResponse response, boolean shadow) {
        if (closed || ThreadLocalRandom.current().nextInt(100) >= samplePercent) return;
        var id = request.id() != null ? request.id() : UUID.randomUUID().toString();
        if (!mode.equals("response")) {
            offer(new Event(id, "org.kubeflow.serving.inference.request", namespace, model, revision.version(), shadow, OipJson.writeRequest(request)));
        }
        if (!mode.equals("request")) {
            offer(new Event(id, "org.kubeflow.serving.inference.response", namespace, model, revision.version(), shadow, OipJson.writeResponse(response)));
        }
    }

    private void offer(Event event) {
        if (!queue.offer(event)) dropped.incrementAndGet();
    }

    private void drain() {
        while (!closed || !queue.isEmpty()) {
            try {
                var event = queue.poll(100, TimeUnit.MILLISECONDS);
                if (event == null) continue;
                if (http != null) post(event);
                else append(event);
                sent.incrementAndGet();
            } catch (InterruptedException e) {
                return;
            } catch (IOException | RuntimeException e) {
                dropped.incrementAndGet();
                LOG.log(System.Logger.Level.DEBUG, "payload log to " + url + " failed: " + e.getMessage());
            }
        }
    }

    private void post(Event event) throws IOException, InterruptedException {
        var request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .header("ce-specversion", "1.0")
                .header("ce-id", event.id())
                .header("ce-type", event.type())
                .header("ce-source", "http://capstan/serving/" + event.namespace() + "/" + event.model())
                .header("ce-time", clock.instant().toString())
                .header("ce-inferenceservicename", event.model())
                .header("ce-namespace", event.namespace())
                .header("ce-component", event.shadow() ? "shadow" : "predictor")
                .header("ce-revision", event.revision())
                .POST(HttpRequest.BodyPublishers.ofByteArray(event.payload())).build();
        var response = http.send(request, HttpResponse.BodyHandlers.discarding());
        if (response.statusCode() >= 300) throw new IOException("logger URL answered HTTP " + response.statusCode());
    }

    private void append(Event event) throws IOException {
        var path = Path.of(URI.create(url));
        var line = "{\"id\":\"" + event.id() + "\",\"type\":\"" + event.type() + "\",\"time\":\"" + clock.instant()
                + "\",\"namespace\":\"" + event.namespace() + "\",\"model\":\"" + event.model() + "\",\"revision\":\""
                + event.revision() + "\",\"shadow\":" + event.shadow() + ",\"data\":"
                + new String(event.payload(), StandardCharsets.UTF_8) + "}\n";
        if (path.getParent() != null) Files.createDirectories(path.getParent());
        Files.writeString(path, line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    @Override
    public void close() {
        closed = true;
        try {
            sender.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
