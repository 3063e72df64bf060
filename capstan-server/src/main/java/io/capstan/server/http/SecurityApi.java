package io.capstan.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import io.capstan.core.Names;
import io.capstan.core.NotFoundException;
import io.capstan.core.security.AccessDeniedException;
import io.capstan.core.security.Caller;
import io.capstan.security.AuditLog;
import io.capstan.security.Lifetimes;
import io.capstan.security.TokenStore;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Users' API tokens and the audit log, under {@code /apis/capstan/v1}:
 * <ul>
 * <li>{@code GET /tokens[?user=U]}, {@code POST /tokens} with {@code {"user", "expires", "description"}} and
 *     {@code DELETE /tokens/{id}}: the server admin manages everyone's tokens, a user only their own. A new token's
 *     text is in the answer to its POST and nowhere else.</li>
 * <li>{@code GET /audit[?user=U][&since=1h|RFC 3339][&limit=N][&continue=C]}: the server admin only; newest first.</li>
 * </ul>
 * Workload tokens reach none of these (the authentication filter keeps them to their own route).
 */
public final class SecurityApi implements HttpService {
    private static final Pattern TOKEN_ID = Pattern.compile("[0-9a-f]{16}");
    private static final int DEFAULT_AUDIT_PAGE = 100;

    private final TokenStore tokens;
    private final AuditLog audit;
    private final Clock clock;

    public SecurityApi(TokenStore tokens, AuditLog audit, Clock clock) {
        this.tokens = tokens;
        this.audit = audit;
        this.clock = clock;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/tokens", this::listTokens)
                .post("/tokens", this::createToken)
                .get("/tokens/{id}", this::getToken)
                .delete("/tokens/{id}", this::revokeToken)
                .get("/audit", this::listAudit);
    }

    private static Caller caller(ServerRequest req) {
        var caller = req.context().get(Caller.class).orElseThrow(() -> new AccessDeniedException("no caller"));
        if (caller.kind() == Caller.Kind.WORKLOAD) throw new AccessDeniedException("a workload's token cannot manage tokens");
        return caller;
    }

    private void listTokens(ServerRequest req, ServerResponse res) {
        var caller = caller(req);
        var user = req.query().first("user").filter(s -> !s.isEmpty());
        if (!caller.isServerAdmin()) {
            if (user.isPresent() && !user.get().equals(caller.user())) {
                throw new AccessDeniedException("only the server admin may list another user's tokens");
            }
            user = Optional.of(caller.user());
        }
        var items = Json.json().createArrayNode();
        tokens.list(user, false).forEach(t -> items.add(info(t)));
        var body = Json.json().createObjectNode();
        body.set("items", items);
        Bodies.send(req, res, Status.OK_200, body);
    }

