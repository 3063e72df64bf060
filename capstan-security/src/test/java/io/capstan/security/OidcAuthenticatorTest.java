package io.capstan.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.security.Caller;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * JWTs from an OpenID Connect provider played by a real local HTTP server that serves a discovery document and a
 * JWKS holding RSA and EC keys made in the test. Each forged or out-of-policy token is refused.
 */
class OidcAuthenticatorTest {
    static final String AUDIENCE = "capstan";
    static HttpServer provider;
    static String issuer;
    static RSAKey rsa;
    static ECKey ec;
    static final List<JWK> published = new CopyOnWriteArrayList<>();
    static final AtomicInteger jwksFetches = new AtomicInteger();
    static OidcAuthenticator oidc;

    @BeforeAll
    static void start() throws Exception {
        rsa = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
        ec = new ECKeyGenerator(Curve.P_256).keyID("ec-1").generate();
        published.add(rsa.toPublicJWK());
        published.add(ec.toPublicJWK());
        provider = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        issuer = "http://127.0.0.1:" + provider.getAddress().getPort() + "/realms/kubeflow";
        provider.createContext("/realms/kubeflow/.well-known/openid-configuration", ex -> {
            var body = ("{\"issuer\":\"" + issuer + "\",\"jwks_uri\":\"" + issuer + "/certs\"}").getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        provider.createContext("/realms/kubeflow/certs", ex -> {
            jwksFetches.incrementAndGet();
            var body = new JWKSet(new ArrayList<>(published)).toString(true).getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        provider.start();
        oidc = new OidcAuthenticator(OidcSettings.of(issuer, AUDIENCE, null, null).withKeyRefreshLimit(Duration.ZERO));
    }

    @AfterAll
    static void stop() {
        provider.stop(0);
    }

    static JWTClaimsSet.Builder claims() {
        var now = Instant.now();
        return new JWTClaimsSet.Builder().issuer(issuer).audience(AUDIENCE).subject("u-123").claim("email", "alice@example.com")
                .issueTime(Date.from(now)).expirationTime(Date.from(now.plusSeconds(600)));
    }

    static String rs256(JWTClaimsSet claims) throws Exception {
        return rs256(claims, rsa);
    }

    static String rs256(JWTClaimsSet claims, RSAKey key) throws Exception {
        var jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).type(JOSEObjectType.JWT).build(), claims);
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }

    static String with(Consumer<JWTClaimsSet.Builder> change) throws Exception {
        var b = claims();
        change.accept(b);
        return rs256(b.build());
    }

    @Test
    void rsaAndEcSignedTokensPassAsTheUserTheEmailClaimNames() throws Exception {
        assertThat(oidc.authenticate(rs256(claims().build()))).contains(Caller.user("alice@example.com"));
        var es = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).keyID("ec-1").build(), claims().claim("email", "bob@example.com").build());
        es.sign(new ECDSASigner(ec));
        assertThat(oidc.authenticate(es.serialize())).contains(Caller.user("bob@example.com"));
        // An audience list that includes Capstan's client id is fine too.
        assertThat(oidc.authenticate(with(b -> b.audience(List.of("other-client", AUDIENCE))))).isPresent();
        // Tokens that are not JWTs are left to the next authenticator.
        assertThat(oidc.authenticate("capstan_abc")).isEmpty();
    }

    @Test
    void tokensOutsideThePolicyAreRefused() throws Exception {
        assertThat(oidc.authenticate(with(b -> b.issuer("http://127.0.0.1:1/realms/evil")))).as("wrong issuer").isEmpty();
        assertThat(oidc.authenticate(with(b -> b.audience("someone-else")))).as("wrong audience").isEmpty();
        assertThat(oidc.authenticate(with(b -> b.audience((String) null)))).as("no audience").isEmpty();
        assertThat(oidc.authenticate(with(b -> b.expirationTime(Date.from(Instant.now().minusSeconds(120)))))).as("expired").isEmpty();
        assertThat(oidc.authenticate(with(b -> b.expirationTime(null)))).as("no exp").isEmpty();
        assertThat(oidc.authenticate(with(b -> b.notBeforeTime(Date.from(Instant.now().plusSeconds(600)))))).as("not yet valid").isEmpty();
        assertThat(oidc.authenticate(with(b -> b.claim("email", null)))).as("missing claim").isEmpty();
        assertThat(oidc.authenticate(with(b -> b.claim("email", 42)))).as("claim not a string").isEmpty();
        assertThat(oidc.authenticate(with(b -> b.claim("email", "system:admin")))).as("a system identity").isEmpty();
        // Within the clock skew an expiry just passed is still accepted.
        assertThat(oidc.authenticate(with(b -> b.expirationTime(Date.from(Instant.now().minusSeconds(20)))))).as("within skew").isPresent();
    }

