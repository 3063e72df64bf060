package io.capstan.security;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import io.capstan.core.Json;
import io.capstan.core.TransientException;
import io.capstan.core.security.Caller;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.text.ParseException;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Accepts JSON Web Tokens an OpenID Connect provider signed: the signature (RS256/384/512, PS256/384/512,
 * ES256/384/512 with a key from the provider's JWKS), {@code iss}, {@code aud}, {@code exp} and {@code nbf} (with
 * {@link #CLOCK_SKEW} of slack) and the user claim. Unsigned tokens ({@code alg: none}) and HMAC-signed ones are
 * refused, so a public key cannot be used as a shared secret. The keys are fetched when first needed and cached;
 * a token signed with a key id the cache does not hold makes it fetch them again (at most once per
 * {@link OidcSettings#keyRefreshLimit()}), so the provider may rotate keys without a restart of Capstan.
 */
public final class OidcAuthenticator implements Authenticator {
    private static final System.Logger LOG = System.getLogger(OidcAuthenticator.class.getName());
    static final Duration CLOCK_SKEW = Duration.ofSeconds(60);
    private static final Set<JWSAlgorithm> ALGORITHMS = Set.of(JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512,
            JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512, JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.ES512);
    private static final Duration FETCH_TIMEOUT = Duration.ofSeconds(5);

    private final OidcSettings settings;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(FETCH_TIMEOUT).followRedirects(HttpClient.Redirect.NORMAL).build();
    private volatile DefaultJWTProcessor<SecurityContext> processor;

    public OidcAuthenticator(OidcSettings settings) {
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    @Override
    public Optional<Caller> authenticate(String bearerToken) {
        // A JWT is three base64url parts; anything else is some other kind of credential.
        if (bearerToken.chars().filter(c -> c == '.').count() != 2) return Optional.empty();
        JWTClaimsSet claims;
        try {
            claims = processor().process(bearerToken, null);
        } catch (ParseException | BadJOSEException e) {
            LOG.log(Level.DEBUG, "refused a JWT: " + e.getMessage());
            return Optional.empty();
        } catch (com.nimbusds.jose.jwk.source.RateLimitReachedException e) {
            // The keys were fetched moments ago and do not hold this key id: an unknown key, not an outage.
            LOG.log(Level.DEBUG, "refused a JWT signed with a key id the provider's keys lack");
            return Optional.empty();
        } catch (KeySourceException e) {
            throw new TransientException("cannot fetch the OIDC provider's keys: " + e.getMessage(), e);
        } catch (JOSEException e) {
            LOG.log(Level.DEBUG, "refused a JWT: " + e.getMessage());
            return Optional.empty();
        }
        var user = claims.getClaim(settings.userClaim());
        if (!(user instanceof String name) || !acceptableUser(name)) {
            LOG.log(Level.DEBUG, "refused a JWT without a usable '" + settings.userClaim() + "' claim");
            return Optional.empty();
        }
        return Optional.of(Caller.user(name));
    }

    /** A user name a token may claim: not a system identity, no control or format characters, at most 320 characters. */
    static boolean acceptableUser(String name) {
        return !name.isBlank() && name.length() <= 320 && !name.startsWith("system:") && name.strip().equals(name)
                && name.codePoints().noneMatch(c -> Character.isISOControl(c) || Character.getType(c) == Character.FORMAT);
    }

    private DefaultJWTProcessor<SecurityContext> processor() {
        var p = processor;
        if (p != null) return p;
        synchronized (this) {
            if (processor == null) processor = newProcessor(jwksUrl());
            return processor;
        }
    }

    private DefaultJWTProcessor<SecurityContext> newProcessor(URI jwks) {
        JWKSource<SecurityContext> keys;
        try {
            var builder = JWKSourceBuilder.<SecurityContext>create(jwks.toURL()).retrying(false);
            keys = (settings.keyRefreshLimit().isZero() ? builder.rateLimited(false) : builder.rateLimited(settings.keyRefreshLimit().toMillis())).build();
        } catch (java.net.MalformedURLException e) {
            throw new IllegalStateException("the JWKS URL " + jwks + " is not a URL", e);
        }
        var p = new DefaultJWTProcessor<SecurityContext>();
        p.setJWSKeySelector(new JWSVerificationKeySelector<>(ALGORITHMS, keys));
        var verifier = new DefaultJWTClaimsVerifier<SecurityContext>(Set.of(settings.audience()),
                new JWTClaimsSet.Builder().issuer(settings.issuer().toString()).build(),
                Set.of("exp", settings.userClaim()), Set.of());
        verifier.setMaxClockSkew((int) CLOCK_SKEW.toSeconds());
        p.setJWTClaimsSetVerifier(verifier);
        return p;
    }

    /** The configured JWKS URL, else {@code jwks_uri} of the provider's discovery document. */
    private URI jwksUrl() {
        if (settings.jwksUrl().isPresent()) return settings.jwksUrl().get();
        var issuer = settings.issuer().toString();
        var discovery = URI.create((issuer.endsWith("/") ? issuer.substring(0, issuer.length() - 1) : issuer) + "/.well-known/openid-configuration");
        try {
            var res = http.send(HttpRequest.newBuilder(discovery).timeout(FETCH_TIMEOUT).GET().build(), HttpResponse.BodyHandlers.ofString());
            if (res.statusCode() != 200) {
                throw new TransientException("the OIDC discovery document " + discovery + " answered HTTP " + res.statusCode());
            }
            var doc = Json.json().readTree(res.body());
            if (!issuer.equals(doc.path("issuer").asText())) {
                throw new IllegalStateException("the OIDC discovery document " + discovery + " names the issuer '"
                        + io.capstan.core.Names.printable(doc.path("issuer").asText()) + "', not " + issuer + "; check --oidc-issuer");
            }
            var uri = doc.path("jwks_uri").asText("");
            if (uri.isEmpty()) throw new IllegalStateException("the OIDC discovery document " + discovery + " has no jwks_uri");
            return URI.create(uri);
        } catch (IOException e) {
            throw new TransientException("cannot read the OIDC discovery document " + discovery + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransientException("interrupted while reading " + discovery, e);
        }
    }
}
