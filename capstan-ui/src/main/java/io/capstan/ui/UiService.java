package io.capstan.ui;

import io.capstan.backend.Backend;
import io.capstan.core.CapstanException;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.NotFoundException;
import io.capstan.core.TransientException;
import io.capstan.core.security.AccessDeniedException;
import io.capstan.core.security.AccessPolicy;
import io.capstan.core.security.Caller;
import io.capstan.metadata.MetadataStore;
import io.capstan.store.ResourceStore;
import io.helidon.http.HeaderNames;
import io.helidon.http.HttpMediaType;
import io.helidon.http.Status;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The web UI at {@code /}: server-rendered pages with htmx, live parts over SSE, and the vendored static files. Reads
 * the same stores as the API, in-process, with the caller's access; mutating actions go to the API routes themselves.
 */
public final class UiService implements HttpService, AutoCloseable {
    /** Vendored files: name under {@value UiSession#STATIC_PREFIX} to class-path resource and media type. */
    private static final Map<String, String[]> STATIC = Map.of(
            "htmx.min.js", new String[]{"META-INF/resources/webjars/htmx.org/2.0.4/dist/htmx.min.js", "text/javascript"},
            "sse.js", new String[]{"META-INF/resources/webjars/htmx-ext-sse/2.2.2/sse.js", "text/javascript"},
            "app.js", new String[]{"io/capstan/ui/static/app.js", "text/javascript"},
            "app.css", new String[]{"io/capstan/ui/static/app.css", "text/css"});

    private final UiContext ui;
    private final Function<String, Optional<Caller>> authenticate;
    private final RunPages runs;
    private final ExperimentPages experiments;
    private final EndpointPages endpoints;
    private final EndpointMeters endpointMeters;
    private final MiscPages misc;
    private final ModelPages models;
    private final ProvenancePages provenance;
    private final NotebookPages notebooks;
    private final Map<String, byte[]> files = new ConcurrentHashMap<>();
    private final Optional<OidcLogin> oidc;

    /** @param authenticate who a token belongs to, for the login form */
    public UiService(ResourceStore store, MetadataStore metadata, Backend backend, AccessPolicy policy, Clock clock,
                     Function<String, Optional<Caller>> authenticate) {
        this(store, metadata, backend, policy, clock, authenticate, null, null);
    }

    /**
     * @param registry the Model Registry the models pages show, or null for none
     * @param meters   the server's meters, for the endpoints' traffic charts, or null for none
     */
    public UiService(ResourceStore store, MetadataStore metadata, Backend backend, AccessPolicy policy, Clock clock,
                     Function<String, Optional<Caller>> authenticate, io.capstan.registry.ModelRegistry registry,
                     io.micrometer.core.instrument.MeterRegistry meters) {
        this(store, metadata, backend, policy, clock, authenticate, registry, meters, null, Optional.empty(), Optional.empty());
    }

    /**
     * @param artifacts        where the run pages read artifacts for their previews, or null for no previews
     * @param oidc             the OIDC provider the server takes bearer tokens from: the login page then sends the
     *                         browser there (authorization code flow with PKCE)
     * @param oidcClientSecret the client secret for the provider's token endpoint; empty for a public client
     */
    public UiService(ResourceStore store, MetadataStore metadata, Backend backend, AccessPolicy policy, Clock clock,
                     Function<String, Optional<Caller>> authenticate, io.capstan.registry.ModelRegistry registry,
                     io.micrometer.core.instrument.MeterRegistry meters, io.capstan.artifacts.ArtifactLocator artifacts,
                     Optional<io.capstan.security.OidcSettings> oidc,
                     Optional<String> oidcClientSecret) {
        var layouts = new DagLayout();
        // A large pipeline's layout starts when its run is created, so that the run's page finds it laid out.
        var index = new RunIndex(Objects.requireNonNull(store, "store"), run -> {
            try {
                layouts.layOutAhead(Dag.of(run.spec().path("pipelineSpec")));
            } catch (RuntimeException e) {
                // A pipeline spec the graph cannot be read from: its run page says so when opened.
            }
        });
        this.ui = new UiContext(store, metadata, backend, policy, clock, index, layouts);
        this.authenticate = Objects.requireNonNull(authenticate, "authenticate");
        this.runs = new RunPages(ui, new ArtifactPreview(artifacts));
        this.experiments = new ExperimentPages(ui);
        this.endpointMeters = new EndpointMeters(meters, clock);
        this.endpoints = new EndpointPages(ui, endpointMeters);
        this.misc = new MiscPages(ui);
        this.models = new ModelPages(ui, registry);
        this.provenance = new ProvenancePages(ui, registry);
        this.notebooks = new NotebookPages(ui);
        this.oidc = oidc.map(o -> new OidcLogin(o, oidcClientSecret, authenticate, clock));
    }

