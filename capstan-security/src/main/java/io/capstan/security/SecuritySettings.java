package io.capstan.security;

import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The server's settings for who may reach it, besides tokens.
 *
 * @param allowedHosts {@code --allowed-hosts} ({@code CAPSTAN_ALLOWED_HOSTS}, comma-separated): host names a request's
 *                     {@code Host} header may name besides loopback ones; others are refused, against DNS rebinding
 * @param oidc         present with {@code --oidc-issuer} ({@code CAPSTAN_OIDC_ISSUER})
 */
public record SecuritySettings(List<String> allowedHosts, Optional<OidcSettings> oidc) {
    public SecuritySettings {
        allowedHosts = allowedHosts.stream().map(h -> h.strip().toLowerCase(Locale.ROOT)).filter(h -> !h.isEmpty()).toList();
        for (var h : allowedHosts) {
            if (h.chars().anyMatch(c -> c <= 0x20 || c >= 0x7f || c == '/' || c == '@')) {
                throw InvalidSpecException.of("allowed-hosts", "--allowed-hosts takes host names separated by commas, got '" + Names.printable(h) + "'");
            }
        }
        Objects.requireNonNull(oidc, "oidc");
    }

    public static SecuritySettings defaults() {
        return new SecuritySettings(List.of(), Optional.empty());
    }

    /** From {@code CAPSTAN_ALLOWED_HOSTS}, {@code CAPSTAN_OIDC_ISSUER}, {@code _AUDIENCE}, {@code _USER_CLAIM} and {@code _JWKS_URL}. */
    public static SecuritySettings fromEnvironment(Map<String, String> env) {
        return of(env.get("CAPSTAN_ALLOWED_HOSTS"), env.get("CAPSTAN_OIDC_ISSUER"), env.get("CAPSTAN_OIDC_AUDIENCE"),
                env.get("CAPSTAN_OIDC_USER_CLAIM"), env.get("CAPSTAN_OIDC_JWKS_URL"));
    }

    /** From the flags' text; null or blank means not set. */
    public static SecuritySettings of(String allowedHosts, String issuer, String audience, String userClaim, String jwksUrl) {
        var hosts = allowedHosts == null ? List.<String>of() : Arrays.asList(allowedHosts.split(","));
        Optional<OidcSettings> oidc = issuer == null || issuer.isBlank() ? Optional.empty()
                : Optional.of(OidcSettings.of(issuer, audience, userClaim, jwksUrl));
        return new SecuritySettings(hosts, oidc);
    }

    public SecuritySettings withOidc(OidcSettings settings) {
        return new SecuritySettings(allowedHosts, Optional.of(settings));
    }

    public SecuritySettings withAllowedHosts(List<String> hosts) {
        return new SecuritySettings(hosts, oidc);
    }
}
