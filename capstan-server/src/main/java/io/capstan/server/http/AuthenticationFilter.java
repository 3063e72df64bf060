package io.capstan.server.http;

import io.capstan.core.security.Caller;
import io.capstan.core.security.WorkloadScope;
import io.capstan.security.Authenticator;
import io.capstan.ui.UiSession;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import java.lang.System.Logger.Level;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Lets a request past only with {@code Authorization: Bearer <token>} naming a known caller, which it registers in
 * the request's context for the routes to authorise. {@code /healthz} and {@code /readyz} need no token, nor does
 * {@code /metrics} when the server was started with {@code --metrics-public}. A workload's token reaches only the
 * one route its scope names.
 *
 * <p>Browsers log in to the UI with a session cookie instead ({@link UiSession}): {@code ?token=T} on a page or the
 * login form sets it; it authenticates as its token does, and a mutating request with it needs the CSRF header. A
 * page opened without a token goes to the login page; the login page and the UI's static files need no token.
 */
public final class AuthenticationFilter implements Filter {
    private static final System.Logger LOG = System.getLogger(AuthenticationFilter.class.getName());
    static final String CHALLENGE = "Bearer realm=\"capstan\"";
    private static final String BEARER = "bearer ";
    private static final Pattern OBSERVATIONS = Pattern.compile("/apis/capstan/v1/namespaces/([^/]+)/trials/([^/]+)/observations");
    private static final Set<Method> SAFE = Set.of(Method.GET, Method.HEAD, Method.OPTIONS);
    private static final Pattern RUN_ARTIFACTS = Pattern.compile("/apis/capstan/v1/namespaces/([^/]+)/pipelineruns/([^/]+)/artifacts(/content)?");

    private final Authenticator authenticator;
    private final Set<String> publicPaths;
    private final Predicate<String> anonymousAllowed;

    public AuthenticationFilter(Authenticator authenticator, boolean metricsPublic) {
        this(authenticator, metricsPublic, path -> false);
    }