    /**
     * Loads the run list and ELK's classes in the background, so that the first look at /runs and at a run's DAG finds
     * them ready. The server calls this once it is ready: both cost a good part of a second of CPU, which start-up on
     * two cores would otherwise share with them. Pages work without it (the run list loads at its first use).
     */
    public void warmUp() {
        ui.runs().start();
        Thread.ofVirtual().name("ui-layout-warm-up").start(DagLayout::warmUp);
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/", (req, res) -> redirect(res, "/runs"))
                .get(UiSession.LOGIN_PATH, this::loginPage)
                .post(UiSession.LOGIN_PATH, this::login)
                .get(OidcLogin.START_PATH, guarded(this::oidcStart))
                .get(OidcLogin.CALLBACK_PATH, guarded(this::oidcCallback))
                .post(UiSession.LOGOUT_PATH, this::logout)
                .get(UiSession.STATIC_PREFIX + "{file}", this::staticFile)
                .get("/runs", page(runs::list))
                .get("/runs/{id}", page(runs::detail))
                .get("/runs/{id}/dag", page(runs::dagFragment))
                .get("/runs/{id}/events", live(runs::events))
                .get("/runs/{id}/nodes/{task}", page(runs::node))
                .get("/runs/{id}/preview", page(runs::preview))
                .get("/runs/{id}/nodes/{task}/log", live(runs::log))
                .get("/compare", page(runs::compare))
                .get("/pipelines", page(misc::pipelines))
                .get("/recurring", page(misc::recurring))
                .get("/experiments", page(experiments::list))
                .get("/experiments/{ns}/{name}", page(experiments::detail))
                .get("/experiments/{ns}/{name}/events", live(experiments::events))
                .get("/experiments/{ns}/{name}/trials/{trial}", page(experiments::trial))
                .get("/experiments/{ns}/{name}/trials/{trial}/events", live(experiments::trialEvents))
                .get("/jobs", page(misc::jobs))
                .get("/jobs/{kind}/{ns}/{name}", page(misc::job))
                .get("/endpoints", page(endpoints::list))
                .get("/endpoints/{ns}/{name}", page(endpoints::detail))
                .get("/models", page(models::list))
                .get("/models/{ns}/{id}", page(models::detail))
                .get("/models/{ns}/{id}/versions/{version}", page(provenance::version))
                .get("/notebooks", page(notebooks::list))
                .get("/lineage", page(misc::lineage));
    }

    /** A page or fragment: HTML, never cached, with {@link #guarded} errors. */
    private static Handler page(Handler handler) {
        return guarded((req, res) -> {
            res.headers().contentType(HttpMediaType.create("text/html; charset=UTF-8"));
            res.header(HeaderNames.CACHE_CONTROL, "no-store");
            handler.handle(req, res);
        });
    }

    /** An SSE stream: the SSE sink sets its own headers; errors before it opens still get the HTML error page. */
    private static Handler live(Handler handler) {
        return guarded(handler);
    }

