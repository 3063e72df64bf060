package io.capstan.ui;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * How a browser holds its login: the token sits in an HttpOnly, SameSite=Strict cookie, and a request that mutates
 * anything with that cookie must also send {@value #CSRF_HEADER} with {@link #csrfFor the token's CSRF value}, which
 * the pages carry and which another site cannot read. The server's authentication filter applies these rules; this
 * class only names them, so that the pages and the filter agree.
 */
public final class UiSession {
    public static final String COOKIE = "capstan_session";
    public static final String CSRF_HEADER = "X-Capstan-CSRF";
    public static final String LOGIN_PATH = "/login";
    public static final String LOGOUT_PATH = "/logout";
    public static final String STATIC_PREFIX = "/ui/static/";
    /** The first path segment of every page; API paths ({@code /apis}, {@code /v1}, {@code /v2}, ...) are not pages. */
    private static final List<String> PAGE_ROOTS = List.of("/runs", "/experiments", "/endpoints", "/pipelines", "/jobs",
            "/recurring", "/lineage", "/compare", "/notebooks", LOGIN_PATH);

    private UiSession() {
    }

    /** Whether {@code path} is one of the UI's pages (which log in with {@code ?token=} and send the browser to the login page). */
    public static boolean isPage(String path) {
        if (path.equals("/") || path.equals("/ui") || path.equals("/ui/")) return true;
        for (var root : PAGE_ROOTS) {
            if (path.equals(root) || path.startsWith(root + "/")) return true;
        }
        return false;
    }

    /** Paths anyone may fetch: the login page, the OIDC login's start and callback, and the vendored static files. */
    public static boolean isPublic(String path) {
        return path.equals(LOGIN_PATH) || path.equals(OidcLogin.START_PATH) || path.equals(OidcLogin.CALLBACK_PATH)
                || path.startsWith(STATIC_PREFIX);
    }

    /** The value a cookie-authenticated mutating request sends in {@value #CSRF_HEADER}: a digest of the session's token. */
    public static String csrfFor(String token) {
        try {
            var digest = MessageDigest.getInstance("SHA-256").digest(("capstan-ui-csrf:" + token).getBytes(StandardCharsets.UTF_8));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    /** Whether {@code sent} is the CSRF value of {@code token}, compared in constant time. */
    public static boolean csrfMatches(String token, String sent) {
        return MessageDigest.isEqual(csrfFor(token).getBytes(StandardCharsets.US_ASCII), sent.getBytes(StandardCharsets.US_ASCII));
    }

    /** The {@code Set-Cookie} value that logs the browser in with {@code token}. */
    public static String loginCookie(String token) {
        return COOKIE + "=" + token + "; Path=/; HttpOnly; SameSite=Strict";
    }

    /** Whether {@code token} can be a cookie value as it is: printable ASCII without separators. */
    public static boolean isCookieSafe(String token) {
        return !token.isEmpty() && token.length() <= 4096 && token.chars().allMatch(c -> c > 0x20 && c < 0x7f && c != ';' && c != ',' && c != '"' && c != '\\');
    }

    /** The {@code Set-Cookie} value that logs the browser out. */
    public static String logoutCookie() {
        return COOKIE + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";
    }

    /** The session token in a {@code Cookie} header, if any. */
    public static Optional<String> token(String cookieHeader) {
        for (var part : cookieHeader.split(";")) {
            var p = part.strip();
            if (p.startsWith(COOKIE + "=")) {
                var value = p.substring(COOKIE.length() + 1);
                if (!value.isEmpty()) return Optional.of(value);
            }
        }
        return Optional.empty();
    }
}
