package io.capstan.server;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small OpenID Connect provider for tests, over real HTTP: a discovery document, a JWKS with a real RSA key, an
 * authorization endpoint that signs the configured user in at once and redirects back with a code, and a token
 * endpoint that checks the code (once only), the redirect URI, the client id and the PKCE verifier (S256) and answers
 * with an RS256-signed ID token. {@link #mode} makes it misbehave as a hostile or broken provider would.
 */
final class TestOidcProvider implements AutoCloseable {
    enum Mode { GOOD, BAD_SIGNATURE, WRONG_AUDIENCE, EXPIRED, WRONG_NONCE }

    private record Grant(String clientId, String redirectUri, String challenge, String nonce) {
    }

    final String clientId;
    final String issuer;
    volatile String user = "alice@example.com";
    volatile Mode mode = Mode.GOOD;
    final AtomicInteger tokenRequests = new AtomicInteger();
    private final RSAKey key;
    private final RSAKey otherKey;
    private final HttpServer http;
    private final Map<String, Grant> codes = new ConcurrentHashMap<>();

    TestOidcProvider(String clientId) throws Exception {
        this.clientId = clientId;
        key = new RSAKeyGenerator(2048).keyID("k1").generate();
        // Same key id, another key: a token signed with it carries a signature the published key does not verify.
        otherKey = new RSAKeyGenerator(2048).keyID("k1").generate();
        http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        issuer = "http://127.0.0.1:" + http.getAddress().getPort() + "/dex";
        http.createContext("/dex/.well-known/openid-configuration", ex -> send(ex, 200, "application/json", """
                {"issuer":"%1$s","authorization_endpoint":"%1$s/auth","token_endpoint":"%1$s/token","jwks_uri":"%1$s/keys",
                 "response_types_supported":["code"],"subject_types_supported":["public"],
                 "id_token_signing_alg_values_supported":["RS256"],"code_challenge_methods_supported":["S256"]}
                """.formatted(issuer)));
        http.createContext("/dex/keys", ex -> send(ex, 200, "application/json", new JWKSet(key.toPublicJWK()).toString(true)));
        http.createContext("/dex/auth", this::authorize);
        http.createContext("/dex/token", this::token);
        http.start();
    }

    URI authorizationEndpoint() {
        return URI.create(issuer + "/auth");
    }

    private void authorize(HttpExchange ex) throws IOException {
        var q = query(ex.getRequestURI().getRawQuery());
        if (!"code".equals(q.get("response_type")) || !clientId.equals(q.get("client_id")) || q.get("redirect_uri") == null
                || !"S256".equals(q.get("code_challenge_method")) || q.get("code_challenge") == null || q.get("state") == null
                || !q.getOrDefault("scope", "").contains("openid")) {
            send(ex, 400, "text/plain", "bad authorization request: " + q);
            return;
        }
        var code = UUID.randomUUID().toString();
        codes.put(code, new Grant(q.get("client_id"), q.get("redirect_uri"), q.get("code_challenge"), q.get("nonce")));
        ex.getResponseHeaders().add("Location", q.get("redirect_uri") + "?code=" + enc(code) + "&state=" + enc(q.get("state")));
        ex.sendResponseHeaders(302, -1);
        ex.close();
    }

    private void token(HttpExchange ex) throws IOException {
        tokenRequests.incrementAndGet();
        var form = query(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
        var grant = codes.remove(form.getOrDefault("code", ""));
        if (grant == null) {
            send(ex, 400, "application/json", "{\"error\":\"invalid_grant\",\"error_description\":\"unknown or already used code\"}");
            return;
        }
        if (!"authorization_code".equals(form.get("grant_type")) || !grant.redirectUri().equals(form.get("redirect_uri"))
                || !grant.clientId().equals(form.get("client_id")) || !grant.challenge().equals(s256(form.getOrDefault("code_verifier", "")))) {
            send(ex, 400, "application/json", "{\"error\":\"invalid_grant\",\"error_description\":\"the code verifier, client or redirect URI does not match\"}");
            return;
        }
        try {
            var now = Instant.now();
            var claims = new JWTClaimsSet.Builder().issuer(issuer).subject("sub-" + user).claim("email", user)
                    .audience(mode == Mode.WRONG_AUDIENCE ? "another-client" : clientId)
                    .issueTime(Date.from(mode == Mode.EXPIRED ? now.minusSeconds(7200) : now))
                    .expirationTime(Date.from(mode == Mode.EXPIRED ? now.minusSeconds(3600) : now.plusSeconds(600)))
                    .claim("nonce", mode == Mode.WRONG_NONCE ? "not-the-nonce" : grant.nonce()).build();
            var jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("k1").build(), claims);
            jwt.sign(new RSASSASigner(mode == Mode.BAD_SIGNATURE ? otherKey : key));
            send(ex, 200, "application/json", "{\"access_token\":\"at-" + UUID.randomUUID() + "\",\"token_type\":\"Bearer\",\"expires_in\":600,"
                    + "\"id_token\":\"" + jwt.serialize() + "\"}");
        } catch (com.nimbusds.jose.JOSEException e) {
            throw new IOException(e);
        }
    }

    static String s256(String verifier) {
        try {
            var digest = MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static Map<String, String> query(String raw) {
        var out = new HashMap<String, String>();
        if (raw == null) return out;
        for (var pair : raw.split("&")) {
            if (pair.isEmpty()) continue;
            int eq = pair.indexOf('=');
            out.put(URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8),
                    eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return out;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static void send(HttpExchange ex, int status, String type, String body) throws IOException {
        var bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", type);
        ex.sendResponseHeaders(status, bytes.length);
        ex.getResponseBody().write(bytes);
        ex.close();
    }

    @Override
    public void close() {
        http.stop(0);
    }
}