    @Test
    void forgedTokensAreRefused() throws Exception {
        // alg: none
        var plain = new PlainJWT(claims().build()).serialize();
        assertThat(oidc.authenticate(plain)).as("alg none").isEmpty();
        // alg confusion: HS256 with the RSA public key's encoding as the shared secret
        var hs = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("rsa-1").build(), claims().build());
        hs.sign(new MACSigner(rsa.toRSAPublicKey().getEncoded()));
        assertThat(oidc.authenticate(hs.serialize())).as("HS256 with the public key").isEmpty();
        // a key the provider never published
        var stranger = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
        assertThat(oidc.authenticate(rs256(claims().build(), stranger))).as("right kid, wrong key").isEmpty();
        var unknownKid = new RSAKeyGenerator(2048).keyID("nobody").generate();
        assertThat(oidc.authenticate(rs256(claims().build(), unknownKid))).as("unknown kid").isEmpty();
        // tampered payload: alice's signature over bob's claims
        var good = rs256(claims().build()).split("\\.");
        var forged = Base64URL.encode(claims().claim("email", "admin@example.com").build().toString()).toString();
        assertThat(oidc.authenticate(good[0] + "." + forged + "." + good[2])).as("tampered payload").isEmpty();
        assertThat(oidc.authenticate("a.b.c")).as("garbage").isEmpty();
    }

    @Test
    void aKeyTheProviderRotatesInIsFetchedWithoutARestart() throws Exception {
        assertThat(oidc.authenticate(rs256(claims().build()))).isPresent();
        var rotated = new RSAKeyGenerator(2048).keyID("rsa-2").generate();
        var token = rs256(claims().claim("email", "carol@example.com").build(), rotated);
        int fetches = jwksFetches.get();
        published.add(rotated.toPublicJWK());
        assertThat(oidc.authenticate(token)).contains(Caller.user("carol@example.com"));
        assertThat(jwksFetches.get()).isGreaterThan(fetches);
        // Known keys are cached: another token costs no fetch.
        int after = jwksFetches.get();
        assertThat(oidc.authenticate(token)).isPresent();
        assertThat(jwksFetches.get()).isEqualTo(after);
    }

    @Test
    void anUnknownKeyIdWithinTheRefreshLimitIsRefusedNotAnOutage() throws Exception {
        var limited = new OidcAuthenticator(OidcSettings.of(issuer, AUDIENCE, null, null).withKeyRefreshLimit(Duration.ofMinutes(2)));
        assertThat(limited.authenticate(rs256(claims().build()))).isPresent();
        int fetches = jwksFetches.get();
        var unknownKid = new RSAKeyGenerator(2048).keyID("nobody-else").generate();
        // Each is a refusal, not an outage; the keys are fetched again at most once within the limit.
        for (int i = 0; i < 4; i++) assertThat(limited.authenticate(rs256(claims().build(), unknownKid))).isEmpty();
        assertThat(jwksFetches.get()).as("fetches within the limit").isLessThanOrEqualTo(fetches + 1);
    }

    @Test
    void settingsRefuseAnIssuerWithoutAudienceOrAUrlThatIsNotHttp() {
        assertThatThrownBy(() -> OidcSettings.of(issuer, "", null, null)).isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("oidc-audience");
        assertThatThrownBy(() -> OidcSettings.of("file:///etc/passwd", "a", null, null)).isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("oidc-issuer");
        assertThatThrownBy(() -> OidcSettings.of(issuer, "a", null, "ftp://x/keys")).isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("oidc-jwks-url");
        assertThat(OidcSettings.of(issuer, "a", " ", null).userClaim()).isEqualTo("email");
        var direct = new OidcAuthenticator(new OidcSettings(URI.create(issuer), AUDIENCE, "preferred_username",
                Optional.of(URI.create(issuer + "/certs")), Duration.ZERO));
        assertThat(direct.authenticate(with2("preferred_username", "dave"))).contains(Caller.user("dave"));
    }

    static String with2(String claim, String value) {
        try {
            return rs256(claims().claim(claim, value).build());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