    private void createToken(ServerRequest req, ServerResponse res) {
        var caller = caller(req);
        JsonNode body;
        try {
            body = Json.json().readTree(Bodies.text(req));
        } catch (IOException e) {
            throw InvalidSpecException.of("", "the body is not a JSON object: " + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()));
        }
        if (body == null || !body.isObject()) throw InvalidSpecException.of("", "the body must be a JSON object such as {\"user\": \"alice@example.com\", \"expires\": \"30d\"}");
        var fields = body.fieldNames();
        while (fields.hasNext()) {
            var f = fields.next();
            if (!f.equals("user") && !f.equals("expires") && !f.equals("description")) {
                throw InvalidSpecException.of(f, "unknown field '" + Names.printable(f) + "'; a token takes user, expires and description");
            }
        }
        var user = text(body, "user").orElse(caller.isServerAdmin() ? null : caller.user());
        if (user == null) throw InvalidSpecException.of("user", "user is required: the person the token is for, such as alice@example.com");
        if (!caller.isServerAdmin() && !user.equals(caller.user())) {
            throw new AccessDeniedException("only the server admin may make a token for another user");
        }
        var ttl = text(body, "expires").map(e -> Lifetimes.parse("expires", e));
        var description = text(body, "description").orElse("");
        if (description.length() > TokenStore.MAX_DESCRIPTION) {
            throw InvalidSpecException.of("description", "a description is at most " + TokenStore.MAX_DESCRIPTION + " characters, got " + description.length());
        }
        if (description.codePoints().anyMatch(c -> Character.isISOControl(c) && c != '\n' && c != '\t' || Character.getType(c) == Character.FORMAT)) {
            throw InvalidSpecException.of("description", "a description must not hold control or format characters");
        }
        var issued = tokens.createUserToken(user, ttl, description);
        var answer = info(issued.info());
        answer.put("token", issued.token());
        Bodies.send(req, res, Status.CREATED_201, answer);
    }

    private static Optional<String> text(JsonNode body, String field) {
        var node = body.get(field);
        if (node == null || node.isNull()) return Optional.empty();
        if (!node.isTextual()) throw InvalidSpecException.of(field, field + " must be a string");
        return Optional.of(node.asText());
    }

    private void getToken(ServerRequest req, ServerResponse res) {
        Bodies.send(req, res, Status.OK_200, info(owned(req)));
    }

    private void revokeToken(ServerRequest req, ServerResponse res) {
        var token = owned(req);
        tokens.revoke(token.id());
        Bodies.send(req, res, Status.OK_200, info(tokens.get(token.id()).orElse(token)));
    }

    /** The token the path names, if the caller may see it; another user's token is as unknown as a missing one. */
    private TokenStore.TokenInfo owned(ServerRequest req) {
        var caller = caller(req);
        var id = req.path().pathParameters().get("id");
        if (!TOKEN_ID.matcher(id).matches()) {
            throw InvalidSpecException.of("id", "a token id is 16 hexadecimal digits, as 'capstan tokens list' shows, got '" + Names.printable(id) + "'");
        }
        return tokens.get(id)
                .filter(t -> t.kind() == Caller.Kind.USER)
                .filter(t -> caller.isServerAdmin() || t.user().equals(caller.user()))
                .orElseThrow(() -> new NotFoundException("no token with id " + id));
    }

    private ObjectNode info(TokenStore.TokenInfo t) {
        var node = Json.json().createObjectNode();
        node.put("id", t.id());
        node.put("user", t.user());
        node.put("description", t.description());
        node.put("createdAt", t.createdAt().toString());
        t.expiresAt().ifPresent(e -> node.put("expiresAt", e.toString()));
        t.revokedAt().ifPresent(r -> node.put("revokedAt", r.toString()));
        node.put("active", t.activeAt(clock.instant()));
        return node;
    }

    private void listAudit(ServerRequest req, ServerResponse res) {
        var caller = caller(req);
        if (!caller.isServerAdmin()) throw new AccessDeniedException("only the server admin may read the audit log");
        var user = req.query().first("user").filter(s -> !s.isEmpty());
        var since = req.query().first("since").filter(s -> !s.isEmpty()).map(this::since);
        int limit = QueryParams.intParam(req, "limit", DEFAULT_AUDIT_PAGE, 1, AuditLog.MAX_PAGE);
        var before = req.query().first("continue").filter(s -> !s.isEmpty()).map(c -> {
            try {
                return Long.parseLong(c);
            } catch (NumberFormatException e) {
                throw InvalidSpecException.of("continue", "continue must be the value a previous page returned, got '" + Names.printable(c) + "'");
            }
        });
        var page = audit.list(user, since, before, limit);
        var body = Json.json().createObjectNode();
        var items = body.putArray("items");
        for (var e : page.entries()) {
            var item = items.addObject();
            item.put("time", e.at().toString());
            item.put("user", e.user());
            item.put("verb", e.verb());
            item.put("method", e.method());
            item.put("path", e.path());
            item.put("namespace", e.namespace());
            item.put("resource", e.resource());
            item.put("name", e.name());
            item.put("status", e.status());
            item.put("outcome", e.outcome());
            if (!e.reason().isEmpty()) item.put("reason", e.reason());
        }
        var metadata = body.putObject("metadata");
        page.next().ifPresent(n -> metadata.put("continue", Long.toString(n)));
        Bodies.send(req, res, Status.OK_200, body);
    }

    /** A look-back such as {@code 1h}, or an RFC 3339 instant. */
    private Instant since(String text) {
        if (text.contains("T")) {
            try {
                return java.time.OffsetDateTime.parse(text).toInstant();
            } catch (DateTimeParseException e) {
                throw InvalidSpecException.of("since", "since must be a look-back such as 1h or 7d, or a time such as 2026-01-31T12:00:00Z, got '"
                        + Names.printable(text) + "'");
            }
        }
        return clock.instant().minus(Lifetimes.parse("since", text));
    }
}
