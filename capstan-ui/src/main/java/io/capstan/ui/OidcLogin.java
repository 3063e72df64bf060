package io.capstan.ui;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.oauth2.sdk.AuthorizationCode;
import com.nimbusds.oauth2.sdk.AuthorizationCodeGrant;
import com.nimbusds.oauth2.sdk.GeneralException;
import com.nimbusds.oauth2.sdk.ParseException;
import com.nimbusds.oauth2.sdk.ResponseType;
import com.nimbusds.oauth2.sdk.Scope;
import com.nimbusds.oauth2.sdk.TokenRequest;
import com.nimbusds.oauth2.sdk.auth.ClientSecretBasic;
import com.nimbusds.oauth2.sdk.auth.Secret;
import com.nimbusds.oauth2.sdk.id.ClientID;
import com.nimbusds.oauth2.sdk.id.Issuer;
import com.nimbusds.oauth2.sdk.id.State;
import com.nimbusds.oauth2.sdk.pkce.CodeChallengeMethod;
import com.nimbusds.oauth2.sdk.pkce.CodeVerifier;
import com.nimbusds.openid.connect.sdk.AuthenticationRequest;
import com.nimbusds.openid.connect.sdk.Nonce;
import com.nimbusds.openid.connect.sdk.OIDCTokenResponse;
import com.nimbusds.openid.connect.sdk.OIDCTokenResponseParser;
import com.nimbusds.openid.connect.sdk.op.OIDCProviderMetadata;
import com.nimbusds.openid.connect.sdk.validators.IDTokenValidator;
import io.capstan.core.Names;
import io.capstan.core.TransientException;
import io.capstan.core.security.Caller;
import io.capstan.security.OidcSettings;
import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The UI's OpenID Connect login: the authorization code flow with PKCE (S256), a {@code state} bound to the browser by a
 * cookie, and a {@code nonce} bound to the ID token. The provider's endpoints come from its discovery document; the ID
 * token is checked with oauth2-oidc-sdk's {@link IDTokenValidator} (signature from the provider's JWKS, {@code iss},
 * {@code aud}, {@code exp}, {@code iat}, {@code nonce}) and then goes through the server's own authenticator, the one
 * that takes the provider's bearer tokens, so that the browser becomes the same user a bearer token would. The ID token
 * then is the session cookie's value: the session lasts as long as the provider made the ID token valid.
 */
final class OidcLogin {
    static final String START_PATH = "/login/oidc";
    static final String CALLBACK_PATH = "/oauth2/callback";
    static final String STATE_COOKIE = "capstan_oidc_state";
    static final Duration PENDING_TTL = Duration.ofMinutes(10);
    private static final int MAX_PENDING = 10_000;
    private static final int TIMEOUT_MS = 5_000;
    private static final Set<JWSAlgorithm> ALGORITHMS = Set.of(JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512,
            JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512, JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.ES512);

    /** A login the browser started and has not finished: what the callback must see again. */
    private record Pending(Nonce nonce, CodeVerifier verifier, URI redirect, String next, Instant started) {
    }

    /** The outcome of a callback: the session token for the cookie and where to go, or why the login was refused. */
    record Outcome(Optional<String> token, String next, String user, String refusal) {
        static Outcome refused(String why) {
            return new Outcome(Optional.empty(), "/runs", "", why);
        }
    }

    private final OidcSettings settings;
    private final ClientID client;
    private final Optional<Secret> secret;
    private final Function<String, Optional<Caller>> authenticate;
    private final Clock clock;
    private final ConcurrentHashMap<String, Pending> pending = new ConcurrentHashMap<>();
    private volatile Provider provider;

    private record Provider(OIDCProviderMetadata metadata, IDTokenValidator validator) {
    }

    /**
     * @param clientSecret  the client's secret for the token endpoint (HTTP Basic), or empty for a public client
     * @param authenticate  the server's authenticator, which maps the ID token to a Capstan user as it maps bearer tokens
     */
    OidcLogin(OidcSettings settings, Optional<String> clientSecret, Function<String, Optional<Caller>> authenticate, Clock clock) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.client = new ClientID(settings.audience());
        this.secret = clientSecret.filter(s -> !s.isBlank()).map(Secret::new);
        this.authenticate = Objects.requireNonNull(authenticate, "authenticate");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** The provider's authorization URL for a new login, and the state the browser's cookie must carry back. */
    record Start(URI authorization, String state) {
    }

    Start start(URI redirect, String next) {
        expire();
        // /login is public: past the bound, the oldest unfinished login gives way rather than every new one being refused.
        while (pending.size() >= MAX_PENDING) {
            pending.entrySet().stream().min(java.util.Map.Entry.comparingByValue(java.util.Comparator.comparing(Pending::started)))
                    .ifPresent(oldest -> pending.remove(oldest.getKey(), oldest.getValue()));
        }
        var state = new State();
        var nonce = new Nonce();
        var verifier = new CodeVerifier();
        var request = new AuthenticationRequest.Builder(ResponseType.CODE, new Scope("openid", "email", "profile"), client, redirect)
                .endpointURI(provider().metadata().getAuthorizationEndpointURI())
                .state(state)
                .nonce(nonce)
                .codeChallenge(verifier, CodeChallengeMethod.S256)
                .build();
        pending.put(state.getValue(), new Pending(nonce, verifier, redirect, next, clock.instant()));
        return new Start(request.toURI(), state.getValue());
    }

