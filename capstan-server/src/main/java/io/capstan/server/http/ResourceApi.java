package io.capstan.server.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import io.capstan.core.Names;
import io.capstan.core.NotFoundException;
import io.capstan.core.Resource;
import io.capstan.core.SecretRedaction;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceKind;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import io.capstan.core.security.Role;
import io.capstan.security.TenancyKinds;
import io.capstan.store.LabelSelector;
import io.capstan.store.ListQuery;
import io.capstan.store.ResourceStore;
import io.capstan.store.WatchEvent;
import io.capstan.store.WatchQuery;
import io.helidon.http.Status;
import io.helidon.http.sse.SseEvent;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.helidon.webserver.sse.SseSink;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The generic resource API, Kubernetes-style: {@code /apis/capstan/v1/namespaces/{ns}/{plural}[/{name}]} for
 * create, get, list, update, delete and watch (Server-Sent Events), plus {@code /apply} for many documents of any
 * kind at once.
 *
 * <p>Each route asks {@link Access}: reads (get, list, watch) need view in the namespace, writes need edit, a
 * RoleBinding write needs admin there, and a Profile write needs the server admin. Listing or watching all namespaces
 * answers only what the caller may view. A Secret's values show only in a GET by those who may edit its namespace;
 * viewers, lists, watches and apply results see its keys with each value replaced by {@link SecretRedaction#REDACTED}.
 */
public final class ResourceApi implements HttpService {
    static final Duration WATCH_POLL = Duration.ofSeconds(10);
    static final Duration WATCH_MAX = Duration.ofMinutes(30);

    private final ResourceStore store;
    private final ResourceKinds kinds;
    private final ResourceParser parser;
    private final Clock clock;
    private final Access access;
    private final Runnable accessChanged;

    /**
     * @param accessChanged called after a Profile or RoleBinding was written here, so that the access decision
     *                      sees it before the next request
     */
    public ResourceApi(ResourceStore store, ResourceKinds kinds, Clock clock, Access access, Runnable accessChanged) {
        this.store = store;
        this.kinds = kinds;
        this.parser = new ResourceParser(kinds);
        this.clock = clock;
        this.access = java.util.Objects.requireNonNull(access, "access");
        this.accessChanged = java.util.Objects.requireNonNull(accessChanged, "accessChanged");
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/kinds", this::listKinds)
                .post("/apply", this::apply)
                .get("/namespaces/{ns}/{plural}", this::listOrWatch)
                .post("/namespaces/{ns}/{plural}", this::create)
                .get("/namespaces/{ns}/{plural}/{name}", this::get)
                .put("/namespaces/{ns}/{plural}/{name}", this::update)
                .delete("/namespaces/{ns}/{plural}/{name}", this::delete)
                .get("/{plural}", this::listOrWatch);
    }

    private void listKinds(ServerRequest req, ServerResponse res) {
        var items = kinds.all().stream().map(k -> Map.of(
                "kind", k.kind(), "apiVersion", k.apiVersion(), "plural", k.plural(), "shortNames", k.shortNames())).toList();
        Bodies.send(req, res, Status.OK_200, Map.of("items", items));
    }

    private void apply(ServerRequest req, ServerResponse res) {
        var namespace = req.query().first("namespace").orElse(io.capstan.core.ObjectMeta.DEFAULT_NAMESPACE);
        var resources = parser.parse(source(req), Bodies.text(req), namespace).stream()
                .map(r -> TenancyKinds.placed(r, Optional.empty())).toList();
        // Every document is authorised before any is written, so that a refused apply changes nothing.
        resources.forEach(r -> requireWrite(req, r.kind(), r.metadata().namespace()));
        var items = new ArrayList<Resource>();
        var results = new ArrayList<Map<String, String>>();
        for (var r : resources) {
            var existing = store.find(r.key());
            String action;
            Resource stored;
            if (existing.isEmpty()) {
                stored = store.create(r);
                action = "created";
            } else if (sameDesiredState(existing.get(), r)) {
                stored = existing.get();
                action = "unchanged";
            } else {
                stored = store.apply(r);
                action = "configured";
            }
            items.add(SecretRedaction.redact(stored));
            results.add(Map.of("kind", r.kind(), "namespace", r.metadata().namespace(), "name", r.metadata().name(), "action", action));
        }
        if (resources.stream().anyMatch(r -> governsAccess(r.kind()))) accessChanged.run();
        Bodies.send(req, res, Status.OK_200, Map.of("items", items, "results", results));
    }

    private static boolean sameDesiredState(Resource stored, Resource desired) {
        return stored.spec().equals(desired.spec())
                && stored.metadata().labels().equals(desired.metadata().labels())
                && stored.metadata().annotations().equals(desired.metadata().annotations());
    }

    private void create(ServerRequest req, ServerResponse res) {
        var kind = kind(req);
        var ns = namespace(req);
        requireWrite(req, kind.kind(), ns);
        var resource = TenancyKinds.placed(parser.parseOne(source(req), Bodies.text(req), ns), Optional.of(ns));
        checkMatches(resource, kind, ns, Optional.empty());
        var created = store.create(resource);
        if (governsAccess(kind.kind())) accessChanged.run();
        Bodies.send(req, res, Status.CREATED_201, created);
    }

    private void update(ServerRequest req, ServerResponse res) {
        var kind = kind(req);
        var ns = namespace(req);
        var name = req.path().pathParameters().get("name");
        requireWrite(req, kind.kind(), ns);
        var text = Bodies.text(req);
        var resource = TenancyKinds.placed(parser.parseOne(source(req), text, ns), Optional.of(ns));
        checkMatches(resource, kind, ns, Optional.of(name));
        var version = resourceVersionOf(text);
        var updated = store.update(resource.withMetadata(resource.metadata().withResourceVersion(version)));
        if (governsAccess(kind.kind())) accessChanged.run();
        Bodies.send(req, res, Status.OK_200, updated);
    }

    private void get(ServerRequest req, ServerResponse res) {
        var key = key(req);
        access.require(req, key.namespace(), Role.VIEW);
        Bodies.send(req, res, Status.OK_200, shown(req, store.get(key)));
    }

    private void delete(ServerRequest req, ServerResponse res) {
        var key = key(req);
        requireWrite(req, key.kind(), key.namespace());
        var deleted = store.delete(key).orElseThrow(() -> new NotFoundException(key + " not found"));
        if (governsAccess(key.kind())) accessChanged.run();
        Bodies.send(req, res, Status.OK_200, deleted);
    }

    /** Edit for most kinds; admin for a RoleBinding, which grants access; the server admin for a Profile. */
    private void requireWrite(ServerRequest req, String kind, String namespace) {
        switch (kind) {
            case TenancyKinds.PROFILE -> Access.requireServerAdmin(req, "create, change or delete Profiles");
            case TenancyKinds.ROLE_BINDING -> access.require(req, namespace, Role.ADMIN);
            default -> access.require(req, namespace, Role.EDIT);
        }
    }

    private static boolean governsAccess(String kind) {
        return kind.equals(TenancyKinds.PROFILE) || kind.equals(TenancyKinds.ROLE_BINDING);
    }

    /** One resource as this caller may read it: a Secret's values only for those who may edit its namespace. */
    private Resource shown(ServerRequest req, Resource r) {
        return SecretRedaction.forCaller(access.allows(req, r.metadata().namespace(), Role.EDIT)).apply(r);
    }

    private void listOrWatch(ServerRequest req, ServerResponse res) {
        var kind = kind(req);
        var ns = req.path().pathParameters().first("ns").map(n -> checkNamespace(n));
        ns.ifPresent(n -> access.require(req, n, Role.VIEW));
        var selector = LabelSelector.parse(req.query().first("labelSelector").orElse(""));
        if (req.query().first("watch").map(Boolean::parseBoolean).orElse(false)) {
            watch(req, res, new WatchQuery(Optional.of(kind.kind()), ns, selector));
            return;
        }
        int limit = QueryParams.intParam(req, "limit", ListQuery.MAX_LIMIT, 1, ListQuery.MAX_LIMIT);
        var page = store.list(new ListQuery(kind.kind(), ns, selector, limit, req.query().first("continue").filter(s -> !s.isEmpty())));
        var metadata = Json.json().createObjectNode();
        page.continueToken().ifPresent(t -> metadata.put("continue", t));
        metadata.put("resourceVersion", Long.toString(page.resourceVersion()));
        // Across all namespaces, only those the caller may view; a page may then hold fewer than limit items.
        var items = page.items().stream().filter(r -> ns.isPresent() || access.allows(req, r.metadata().namespace(), Role.VIEW))
                .map(SecretRedaction::redact).toList();
        Bodies.send(req, res, Status.OK_200, Map.of("apiVersion", "v1", "kind", "List", "metadata", metadata, "items", items));
    }

    private void watch(ServerRequest req, ServerResponse res, WatchQuery query) {
        long after = req.query().first("resourceVersion").filter(s -> !s.isEmpty()).map(v -> parseVersion(v)).orElseGet(store::currentVersion);
        var deadline = clock.instant().plus(WATCH_MAX);
        try (var sink = res.sink(SseSink.TYPE)) {
            sink.emit(SseEvent.builder().comment("watching from resourceVersion " + after).build());
            while (clock.instant().isBefore(deadline)) {
                List<WatchEvent> events = store.changes(query, after, 100, WATCH_POLL);
                for (var e : events) {
                    after = e.resourceVersion();
                    // Asked per event, so that a watch across namespaces shows only viewable ones, and access withdrawn
                    // while watching stops the events at once.
                    if (!access.allows(req, e.resource().metadata().namespace(), Role.VIEW)) continue;
                    var body = Json.json().createObjectNode();
                    body.put("type", e.type().name());
                    body.set("object", Json.json().valueToTree(SecretRedaction.redact(e.resource())));
                    sink.emit(SseEvent.builder().name(e.type().name()).id(Long.toString(e.resourceVersion())).data(body.toString()).build());
                }
                if (events.isEmpty()) sink.emit(SseEvent.builder().comment("heartbeat").build());
            }
        } catch (UncheckedIOException e) {
            // The client went away; a watch ends with its connection.
        }
    }

    private ResourceKind kind(ServerRequest req) {
        var plural = req.path().pathParameters().get("plural");
        return kinds.findByName(plural).orElseThrow(() -> new NotFoundException(
                "unknown resource type '" + Names.printable(plural) + "'; known types: " + String.join(", ", kinds.plurals())));
    }

    private static String namespace(ServerRequest req) {
        return checkNamespace(req.path().pathParameters().get("ns"));
    }

    private static String checkNamespace(String ns) {
        Names.checkLabel(ns).ifPresent(m -> {
            throw InvalidSpecException.of("metadata.namespace", "namespace " + m);
        });
        return ns;
    }

    private ResourceKey key(ServerRequest req) {
        var name = req.path().pathParameters().get("name");
        Names.checkSubdomain(name).ifPresent(m -> {
            throw InvalidSpecException.of("metadata.name", "name " + m);
        });
        return new ResourceKey(kind(req).kind(), namespace(req), name);
    }

    private static void checkMatches(Resource resource, ResourceKind kind, String ns, Optional<String> name) {
        if (!resource.kind().equals(kind.kind())) {
            throw InvalidSpecException.of("kind", "the body is a " + resource.kind() + " but the URL is for " + kind.plural());
        }
        if (!resource.metadata().namespace().equals(ns)) {
            throw InvalidSpecException.of("metadata.namespace", "the body names namespace '" + resource.metadata().namespace()
                    + "' but the URL names '" + ns + "'");
        }
        if (name.isPresent() && !resource.metadata().name().equals(name.get())) {
            throw InvalidSpecException.of("metadata.name", "the body names '" + resource.metadata().name() + "' but the URL names '" + name.get() + "'");
        }
    }

    /** The resourceVersion the client sent, which the parser ignores as server-assigned, for optimistic concurrency. */
    private static String resourceVersionOf(String text) {
        try {
            var tree = text.stripLeading().startsWith("{") ? Json.json().readTree(text) : Json.yaml().readTree(text);
            var v = tree.path("metadata").path("resourceVersion");
            return v.isValueNode() ? v.asText() : "";
        } catch (java.io.IOException e) {
            return "";
        }
    }

    private static long parseVersion(String v) {
        try {
            long version = Long.parseLong(v);
            if (version < 0) throw new NumberFormatException();
            return version;
        } catch (NumberFormatException e) {
            throw InvalidSpecException.of("resourceVersion", "resourceVersion must be a non-negative integer, got '" + Names.printable(v) + "'");
        }
    }

    /** The name errors give the input: the client's file name when it sent one, else "request". */
    private static String source(ServerRequest req) {
        return req.query().first("source").filter(s -> !s.isBlank())
                .map(s -> Names.printable(s.length() > 200 ? s.substring(s.length() - 200) : s))
                .orElse("request");
    }

}
