package io.capstan.security;

import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How to accept JSON Web Tokens from an OpenID Connect provider (Dex, Keycloak), as Kubeflow deploys them.
 *
 * @param issuer           {@code --oidc-issuer}: the {@code iss} every token must carry exactly
 * @param audience         {@code --oidc-audience}: a value the token's {@code aud} must contain (the client id)
 * @param userClaim        {@code --oidc-user-claim}, default {@code email}: the claim that names the user
 * @param jwksUrl          {@code --oidc-jwks-url}: where the signing keys are; empty to read {@code jwks_uri} from
 *                         {@code <issuer>/.well-known/openid-configuration}
 * @param keyRefreshLimit  at most one fetch of the keys per this interval when a token names an unknown key id
 */
public record OidcSettings(URI issuer, String audience, String userClaim, Optional<URI> jwksUrl, Duration keyRefreshLimit) {
    public static final String DEFAULT_USER_CLAIM = "email";
    public static final Duration DEFAULT_KEY_REFRESH_LIMIT = Duration.ofSeconds(30);

    public OidcSettings {
        Objects.requireNonNull(issuer, "issuer");
        userClaim = userClaim == null || userClaim.isBlank() ? DEFAULT_USER_CLAIM : userClaim.strip();
        Objects.requireNonNull(jwksUrl, "jwksUrl");
        Objects.requireNonNull(keyRefreshLimit, "keyRefreshLimit");
        // nimbus-jose-jwt caches the keys for 5 minutes and wants its rate limit below that.
        if (keyRefreshLimit.isNegative() || keyRefreshLimit.compareTo(Duration.ofMinutes(5)) >= 0) {
            throw new IllegalArgumentException("the key refresh limit must be from 0 to under 5 minutes, got " + keyRefreshLimit);
        }
        if (!isHttp(issuer)) {
            throw InvalidSpecException.of("oidc-issuer", "--oidc-issuer must be an http:// or https:// URL, got '" + Names.printable(issuer.toString()) + "'");
        }
        if (audience == null || audience.isBlank()) {
            throw InvalidSpecException.of("oidc-audience", "--oidc-audience (CAPSTAN_OIDC_AUDIENCE) is required with --oidc-issuer: without it, "
                    + "a token the provider issued to any other client would be accepted");
        }
        if (jwksUrl.isPresent() && !isHttp(jwksUrl.get())) {
            throw InvalidSpecException.of("oidc-jwks-url", "--oidc-jwks-url must be an http:// or https:// URL, got '"
                    + Names.printable(jwksUrl.get().toString()) + "'");
        }
    }

    /** Parses the flags' text; a refusal names the flag. */
    public static OidcSettings of(String issuer, String audience, String userClaim, String jwksUrl) {
        return new OidcSettings(uri("oidc-issuer", issuer), audience, userClaim,
                Optional.ofNullable(jwksUrl).filter(s -> !s.isBlank()).map(s -> uri("oidc-jwks-url", s)), DEFAULT_KEY_REFRESH_LIMIT);
    }

    public OidcSettings withKeyRefreshLimit(Duration limit) {
        return new OidcSettings(issuer, audience, userClaim, jwksUrl, limit);
    }

    private static URI uri(String field, String text) {
        try {
            return new URI(text.strip());
        } catch (java.net.URISyntaxException | NullPointerException e) {
            throw InvalidSpecException.of(field, "--" + field + " must be a URL, got '" + Names.printable(String.valueOf(text)) + "'");
        }
    }

    private static boolean isHttp(URI uri) {
        var scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
        return (scheme.equals("http") || scheme.equals("https")) && uri.getHost() != null;
    }
}