    /**
     * The provider sent the browser back with {@code code} and {@code state} (or an {@code error}); {@code cookieState}
     * is what the browser's state cookie holds. A state is good for one callback, so a replayed one is refused.
     */
    Outcome callback(Optional<String> code, Optional<String> state, Optional<String> error, Optional<String> errorDescription,
                     Optional<String> cookieState) {
        expire();
        if (error.isPresent()) {
            state.ifPresent(s -> { if (cookieState.filter(s::equals).isPresent()) pending.remove(s); });
            return Outcome.refused("The identity provider refused the login: " + Names.printable(error.get())
                    + errorDescription.map(d -> " (" + Names.printable(d) + ")").orElse("") + ".");
        }
        if (state.isEmpty() || code.isEmpty()) return Outcome.refused("The identity provider's answer lacks the code or the state; log in again.");
        if (cookieState.isEmpty() || !cookieState.get().equals(state.get())) {
            return Outcome.refused("The login's state does not match the one this browser started with; log in again.");
        }
        var login = pending.remove(state.get());
        if (login == null) return Outcome.refused("This login was already completed or has expired; log in again.");
        var p = provider();
        OIDCTokenResponse tokens;
        try {
            var grant = new AuthorizationCodeGrant(new AuthorizationCode(code.get()), login.redirect(), login.verifier());
            var request = secret.isPresent()
                    ? new TokenRequest.Builder(p.metadata().getTokenEndpointURI(), new ClientSecretBasic(client, secret.get()), grant).build()
                    : new TokenRequest.Builder(p.metadata().getTokenEndpointURI(), client, grant).build();
            var http = request.toHTTPRequest();
            http.setConnectTimeout(TIMEOUT_MS);
            http.setReadTimeout(TIMEOUT_MS);
            var response = OIDCTokenResponseParser.parse(http.send());
            if (!response.indicatesSuccess()) {
                var e = response.toErrorResponse().getErrorObject();
                return Outcome.refused("The identity provider refused the login code: " + Names.printable(String.valueOf(e.getCode()))
                        + (e.getDescription() == null ? "" : " (" + Names.printable(e.getDescription()) + ")") + "; log in again.");
            }
            tokens = (OIDCTokenResponse) response.toSuccessResponse();
        } catch (ParseException e) {
            return Outcome.refused("The identity provider's token answer is not valid: " + Names.printable(e.getMessage()) + ".");
        } catch (IOException e) {
            throw new TransientException("cannot reach the identity provider's token endpoint: " + e.getMessage(), e);
        }
        var idToken = tokens.getOIDCTokens().getIDToken();
        if (idToken == null) return Outcome.refused("The identity provider sent no ID token.");
        try {
            p.validator().validate(idToken, login.nonce());
        } catch (BadJOSEException | JOSEException e) {
            return Outcome.refused("The identity provider's ID token was refused: " + Names.printable(e.getMessage()) + ".");
        }
        var serialized = idToken.serialize();
        if (!UiSession.isCookieSafe(serialized)) return Outcome.refused("The identity provider's ID token is too long for a session cookie.");
        var caller = authenticate.apply(serialized);
        if (caller.isEmpty() || caller.get().workload().isPresent()) {
            return Outcome.refused("The ID token names no user Capstan accepts in its '" + settings.userClaim()
                    + "' claim; ask the provider's admin to release that claim to this client.");
        }
        return new Outcome(Optional.of(serialized), login.next(), caller.get().user(), "");
    }

    /** The cookie that binds a login's state to the browser that started it; Lax, as the provider's redirect is cross-site. */
    static String stateCookie(String state) {
        return STATE_COOKIE + "=" + state + "; Path=" + CALLBACK_PATH + "; HttpOnly; SameSite=Lax; Max-Age=" + PENDING_TTL.toSeconds();
    }

    static String clearStateCookie() {
        return STATE_COOKIE + "=; Path=" + CALLBACK_PATH + "; HttpOnly; SameSite=Lax; Max-Age=0";
    }

    static Optional<String> stateFromCookies(String cookieHeader) {
        for (var part : cookieHeader.split(";")) {
            var p = part.strip();
            if (p.startsWith(STATE_COOKIE + "=") && p.length() > STATE_COOKIE.length() + 1) return Optional.of(p.substring(STATE_COOKIE.length() + 1));
        }
        return Optional.empty();
    }

    private void expire() {
        var oldest = clock.instant().minus(PENDING_TTL);
        pending.values().removeIf(p -> p.started().isBefore(oldest));
    }

    /** The provider's discovery document and its ID token validator, read at the first login. */
    private Provider provider() {
        var p = provider;
        if (p != null) return p;
        synchronized (this) {
            if (provider != null) return provider;
            var issuer = new Issuer(settings.issuer().toString());
            OIDCProviderMetadata metadata;
            try {
                metadata = OIDCProviderMetadata.resolve(issuer, TIMEOUT_MS, TIMEOUT_MS);
            } catch (GeneralException e) {
                throw new TransientException("the identity provider's discovery document is not usable: " + e.getMessage(), e);
            } catch (IOException e) {
                throw new TransientException("cannot read the identity provider's discovery document: " + e.getMessage(), e);
            }
            if (metadata.getAuthorizationEndpointURI() == null || metadata.getTokenEndpointURI() == null) {
                throw new TransientException("the identity provider's discovery document names no authorization or token endpoint");
            }
            var jwks = settings.jwksUrl().orElse(metadata.getJWKSetURI());
            if (jwks == null) throw new TransientException("the identity provider's discovery document has no jwks_uri");
            try {
                var keys = JWKSourceBuilder.<SecurityContext>create(jwks.toURL()).retrying(false).build();
                var validator = new IDTokenValidator(issuer, client, new JWSVerificationKeySelector<>(ALGORITHMS, keys), null);
                validator.setMaxClockSkew(60);
                provider = new Provider(metadata, validator);
            } catch (java.net.MalformedURLException e) {
                throw new TransientException("the identity provider's jwks_uri is not a URL: " + jwks, e);
            }
            return provider;
        }
    }
}
