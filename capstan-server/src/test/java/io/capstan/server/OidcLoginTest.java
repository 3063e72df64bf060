package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.security.OidcSettings;
import io.capstan.security.SecuritySettings;
import io.capstan.ui.UiSession;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jsoup.Jsoup;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The UI's OpenID Connect login against a real provider over HTTP ({@link TestOidcProvider}): the authorization code
 * flow with PKCE logs the browser in as the user of the ID token's email claim, with the same session cookie as a token
 * login, and the user is the one a bearer token from that provider would be. A wrong state, a replayed callback or
 * code, a bad signature, a wrong audience, an expired token and a wrong nonce are refused with a message naming why,
 * and set no session.
 */
class OidcLoginTest {
    static final String CLIENT = "capstan-ui";
    @TempDir
    static Path home;
    static TestOidcProvider provider;
    static TestServer server;
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() throws Exception {
        provider = new TestOidcProvider(CLIENT);
        server = new TestServer(TestServer.config(home), SecuritySettings.defaults().withOidc(OidcSettings.of(provider.issuer, CLIENT, null, null)));
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
        if (provider != null) provider.close();
    }

    @AfterEach
    void behave() {
        provider.mode = TestOidcProvider.Mode.GOOD;
    }

    static HttpResponse<String> get(String url, Map<String, String> headers) throws Exception {
        var b = HttpRequest.newBuilder(URI.create(url.startsWith("/") ? server.server.url() + url : url)).timeout(Duration.ofSeconds(30)).GET();
        headers.forEach(b::header);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static String location(HttpResponse<?> res) {
        return res.headers().firstValue("Location").orElseThrow();
    }

    static String cookie(HttpResponse<?> res, String name) {
        return res.headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith(name + "=")).findFirst().orElse("");
    }

    static String value(String setCookie) {
        var first = setCookie.split(";")[0];
        return first.substring(first.indexOf('=') + 1);
    }

    /** The login up to the provider's redirect back: the callback URL and the state cookie the browser holds. */
    record Started(String callback, String stateCookie) {
    }

    static Started startLogin(String next) throws Exception {
        var page = get(next, Map.of());
        assertThat(page.statusCode()).isEqualTo(303);
        var login = get(location(page), Map.of());
        assertThat(login.statusCode()).as(login.body()).isEqualTo(303);
        var authorize = location(login);
        assertThat(authorize).startsWith(provider.authorizationEndpoint().toString());
        var q = TestOidcProvider.query(URI.create(authorize).getRawQuery());
        assertThat(q).containsEntry("client_id", CLIENT).containsEntry("code_challenge_method", "S256").containsEntry("response_type", "code")
                .containsKeys("state", "nonce", "code_challenge");
        assertThat(q.get("redirect_uri")).isEqualTo(server.server.url() + "/oauth2/callback");
        var state = cookie(login, "capstan_oidc_state");
        assertThat(state).contains("HttpOnly").contains("SameSite=Lax").contains("Path=/oauth2/callback");
        assertThat(value(state)).isEqualTo(q.get("state"));
        var back = get(authorize, Map.of());
        assertThat(back.statusCode()).as(back.body()).isEqualTo(302);
        assertThat(location(back)).startsWith(server.server.url() + "/oauth2/callback?code=");
        return new Started(location(back), "capstan_oidc_state=" + value(state));
    }

    static void assertRefused(HttpResponse<String> res, String why) {
        assertThat(res.statusCode()).as(res.body()).isEqualTo(401);
        assertThat(cookie(res, UiSession.COOKIE)).isEmpty();
        var doc = Jsoup.parse(res.body());
        assertThat(doc.select("[role=alert]").text()).contains(why);
        // The refusal offers the way back in.
        assertThat(doc.select("a#sso").attr("href")).startsWith("/login/oidc");
    }