    /** Renders the HTML error page for what the caller can act on; anything else is a bug for the server's 500 handler. */
    private static Handler guarded(Handler handler) {
        return (req, res) -> {
            try {
                handler.handle(req, res);
            } catch (NotFoundException e) {
                error(req, res, Status.NOT_FOUND_404, "Not found", e);
            } catch (InvalidSpecException e) {
                error(req, res, Status.BAD_REQUEST_400, "Bad request", e);
            } catch (AccessDeniedException e) {
                error(req, res, Status.FORBIDDEN_403, "Forbidden", e);
            } catch (TransientException e) {
                error(req, res, Status.SERVICE_UNAVAILABLE_503, "Try again shortly", e);
            }
        };
    }

    private static void error(ServerRequest req, ServerResponse res, Status status, String title, CapstanException e) {
        if (res.isSent()) return;
        res.status(status);
        res.headers().contentType(HttpMediaType.create("text/html; charset=UTF-8"));
        res.send(Layout.page(req, title, "", "<h1>" + Html.esc(title) + "</h1><p class=\"banner failed\" role=\"alert\">" + Html.esc(e.getMessage())
                + "</p><p><a href=\"/runs\">Back to the runs</a></p>"));
    }

    private static void redirect(ServerResponse res, String location) {
        res.status(Status.SEE_OTHER_303);
        res.header(HeaderNames.LOCATION, location);
        res.send();
    }

    // ------------------------------------------------------------------ login

    private void loginPage(ServerRequest req, ServerResponse res) {
        var next = safeNext(req.query().first("next").orElse("/runs"));
        if (req.context().get(Caller.class).isPresent()) {
            redirect(res, next);
            return;
        }
        boolean failed = req.query().first("failed").isPresent();
        // With a provider, the login page is the provider's; the token form stays reachable for admins and after a failure.
        if (oidc.isPresent() && !failed && req.query().first("form").isEmpty()) {
            oidcStart(req, res);
            return;
        }
        sendLogin(req, res, next, failed ? "That token is unknown, expired or revoked." : "");
    }

    private void sendLogin(ServerRequest req, ServerResponse res, String next, String error) {
        res.headers().contentType(HttpMediaType.create("text/html; charset=UTF-8"));
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        var body = "<h1>Log in</h1>"
                + (error.isEmpty() ? "" : "<p class=\"banner failed\" role=\"alert\">" + Html.esc(error) + "</p>")
                + (oidc.isEmpty() ? "" : "<p><a class=\"button sso\" id=\"sso\" href=\"" + OidcLogin.START_PATH + "?next=" + Html.url(next)
                        + "\">Log in with your identity provider</a></p><p>or with an API token:</p>")
                + "<form class=\"login\" method=\"post\" action=\"" + UiSession.LOGIN_PATH + "\">"
                + "<input type=\"hidden\" name=\"next\" value=\"" + Html.esc(next) + "\">"
                + "<label for=\"token\">API token</label> <input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" required autofocus>"
                + " <button type=\"submit\">Log in</button>"
                + "<p class=\"hint\">The server admin's token is in <code>$CAPSTAN_HOME/token</code>; <code>capstan tokens create</code> makes one for a user."
                + " <code>./capstan quickstart</code> prints a link that logs you in.</p></form>";
        res.send(Layout.page(req, "Log in", "", body));
    }

    /** The form's token: valid ones get the session cookie and go on to {@code next}; others see the form again, with 401. */
    private void login(ServerRequest req, ServerResponse res) {
        var form = form(req.content().as(String.class));
        var next = safeNext(form.getOrDefault("next", "/runs"));
        var token = form.getOrDefault("token", "").strip();
        if (!token.isEmpty() && UiSession.isCookieSafe(token) && authenticate.apply(token).isPresent()) {
            res.header(HeaderNames.SET_COOKIE, UiSession.loginCookie(token));
            redirect(res, next);
            return;
        }
        res.status(Status.UNAUTHORIZED_401);
        sendLogin(req, res, next, token.isEmpty() ? "Enter a token." : "That token is unknown, expired or revoked.");
    }

