package io.capstan.notebooks;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the controller asks a Jupyter server, with its token: {@code /api/status} (is it up, and its last activity)
 * and {@code /api/kernels} (each kernel's state and last activity), as Kubeflow's culler does.
 */
final class JupyterApi implements ServerProbe {
    static final Duration TIMEOUT = Duration.ofSeconds(3);

    record Kernel(String id, String executionState, Instant lastActivity) {
        boolean isBusy() {
            return executionState.equals("busy");
        }
    }

    private final HttpClient http;

    JupyterApi(HttpClient http) {
        this.http = http;
    }

    /** {@code /api/status}: when the server last saw activity, and how many kernels it runs. */
    @Override
    public Optional<Status> status(Upstream upstream) {
        return get(upstream, "api/status").map(n -> new Status(instant(n.path("last_activity")).orElse(Instant.EPOCH),
                n.path("kernels").asInt(0), n.path("connections").asInt(0)));
    }

    /** The kernels; listing them counts as activity in Jupyter, so the culler asks only when about to cull. */
    List<Kernel> kernels(Upstream upstream) {
        var out = new ArrayList<Kernel>();
        get(upstream, "api/kernels").ifPresent(n -> n.forEach(k -> out.add(new Kernel(k.path("id").asText(),
                k.path("execution_state").asText(""), instant(k.path("last_activity")).orElse(Instant.EPOCH)))));
        return out;
    }

    private Optional<JsonNode> get(Upstream upstream, String path) {
        return getJson(http, upstream, path);
    }

    /** {@code path} under the server's base URL as JSON, with the server's token if it has one; empty unless it answers 200. */
    static Optional<JsonNode> getJson(HttpClient http, Upstream upstream, String path) {
        var builder = HttpRequest.newBuilder(URI.create(upstream.httpBase() + path)).timeout(TIMEOUT).GET();
        if (!upstream.token().isEmpty()) builder.header("Authorization", "token " + upstream.token());
        var request = builder.build();
        try {
            var response = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) return Optional.empty();
            return Optional.of(Json.json().readTree(response.body()));
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new io.capstan.core.TransientException("interrupted while asking notebook server " + upstream.httpBase(), e);
        }
    }

    private static Optional<Instant> instant(JsonNode node) {
        if (!node.isTextual()) return Optional.empty();
        try {
            return Optional.of(Instant.parse(node.asText()));
        } catch (java.time.format.DateTimeParseException e) {
            try {
                return Optional.of(java.time.OffsetDateTime.parse(node.asText()).toInstant());
            } catch (java.time.format.DateTimeParseException e2) {
                return Optional.empty();
            }
        }
    }
}