    @Test
    void theCodeFlowLogsInAsTheProvidersUserWithTheSessionCookie() throws Exception {
        var login = startLogin("/runs?state=Succeeded");
        var done = get(login.callback(), Map.of("Cookie", login.stateCookie()));
        assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
        var session = cookie(done, UiSession.COOKIE);
        assertThat(session).contains("HttpOnly").contains("SameSite=Strict").contains("Path=/");
        var doc = Jsoup.parse(done.body());
        assertThat(doc.select("[role=status]").text()).contains("Logged in as alice@example.com");
        assertThat(doc.select("meta[http-equiv=refresh]").attr("content")).isEqualTo("0;url=/runs?state=Succeeded");

        var cookie = UiSession.COOKIE + "=" + value(session);
        var runs = get("/runs?state=Succeeded", Map.of("Cookie", cookie));
        assertThat(runs.statusCode()).isEqualTo(200);
        assertThat(Jsoup.parse(runs.body()).select("h1").text()).isEqualTo("Runs");
        // The session acts as the provider's user, as a bearer token from the provider does: a user, not the admin.
        var made = HTTP.send(HttpRequest.newBuilder(URI.create(server.server.url() + "/apis/capstan/v1/tokens"))
                .header("Cookie", cookie).header(UiSession.CSRF_HEADER, UiSession.csrfFor(value(session)))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"expires\": \"1h\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(made.statusCode()).as(made.body()).isEqualTo(201);
        assertThat(made.body()).contains("\"user\":\"alice@example.com\"");
        assertThat(get("/apis/capstan/v1/audit", Map.of("Cookie", cookie)).statusCode()).isEqualTo(403);
    }

    @Test
    void aReplayedCallbackIsRefused() throws Exception {
        var login = startLogin("/runs");
        assertThat(get(login.callback(), Map.of("Cookie", login.stateCookie())).statusCode()).isEqualTo(200);
        assertRefused(get(login.callback(), Map.of("Cookie", login.stateCookie())), "already completed or has expired");
    }

    @Test
    void aReplayedCodeUnderAFreshStateIsRefusedByTheProvider() throws Exception {
        var first = startLogin("/runs");
        assertThat(get(first.callback(), Map.of("Cookie", first.stateCookie())).statusCode()).isEqualTo(200);
        var oldCode = TestOidcProvider.query(URI.create(first.callback()).getRawQuery()).get("code");
        var second = startLogin("/runs");
        var state = TestOidcProvider.query(URI.create(second.callback()).getRawQuery()).get("state");
        int before = provider.tokenRequests.get();
        assertRefused(get("/oauth2/callback?code=" + oldCode + "&state=" + state, Map.of("Cookie", second.stateCookie())),
                "refused the login code: invalid_grant");
        assertThat(provider.tokenRequests.get()).isEqualTo(before + 1);
    }

    @Test
    void aStateThatIsNotTheBrowsersIsRefusedBeforeTheCodeIsUsed() throws Exception {
        var login = startLogin("/runs");
        var code = TestOidcProvider.query(URI.create(login.callback()).getRawQuery()).get("code");
        var other = startLogin("/runs");
        int before = provider.tokenRequests.get();
        // Another login's state with this browser's cookie: a forged callback (login CSRF).
        var otherState = TestOidcProvider.query(URI.create(other.callback()).getRawQuery()).get("state");
        assertRefused(get("/oauth2/callback?code=" + code + "&state=" + otherState, Map.of("Cookie", login.stateCookie())),
                "does not match the one this browser started with");
        // No state cookie at all.
        assertRefused(get(login.callback(), Map.of()), "does not match the one this browser started with");
        assertThat(provider.tokenRequests.get()).isEqualTo(before);
    }

    @Test
    void hostileIdTokensAreRefusedWithTheReason() throws Exception {
        for (var c : List.of(
                Map.entry(TestOidcProvider.Mode.BAD_SIGNATURE, "Invalid signature"),
                Map.entry(TestOidcProvider.Mode.WRONG_AUDIENCE, "audience"),
                Map.entry(TestOidcProvider.Mode.EXPIRED, "Expired JWT"),
                Map.entry(TestOidcProvider.Mode.WRONG_NONCE, "nonce"))) {
            provider.mode = c.getKey();
            var login = startLogin("/runs");
            var res = get(login.callback(), Map.of("Cookie", login.stateCookie()));
            assertRefused(res, "ID token was refused");
            assertThat(Jsoup.parse(res.body()).select("[role=alert]").text()).as(c.getKey().name()).contains(c.getValue());
        }
    }

    @Test
    void aProviderErrorIsShownAndTheTokenFormStaysReachable() throws Exception {
        var login = startLogin("/runs");
        var state = TestOidcProvider.query(URI.create(login.callback()).getRawQuery()).get("state");
        assertRefused(get("/oauth2/callback?error=access_denied&error_description=user+said+no&state=" + state, Map.of("Cookie", login.stateCookie())),
                "refused the login: access_denied (user said no)");
        var form = get("/login?form=token", Map.of());
        assertThat(form.statusCode()).isEqualTo(200);
        assertThat(Jsoup.parse(form.body()).select("form.login input#token")).hasSize(1);
        // A token link still logs in beside the provider.
        assertThat(get("/runs?token=" + server.adminToken(), Map.of()).statusCode()).isEqualTo(303);
    }
}
