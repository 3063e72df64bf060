package io.capstan.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.capstan.core.Json;
import io.capstan.core.Names;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * A client of Capstan's REST API. Not thread-safe: each command uses its own instance from one thread, except that
 * {@link #openLog} and {@link #watch} may run on other threads once {@link #types()} has been loaded.
 *
 * <p>Every call has a deadline: connecting takes at most {@link #CONNECT_TIMEOUT}, and an ordinary request at most
 * the request timeout. Streams (logs with follow, watches) are bounded only until the response headers arrive,
 * because they are meant to last; their callers stop them.
 */
final class CapstanClient {
    static final String DEFAULT_URL = "http://127.0.0.1:8080";
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    private static final String API = "/apis/capstan/v1";
    private static final String KFP_API = "/apis/v2beta1";
    private static final int PAGE_SIZE = 500;

    private final String baseUrl;
    private final Optional<String> token;
    private final HttpClient http;
    private final Duration requestTimeout;
    private List<ResourceType> types;

    private CapstanClient(String baseUrl, Optional<String> token, Duration connectTimeout, Duration requestTimeout) {
        this.baseUrl = baseUrl;
        this.token = token;
        this.requestTimeout = requestTimeout;
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(connectTimeout)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    /** A client for {@code url}, which must be an http or https URL; the path, if any, is ignored. */
    static CapstanClient of(String url) {
        return of(url, CONNECT_TIMEOUT, REQUEST_TIMEOUT);
    }

    static CapstanClient of(String url, Duration connectTimeout, Duration requestTimeout) {
        Objects.requireNonNull(url, "url");
        URI uri;
        try {
            uri = new URI(url.strip());
        } catch (URISyntaxException e) {
            throw new UsageException("--server '" + Names.printable(url) + "' is not a URL; use one such as " + DEFAULT_URL);
        }
        var scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase();
        if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
            throw new UsageException("--server '" + Names.printable(url) + "' is not an http:// or https:// URL; use one such as " + DEFAULT_URL);
        }
        var base = scheme + "://" + uri.getRawAuthority();
        return new CapstanClient(base, Optional.empty(), connectTimeout, requestTimeout);
    }

    /** This client, sending {@code Authorization: Bearer <token>} with every request when a token is given. */
    CapstanClient withToken(Optional<String> bearer) {
        if (bearer.isPresent() && bearer.get().chars().anyMatch(c -> c < 0x21 || c > 0x7e)) {
            throw new UsageException("the token holds spaces or control characters; check --token, CAPSTAN_TOKEN or the token file");
        }
        return new CapstanClient(baseUrl, bearer, http.connectTimeout().orElse(CONNECT_TIMEOUT), requestTimeout);
    }

    /** Whether the server is on this machine, so that its admin token file may be read. */
    boolean isLocal() {
        var host = URI.create(baseUrl).getHost();
        return host.equals("127.0.0.1") || host.equals("localhost") || host.equals("[::1]") || host.equals("::1") || host.startsWith("127.");
    }

    String baseUrl() {
        return baseUrl;
    }

    /** The server's version from {@code GET /version}. */
    String serverVersion() {
        return getJson("/version", "").path("version").asText("unknown");
    }

    /** The kinds the server serves; fetched once per client. */
    List<ResourceType> types() {
        if (types == null) {
            var list = new ArrayList<ResourceType>();
            for (var item : getJson(API + "/kinds", "").path("items")) {
                var shortNames = new ArrayList<String>();
                item.path("shortNames").forEach(n -> shortNames.add(n.asText()));
                list.add(new ResourceType(item.path("kind").asText(), item.path("apiVersion").asText(),
                        item.path("plural").asText(), shortNames));
            }
            types = List.copyOf(list);
        }
        return types;
    }

    /** Resolves what a user typed (kind, plural or short name, any case) to a type the server serves. */
    ResourceType resolve(String typed) {
        for (var type : types()) {
            if (type.matches(typed)) return type;
        }
        var known = types().stream().map(ResourceType::plural).sorted().collect(Collectors.joining(", "));
        throw new UsageException("the server has no resource type '" + Names.printable(typed) + "'"
                + (known.isEmpty() ? "" : "; known types: " + known));
    }

    /**
     * Applies one or many documents.
     *
     * @param source the file name shown in field errors, or empty
     */
    JsonNode apply(byte[] body, String contentType, String namespace, String source) {
        var params = new java.util.LinkedHashMap<String, String>();
        params.put("namespace", namespace);
        if (!source.isEmpty()) params.put("source", source);
        var request = request(API + "/apply" + query(params))
                .header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .timeout(requestTimeout)
                .build();
        return json(send(request, HttpResponse.BodyHandlers.ofByteArray()), source);
    }

    JsonNode get(ResourceType type, String namespace, String name) {
        return getJson(resourcePath(type, namespace, name), "");
    }

    JsonNode delete(ResourceType type, String namespace, String name) {
        var request = request(resourcePath(type, namespace, name)).DELETE().timeout(requestTimeout).build();
        return json(send(request, HttpResponse.BodyHandlers.ofByteArray()), "");
    }

    /** A list that may have been fetched in several pages. */
    record Listing(List<JsonNode> items, String resourceVersion) {
        Listing {
            items = List.copyOf(items);
            Objects.requireNonNull(resourceVersion, "resourceVersion");
        }
    }

    /**
     * Lists resources of one type, following {@code continue} tokens until the list is complete.
     *
     * @param namespace     the namespace, or empty for all namespaces
     * @param labelSelector a label selector, or empty
     */
    Listing list(ResourceType type, Optional<String> namespace, Optional<String> labelSelector) {
        var items = new ArrayList<JsonNode>();
        String resourceVersion = "";
        String next = "";
        do {
            var params = new LinkedHashMap<String, String>();
            labelSelector.ifPresent(s -> params.put("labelSelector", s));
            params.put("limit", Integer.toString(PAGE_SIZE));
            if (!next.isEmpty()) params.put("continue", next);
            var page = getJson(collectionPath(type, namespace) + query(params), "");
            page.path("items").forEach(items::add);
            if (resourceVersion.isEmpty()) resourceVersion = page.path("metadata").path("resourceVersion").asText("");
            next = page.path("metadata").path("continue").asText("");
        } while (!next.isEmpty());
        return new Listing(items, resourceVersion);
    }

    /**
     * Watches a collection from {@code resourceVersion} on, handing each event to {@code onEvent} until it returns
     * false or the server ends the stream. Blocks the calling thread; interrupt it to stop early.
     */
    void watch(ResourceType type, Optional<String> namespace, String resourceVersion, Predicate<WatchEvent> onEvent) {
        var params = new LinkedHashMap<String, String>();
        params.put("watch", "true");
        if (!resourceVersion.isEmpty()) params.put("resourceVersion", resourceVersion);
        var request = request(collectionPath(type, namespace) + query(params))
                .header("Accept", "text/event-stream")
                .GET().timeout(requestTimeout).build();
        try (var body = stream(request, "");
             var reader = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
            var data = new StringBuilder();
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.isEmpty()) {
                    if (!data.isEmpty() && !dispatch(data.toString(), onEvent)) return;
                    data.setLength(0);
                } else if (line.startsWith("data:")) {
                    // SSE: one optional space after the colon; several data lines make one event.
                    var value = line.substring(line.startsWith("data: ") ? 6 : 5);
                    if (!data.isEmpty()) data.append('\n');
                    data.append(value);
                }
                // Comments (":" heartbeats), "event:", "id:" and "retry:" lines carry nothing we use.
            }
            if (!data.isEmpty()) dispatch(data.toString(), onEvent);
        } catch (IOException e) {
            if (Thread.currentThread().isInterrupted()) return;
            throw ServerUnreachableException.of(baseUrl, "the watch stream broke (" + describe(e) + ")", e);
        }
    }

    private static boolean dispatch(String data, Predicate<WatchEvent> onEvent) throws IOException {
        var node = Json.json().readTree(data);
        var type = WatchEvent.Type.find(node.path("type").asText(""));
        if (type.isEmpty() || !node.path("object").isObject()) return true;
        return onEvent.test(new WatchEvent(type.get(), node.path("object")));
    }

    /** How {@link #openLog} reads a log. */
    enum LogMode {
        /** What has been written so far. */
        SNAPSHOT,
        /** Keep streaming until the process ends. */
        FOLLOW
    }

    /** Opens a job's log as a stream; the caller closes it. */
    InputStream openLog(ResourceType type, String namespace, String name, OptionalInt tailLines, LogMode mode) {
        return openLog(type, namespace, name, tailLines, mode, Map.of());
    }

    /** As {@link #openLog(ResourceType, String, String, OptionalInt, LogMode)}, choosing the process with {@code select} (such as rank=3). */
    InputStream openLog(ResourceType type, String namespace, String name, OptionalInt tailLines, LogMode mode, Map<String, String> select) {
        var params = new LinkedHashMap<String, String>(select);
        tailLines.ifPresent(n -> params.put("tailLines", Integer.toString(n)));
        if (mode == LogMode.FOLLOW) params.put("follow", "true");
        var request = request(resourcePath(type, namespace, name) + "/log" + query(params))
                .GET().timeout(requestTimeout).build();
        return stream(request, "");
    }

    /** A GET on KFP's v2beta1 API, such as {@code kfpGet("/runs", Map.of("page_size", "100"))}. */
    JsonNode kfpGet(String path, Map<String, String> params) {
        return getJson(KFP_API + path + query(params), "");
    }

    /** A text stream from KFP's v2beta1 API, such as a run's logs; the caller closes it. */
    InputStream kfpStream(String path, Map<String, String> params) {
        return stream(request(KFP_API + path + query(params)).GET().timeout(requestTimeout).build(), "");
    }

    /** A POST of a JSON body (or none) on KFP's v2beta1 API. */
    JsonNode kfpPost(String path, String jsonBody) {
        var request = request(KFP_API + path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(jsonBody)).timeout(requestTimeout).build();
        return json(send(request, HttpResponse.BodyHandlers.ofByteArray()), "");
    }

    /** Uploads a compiled pipeline as KFP's client does: a multipart form with the file as {@code uploadfile}. */
    JsonNode kfpUpload(String fileName, byte[] content, Map<String, String> params) {
        var boundary = "capstan-" + java.util.UUID.randomUUID();
        var head = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"uploadfile\"; filename=\""
                + fileName.replace("\"", "") + "\"\r\nContent-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8);
        var tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
        var request = request(KFP_API + "/pipelines/upload" + query(params))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArrays(List.of(head, content, tail))).timeout(requestTimeout).build();
        return json(send(request, HttpResponse.BodyHandlers.ofByteArray()), fileName);
    }

    /** A multipart/form-data POST of text {@code fields} and {@code file} (as the part {@code file}), streamed from disk. */
    JsonNode upload(String path, Map<String, String> fields, java.nio.file.Path file) {
        var boundary = "capstan-" + java.util.UUID.randomUUID();
        var head = new StringBuilder();
        fields.forEach((k, v) -> head.append("--").append(boundary).append("\r\nContent-Disposition: form-data; name=\"").append(k).append("\"\r\n\r\n")
                .append(v).append("\r\n"));
        head.append("--").append(boundary).append("\r\nContent-Disposition: form-data; name=\"file\"; filename=\"")
                .append(file.getFileName().toString().replace("\"", "")).append("\"\r\nContent-Type: application/octet-stream\r\n\r\n");
        var tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
        HttpRequest.BodyPublisher content;
        try {
            content = HttpRequest.BodyPublishers.ofFile(file);
        } catch (java.io.FileNotFoundException e) {
            throw new UsageException("cannot read " + file + ": " + e.getMessage());
        }
        var request = request(path).header("Accept", "application/json").header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.concat(HttpRequest.BodyPublishers.ofString(head.toString()), content, HttpRequest.BodyPublishers.ofByteArray(tail)))
                .timeout(requestTimeout).build();
        return json(send(request, HttpResponse.BodyHandlers.ofByteArray()), file.getFileName().toString());
    }

    /** KFP ids and custom methods ({@code id:terminate}) as one path segment. */
    static String kfpSegment(String s) {
        return segment(s).replace("%3A", ":");
    }

    /** A GET of any JSON path on the server, such as an inference service's model metadata. */
    JsonNode getPath(String path) {
        return getJson(path, "");
    }

    /** A POST of a JSON body to any path on the server, such as an inference request. */
    JsonNode postJson(String path, byte[] body, String source) {
        var request = request(path).header("Content-Type", "application/json").header("Accept", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).timeout(requestTimeout).build();
        return json(send(request, HttpResponse.BodyHandlers.ofByteArray()), source);
    }

    /** A GET of a path of Capstan's API ({@code /apis/capstan/v1} + {@code path}) with query parameters. */
    JsonNode apiGet(String path, Map<String, String> params) {
        return getJson(API + path + query(params), "");
    }

    /** A POST of a JSON body to a path of Capstan's API. */
    JsonNode apiPost(String path, String jsonBody) {
        var request = request(API + path).header("Content-Type", "application/json").header("Accept", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(jsonBody)).timeout(requestTimeout).build();
        return json(send(request, HttpResponse.BodyHandlers.ofByteArray()), "");
    }

    /** A DELETE of a path of Capstan's API, such as {@code /tokens/{id}}; {@code segments} are encoded. */
    JsonNode apiDelete(String collection, String name) {
        var request = request(API + collection + "/" + segment(name)).header("Accept", "application/json").DELETE().timeout(requestTimeout).build();
        return json(send(request, HttpResponse.BodyHandlers.ofByteArray()), "");
    }

    /**
     * A request of any method to any path of the server with a JSON body (or none); a 204 answers an empty object.
     * For the Model Registry's API, whose errors are {@code {code, message}}.
     */
    JsonNode call(String method, String path, String jsonBody) {
        var request = request(path).header("Accept", "application/json").header("Content-Type", "application/json")
                .method(method, jsonBody == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(jsonBody))
                .timeout(requestTimeout).build();
        var response = send(request, HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() == 204) return Json.json().createObjectNode();
        return json(response, "");
    }

    /** Whether {@code GET /readyz} answers 200. */
    boolean isReady() {
        var request = request("/readyz").GET().timeout(requestTimeout).build();
        return send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
    }

    private JsonNode getJson(String path, String source) {
        var request = request(path).header("Accept", "application/json").GET().timeout(requestTimeout).build();
        return json(send(request, HttpResponse.BodyHandlers.ofByteArray()), source);
    }

    private InputStream stream(HttpRequest request, String source) {
        var response = send(request, HttpResponse.BodyHandlers.ofInputStream());
        if (response.statusCode() / 100 == 2) return response.body();
        try (var body = response.body()) {
            throw ApiException.of(response.statusCode(), body.readNBytes(64 * 1024), source);
        } catch (IOException e) {
            throw ServerUnreachableException.of(baseUrl, "the connection broke (" + describe(e) + ")", e);
        }
    }

    private JsonNode json(HttpResponse<byte[]> response, String source) {
        if (response.statusCode() / 100 != 2) throw ApiException.of(response.statusCode(), response.body(), source);
        try {
            return Json.json().readTree(response.body());
        } catch (IOException e) {
            throw new CommandFailedException("the server at " + baseUrl + " answered " + response.request().uri().getPath()
                    + " with something that is not JSON; is it a Capstan server?", e);
        }
    }

    private <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
        try {
            return http.send(request, handler);
        } catch (HttpConnectTimeoutException e) {
            throw ServerUnreachableException.of(baseUrl, "no connection within " + seconds(CONNECT_TIMEOUT), e);
        } catch (HttpTimeoutException e) {
            throw ServerUnreachableException.of(baseUrl, "no answer within " + seconds(requestTimeout), e);
        } catch (IOException e) {
            throw ServerUnreachableException.of(baseUrl, describe(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CommandFailedException("interrupted while waiting for the server at " + baseUrl, e);
        }
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : String.format(java.util.Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }

    /** A short, lower-case reason such as "connection refused", from an exception chain whose messages vary by JDK. */
    static String describe(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof UnresolvedAddressException || t instanceof java.net.UnknownHostException) return "unknown host";
            var m = t.getMessage();
            if (m != null && m.toLowerCase().contains("connection refused")) return "connection refused";
        }
        if (e instanceof ConnectException) return "connection refused";
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) return t.getMessage().strip().toLowerCase();
        }
        return e.getClass().getSimpleName();
    }

    private HttpRequest.Builder request(String pathAndQuery) {
        var builder = HttpRequest.newBuilder(URI.create(baseUrl + pathAndQuery)).header("User-Agent", "capstan/" + Version.client());
        token.ifPresent(t -> builder.header("Authorization", "Bearer " + t));
        return builder;
    }

    private static String collectionPath(ResourceType type, Optional<String> namespace) {
        return namespace.map(ns -> API + "/namespaces/" + segment(ns) + "/" + segment(type.plural()))
                .orElse(API + "/" + segment(type.plural()));
    }

    private static String resourcePath(ResourceType type, String namespace, String name) {
        return collectionPath(type, Optional.of(namespace)) + "/" + segment(name);
    }

    private static String segment(String s) {
        // URLEncoder is for forms: spaces become '+', which a path does not decode, so encode them as %20.
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String query(Map<String, String> params) {
        if (params.isEmpty()) return "";
        return params.entrySet().stream()
                .map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&", "?", ""));
    }

    /** Wraps raw items into the list object that {@code -o json|yaml} prints. */
    static JsonNode listObject(List<JsonNode> items, String resourceVersion) {
        var list = Json.json().createObjectNode();
        list.put("apiVersion", "capstan.io/v1");
        list.put("kind", "List");
        ArrayNode array = list.putArray("items");
        items.forEach(array::add);
        var metadata = list.putObject("metadata");
        if (!resourceVersion.isEmpty()) metadata.put("resourceVersion", resourceVersion);
        return list;
    }
}