    /**
     * @param anonymousAllowed whether a request without a token may go to a path: the inference routes of a model
     *                         whose InferenceService opted out of authentication
     */
    public AuthenticationFilter(Authenticator authenticator, boolean metricsPublic, Predicate<String> anonymousAllowed) {
        this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
        this.publicPaths = metricsPublic ? Set.of("/healthz", "/readyz", "/metrics") : Set.of("/healthz", "/readyz");
        this.anonymousAllowed = Objects.requireNonNull(anonymousAllowed, "anonymousAllowed");
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        var path = req.path().path();
        if (publicPaths.contains(path)) {
            chain.proceed();
            return;
        }
        var method = req.prologue().method();
        if (UiSession.isPage(path) && method.equals(Method.GET) && req.query().contains("token")) {
            loginFromQuery(req, res, path);
            return;
        }
        var header = req.headers().first(HeaderNames.AUTHORIZATION);
        var session = header.isEmpty() ? req.headers().first(HeaderNames.COOKIE).flatMap(UiSession::token) : Optional.<String>empty();
        if (session.isPresent()) {
            fromSession(chain, req, res, path, method, session.get());
            return;
        }
        if (header.isEmpty() && UiSession.isPublic(path)) {
            chain.proceed();
            return;
        }
        if (header.isEmpty() && UiSession.isPage(path) && method.equals(Method.GET)) {
            req.context().register(new Denial(Denial.MISSING));
            toLogin(res, req.path().rawPath() + req.query().rawValue().transform(q -> q.isEmpty() ? "" : "?" + q), false);
            return;
        }
        if (header.isEmpty()) {
            if (anonymousAllowed.test(path)) {
                chain.proceed();
                return;
            }
            refuse(req, res, Denial.MISSING, "this endpoint needs a token: send 'Authorization: Bearer <token>'. The server admin's token is in "
                    + "$CAPSTAN_HOME/token on the server's machine; 'capstan tokens create' makes one for a user");
            return;
        }
        var value = header.get();
        if (value.length() <= BEARER.length() || !value.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            refuse(req, res, Denial.INVALID, "the Authorization header must be 'Bearer <token>'");
            return;
        }
        Optional<Caller> caller;
        try {
            caller = authenticator.authenticate(value.substring(BEARER.length()).strip());
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "cannot check a token", e);
            ProblemHandlers.send(res, Status.SERVICE_UNAVAILABLE_503, ProblemHandlers.problem(req, Status.SERVICE_UNAVAILABLE_503,
                    "Try again later", "the server cannot check tokens at the moment; try again shortly"));
            return;
        }
        if (caller.isEmpty()) {
            refuse(req, res, Denial.INVALID, "the token is unknown, expired or revoked");
            return;
        }
        if (caller.get().workload().isPresent() && !workloadMayCall(caller.get().workload().get(), req.prologue().method(), path)) {
            req.context().register(caller.get());
            req.context().register(new Denial(Denial.FORBIDDEN));
            ProblemHandlers.send(res, Status.FORBIDDEN_403, ProblemHandlers.problem(req, Status.FORBIDDEN_403, "Forbidden",
                    "a workload's token may only " + caller.get().workload().get().purpose().replace('-', ' ')
                            + " of " + caller.get().workload().get().subject() + " in namespace " + caller.get().workload().get().namespace()));
            return;
        }
        req.context().register(caller.get());
        chain.proceed();
    }

    /**
     * {@code ?token=T} on a page, as Jupyter's links: a valid token becomes the session cookie and the browser goes to
     * the same URL without it, so that the token leaves the address bar; an invalid one goes to the login page.
     */
    private void loginFromQuery(RoutingRequest req, RoutingResponse res, String path) {
        var token = req.query().first("token").orElse("").strip();
        var rest = new StringBuilder();
        for (var name : req.query().names()) {
            if (name.equals("token")) continue;
            for (var value : req.query().all(name)) {
                rest.append(rest.isEmpty() ? "?" : "&").append(encode(name)).append('=').append(encode(value));
            }
        }
        var target = path + rest;
        Optional<Caller> caller;
        try {
            caller = UiSession.isCookieSafe(token) ? authenticator.authenticate(token) : Optional.empty();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "cannot check a token", e);
            caller = Optional.empty();
        }
        if (caller.isEmpty() || caller.get().workload().isPresent()) {
            req.context().register(new Denial(Denial.INVALID));
            toLogin(res, target, true);
            return;
        }
        req.context().register(caller.get());
        res.header(HeaderNames.SET_COOKIE, UiSession.loginCookie(token));
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        res.status(Status.SEE_OTHER_303);
        res.header(HeaderNames.LOCATION, target);
        res.send();
    }

    /**
     * A browser's session cookie counts as its token. A request that changes anything must also carry the page's CSRF
     * value in {@value UiSession#CSRF_HEADER}, which another site cannot read and a plain form cannot send.
     */
    private void fromSession(FilterChain chain, RoutingRequest req, RoutingResponse res, String path, Method method, String token) {
        Optional<Caller> caller;
        try {
            caller = authenticator.authenticate(token);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "cannot check a token", e);
            ProblemHandlers.send(res, Status.SERVICE_UNAVAILABLE_503, ProblemHandlers.problem(req, Status.SERVICE_UNAVAILABLE_503,
                    "Try again later", "the server cannot check tokens at the moment; try again shortly"));
            return;
        }
        if (caller.isEmpty() || caller.get().workload().isPresent()) {
            if (UiSession.isPublic(path)) {
                chain.proceed();
                return;
            }
            req.context().register(new Denial(Denial.INVALID));
            if (UiSession.isPage(path) && method.equals(Method.GET)) {
                res.header(HeaderNames.SET_COOKIE, UiSession.logoutCookie());
                toLogin(res, req.path().rawPath(), true);
                return;
            }
            refuse(req, res, Denial.INVALID, "the session's token is unknown, expired or revoked; log in again");
            return;
        }
        if (!SAFE.contains(method) && !path.equals(UiSession.LOGIN_PATH)) {
            var sent = req.headers().first(HeaderNames.create(UiSession.CSRF_HEADER)).orElse("");
            if (!UiSession.csrfMatches(token, sent) && !sameOriginNotebookRequest(req, path)) {
                req.context().register(caller.get());
                req.context().register(new Denial(Denial.FORBIDDEN));
                ProblemHandlers.send(res, Status.FORBIDDEN_403, ProblemHandlers.problem(req, Status.FORBIDDEN_403, "Forbidden",
                        "a request that logs in with the session cookie and changes something must send the page's "
                                + UiSession.CSRF_HEADER + " header; reload the page and try again"));
                return;
            }
        }
        req.context().register(caller.get());
        chain.proceed();
    }

    /**
     * A notebook's own page (Jupyter's JavaScript) cannot send {@value UiSession#CSRF_HEADER}, so under
     * {@code /notebook/} a browser's proof of being on this server's page stands in for it: an {@code Origin} naming
     * this server (browsers send one with every POST, PUT, PATCH and DELETE they make from script), or
     * {@code Sec-Fetch-Site: same-origin}. Another site's page cannot forge either, and the SameSite=Strict cookie is
     * not sent from it in the first place.
     */
    private static boolean sameOriginNotebookRequest(RoutingRequest req, String path) {
        if (!path.startsWith("/notebook/")) return false;
        var host = req.headers().first(HeaderNames.HOST).orElse("");
        var origin = req.headers().first(HeaderNames.ORIGIN);
        if (origin.isPresent()) return BrowserGuardFilter.sameOrigin(origin.get(), host);
        return req.headers().first(HeaderNames.create("Sec-Fetch-Site")).map(v -> v.strip().equalsIgnoreCase("same-origin")).orElse(false);
    }

    private static void toLogin(RoutingResponse res, String next, boolean failed) {
        res.status(Status.SEE_OTHER_303);
        res.header(HeaderNames.LOCATION, UiSession.LOGIN_PATH + "?next=" + encode(next) + (failed ? "&failed=1" : ""));
        res.send();
    }

    private static String encode(String s) {
        return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8);
    }

    /**
     * A trial's token may push that trial's observations, a pipeline step's read its run's artifacts; a notebook's
     * goes wherever its namespace's editor may. Nothing else.
     */
    static boolean workloadMayCall(WorkloadScope scope, Method method, String path) {
        // A notebook's token acts as its namespace's editor; the access policy confines it to that namespace.
        if (scope.purpose().equals(WorkloadScope.NOTEBOOK)) return true;
        if (scope.purpose().equals(WorkloadScope.TRIAL_OBSERVATIONS) && method.equals(Method.POST)) {
            var m = OBSERVATIONS.matcher(path);
            return m.matches() && m.group(1).equals(scope.namespace()) && m.group(2).equals(scope.subject());
        }
        if (scope.purpose().equals(WorkloadScope.RUN_ARTIFACTS) && method.equals(Method.GET)) {
            var m = RUN_ARTIFACTS.matcher(path);
            return m.matches() && m.group(1).equals(scope.namespace()) && m.group(2).equals(scope.subject());
        }
        return false;
    }

    private static void refuse(RoutingRequest req, RoutingResponse res, String reason, String detail) {
        req.context().register(new Denial(reason));
        res.header(HeaderNames.WWW_AUTHENTICATE, CHALLENGE);
        ProblemHandlers.send(res, Status.UNAUTHORIZED_401, ProblemHandlers.problem(req, Status.UNAUTHORIZED_401, "Unauthorized", detail));
    }
}
