package io.capstan.notebooks;

import java.net.http.HttpClient;
import java.time.Instant;
import java.util.Optional;

/**
 * code-server's {@code GET /healthz}: {@code {"status": "alive"|"expired", "lastHeartbeat": <epoch ms>}}. The heartbeat
 * is code-server's own activity record (every request but {@code /healthz}, and once a minute while a browser's
 * WebSocket is open), so asking is no activity; 0 means nothing has reached the server yet.
 */
final class CodeServerApi implements ServerProbe {
    private final HttpClient http;

    CodeServerApi(HttpClient http) {
        this.http = http;
    }

    @Override
    public Optional<Status> status(Upstream upstream) {
        return JupyterApi.getJson(http, upstream, "healthz").map(n -> new Status(Instant.ofEpochMilli(n.path("lastHeartbeat").asLong(0)), 0, 0));
    }
}