    /** Sends the browser to the provider's authorization endpoint, with a new state bound to it by a cookie. */
    private void oidcStart(ServerRequest req, ServerResponse res) {
        if (oidc.isEmpty()) {
            res.status(Status.NOT_FOUND_404);
            sendLogin(req, res, "/runs", "This server has no OpenID Connect provider configured; log in with a token.");
            return;
        }
        var next = safeNext(req.query().first("next").orElse("/runs"));
        var uri = req.requestedUri().toUri();
        var redirect = java.net.URI.create(uri.getScheme() + "://" + uri.getRawAuthority() + OidcLogin.CALLBACK_PATH);
        var start = oidc.get().start(redirect, next);
        res.header(HeaderNames.SET_COOKIE, OidcLogin.stateCookie(start.state()));
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        res.status(Status.SEE_OTHER_303);
        res.header(HeaderNames.LOCATION, start.authorization().toString());
        res.send();
    }

    /**
     * The provider's redirect back: a good code becomes the session cookie, and a small page moves on to the page the
     * login started from, so that the SameSite=Strict cookie goes with a same-site navigation.
     */
    private void oidcCallback(ServerRequest req, ServerResponse res) {
        if (oidc.isEmpty()) {
            res.status(Status.NOT_FOUND_404);
            sendLogin(req, res, "/runs", "This server has no OpenID Connect provider configured; log in with a token.");
            return;
        }
        var q = req.query();
        var outcome = oidc.get().callback(q.first("code").asOptional(), q.first("state").asOptional(), q.first("error").asOptional(),
                q.first("error_description").asOptional(), req.headers().first(HeaderNames.COOKIE).flatMap(OidcLogin::stateFromCookies));
        res.header(HeaderNames.SET_COOKIE, OidcLogin.clearStateCookie());
        if (outcome.token().isEmpty()) {
            res.status(Status.UNAUTHORIZED_401);
            sendLogin(req, res, "/runs", outcome.refusal());
            return;
        }
        res.headers().add(HeaderNames.SET_COOKIE, UiSession.loginCookie(outcome.token().get()));
        res.headers().contentType(HttpMediaType.create("text/html; charset=UTF-8"));
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        var next = Html.esc(outcome.next());
        res.send("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0;url=" + next + "\">"
                + "<title>Logged in · Capstan</title></head><body><main id=\"main\"><h1>Logged in</h1><p role=\"status\">Logged in as "
                + Html.esc(outcome.user()) + ". <a href=\"" + next + "\">Continue</a></p></main></body></html>");
    }

    private void logout(ServerRequest req, ServerResponse res) {
        res.header(HeaderNames.SET_COOKIE, UiSession.logoutCookie());
        res.header(HeaderNames.create("HX-Redirect"), UiSession.LOGIN_PATH);
        redirect(res, UiSession.LOGIN_PATH);
    }

    /** A local path only, so that the login form cannot send the browser to another site. */
    static String safeNext(String next) {
        if (next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") && next.chars().noneMatch(c -> c < 0x20)) return next;
        return "/runs";
    }

    static Map<String, String> form(String body) {
        var out = new HashMap<String, String>();
        for (var pair : body.split("&")) {
            if (pair.isEmpty()) continue;
            int eq = pair.indexOf('=');
            var k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            var v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            out.putIfAbsent(k, v);
        }
        return out;
    }

    // ------------------------------------------------------------------ static files

    private void staticFile(ServerRequest req, ServerResponse res) {
        var name = req.path().pathParameters().get("file");
        var entry = STATIC.get(name);
        if (entry == null) {
            res.status(Status.NOT_FOUND_404);
            res.send("no such file");
            return;
        }
        var bytes = files.computeIfAbsent(name, n -> read(entry[0]));
        res.headers().contentType(HttpMediaType.create(entry[1] + "; charset=UTF-8"));
        res.header(HeaderNames.CACHE_CONTROL, "max-age=3600");
        res.send(bytes);
    }

    private static byte[] read(String resource) {
        try (InputStream in = UiService.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException(resource + " is missing from the capstan-ui jar; rebuild it");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource, e);
        }
    }

    @Override
    public void close() {
        endpointMeters.close();
        ui.runs().close();
        ui.layouts().close();
    }

    /** For benchmarks and tests: the pages' shared state. */
    UiContext context() {
        return ui;
    }
}
