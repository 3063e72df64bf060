package io.capstan.registry;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/**
 * A plain HTTP client for the registry's API, which checks every answer against the OpenAPI spec: its status must be
 * one the operation declares and its body must conform to the declared schema.
 */
final class RegistryClient {
    record Reply(int status, JsonNode body) {
        String id() {
            return body.path("id").asText();
        }
    }

    private final HttpClient http = HttpClient.newHttpClient();
    private final String base;
    private final RegistrySpec spec;
    private final String token;

    RegistryClient(String base, RegistrySpec spec, String token) {
        this.base = base;
        this.spec = spec;
        this.token = token;
    }

    Reply get(String path) {
        return send("GET", path, null);
    }

    Reply post(String path, String json) {
        return send("POST", path, json);
    }

    Reply patch(String path, String json) {
        return send("PATCH", path, json);
    }

    /** Sends without checking against the spec, for Capstan's extensions and for statuses the spec does not list (403). */
    Reply raw(String method, String path, String json) {
        try {
            var builder = HttpRequest.newBuilder(URI.create(base + path))
                    .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json))
                    .header("Content-Type", "application/json");
            if (token != null) builder.header("Authorization", "Bearer " + token);
            var response = http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
            var body = response.body().isEmpty() ? Json.json().nullNode() : Json.json().readTree(response.body());
            return new Reply(response.statusCode(), body);
        } catch (Exception e) {
            throw new AssertionError(method + " " + path + " failed: " + e, e);
        }
    }

    Reply send(String method, String path, String json) {
        var reply = raw(method, path, json);
        var bare = ModelRegistry.BASE_PATH + (path.contains("?") ? path.substring(0, path.indexOf('?')) : path);
        try {
            assertThat(spec.problems(method, bare, reply.status(), reply.body().toString()))
                    .as("%s %s answered %s %s", method, path, reply.status(), reply.body()).isEmpty();
        } catch (AssertionError e) {
            throw e;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        return reply;
    }
}
