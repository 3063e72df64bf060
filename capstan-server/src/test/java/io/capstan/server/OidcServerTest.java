package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.capstan.security.OidcSettings;
import io.capstan.security.SecuritySettings;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Date;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server started with an OIDC issuer takes the provider's JWTs as the user the email claim names, beside its own
 * tokens; the provider is a real local HTTP server with a discovery document and a JWKS made in the test.
 */
class OidcServerTest {
    @TempDir
    static Path home;
    static HttpServer provider;
    static RSAKey key;
    static String issuer;
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        key = new RSAKeyGenerator(2048).keyID("k1").generate();
        provider = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        issuer = "http://127.0.0.1:" + provider.getAddress().getPort() + "/dex";
        provider.createContext("/dex/.well-known/openid-configuration", ex -> answer(ex,
                "{\"issuer\":\"" + issuer + "\",\"jwks_uri\":\"" + issuer + "/keys\"}"));
        provider.createContext("/dex/keys", ex -> answer(ex, new JWKSet(key.toPublicJWK()).toString(true)));
        provider.start();
        server = new TestServer(TestServer.config(home), SecuritySettings.defaults()
                .withOidc(OidcSettings.of(issuer, "kubeflow-oidc-authservice", null, null)));
    }

    static void answer(com.sun.net.httpserver.HttpExchange ex, String json) throws java.io.IOException {
        var body = json.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(200, body.length);
        ex.getResponseBody().write(body);
        ex.close();
    }

    @AfterAll
    static void stop() {
        server.close();
        provider.stop(0);
    }

    static String jwt(String audience, String email) throws Exception {
        var claims = new JWTClaimsSet.Builder().issuer(issuer).audience(audience).claim("email", email)
                .expirationTime(Date.from(Instant.now().plusSeconds(300))).build();
        var signed = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("k1").build(), claims);
        signed.sign(new RSASSASigner(key));
        return signed.serialize();
    }

    @Test
    void aProviderTokenActsAsItsUserBesideCapstansOwnTokens() throws Exception {
        var alice = jwt("kubeflow-oidc-authservice", "alice@example.com");
        var made = server.sendAs(alice, "POST", "/apis/capstan/v1/tokens", "{\"expires\": \"1h\"}", "application/json");
        assertThat(made.status()).as(made.body()).isEqualTo(201);
        assertThat(made.json().path("user").asText()).isEqualTo("alice@example.com");
        assertThat(server.sendAs(alice, "GET", "/apis/capstan/v1/audit", null, null).status()).isEqualTo(403);

        assertThat(server.sendAs(jwt("another-client", "alice@example.com"), "GET", "/apis/capstan/v1/tokens", null, null).status()).isEqualTo(401);
        // Capstan's own tokens still work.
        assertThat(server.get("/apis/capstan/v1/tokens").status()).isEqualTo(200);
        var bob = server.server.tokens().createUserToken("bob@example.com", Optional.empty(), "").token();
        assertThat(server.sendAs(bob, "GET", "/apis/capstan/v1/tokens", null, null).status()).isEqualTo(200);
    }
}
