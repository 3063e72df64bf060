package io.capstan.server.http;

/**
 * Why a filter refused a request, registered in the request's context for the audit log and the
 * {@code capstan_auth_failures_total} metric: missing (no token), invalid (a token not accepted), forbidden,
 * origin (a foreign {@code Origin}) or host (a {@code Host} not allowed).
 */
public record Denial(String reason) {
    public static final String MISSING = "missing";
    public static final String INVALID = "invalid";
    public static final String FORBIDDEN = "forbidden";
    public static final String ORIGIN = "origin";
    public static final String HOST = "host";
}
