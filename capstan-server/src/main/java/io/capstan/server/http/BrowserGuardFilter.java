package io.capstan.server.http;

import io.capstan.core.Names;
import io.capstan.serving.http.InferenceAccess;
import io.capstan.ui.UiSession;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Refuses what only a browser tricked by another site would send, before any token is looked at:
 * <ul>
 * <li>a {@code Host} that is neither a loopback name or address nor one of {@code --allowed-hosts}: 421, so that a
 *     page whose DNS name was re-pointed at this machine (DNS rebinding) cannot reach the API ({@code /healthz} and
 *     {@code /readyz} answer any host);</li>
 * <li>an {@code Origin} that is not the server's own ({@code http(s)://} and the {@code Host} the request came to): 403;</li>
 * <li>a POST, PUT, PATCH or DELETE with a body that is not JSON ({@code application/json}, {@code application/*+json})
 *     or YAML ({@code application/yaml}), or multipart on KFP's and the model registry's upload routes, or the UI's login form: 415. HTML forms can send only
 *     {@code text/plain}, {@code application/x-www-form-urlencoded} and multipart without a CORS preflight. Inference
 *     routes take {@code application/json} alone: the Open Inference Protocol's REST binding is JSON, and Capstan does
 *     not implement its binary tensor extension.</li>
 * </ul>
 */
public final class BrowserGuardFilter implements Filter {
    private static final Set<Method> MUTATING = Set.of(Method.POST, Method.PUT, Method.PATCH, Method.DELETE);
    private static final Set<String> UPLOADS = Set.of("/apis/v2beta1/pipelines/upload", "/apis/v2beta1/pipelines/upload_version",
            "/apis/capstan/v1/registry/upload");

    private final Set<String> allowedHosts;

    /** @param allowedHosts host names besides loopback ones that {@code Host} may name, such as the server's bound address */
    public BrowserGuardFilter(List<String> allowedHosts) {
        this.allowedHosts = new HashSet<>();
        allowedHosts.forEach(h -> this.allowedHosts.add(h.toLowerCase(Locale.ROOT)));
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        var host = req.headers().first(HeaderNames.HOST).orElse("");
        var path = req.path().path();
        // Probes (a kubelet's send the pod's address as Host) reach the health routes, which tell nothing.
        boolean health = path.equals("/healthz") || path.equals("/readyz");
        if (!host.isEmpty() && !health && !hostAllowed(hostName(host))) {
            req.context().register(new Denial(Denial.HOST));
            ProblemHandlers.send(res, Status.create(421, "Misdirected Request"), ProblemHandlers.problem(req, Status.create(421, "Misdirected Request"),
                    "Host not allowed", "this server does not answer to the host name '" + Names.printable(hostName(host))
                            + "'; add it to --allowed-hosts (CAPSTAN_ALLOWED_HOSTS) on the server if it is one of the server's names"));
            return;
        }
        var origin = req.headers().first(HeaderNames.ORIGIN);
        if (origin.isPresent() && !sameOrigin(origin.get(), host)) {
            req.context().register(new Denial(Denial.ORIGIN));
            ProblemHandlers.send(res, Status.FORBIDDEN_403, ProblemHandlers.problem(req, Status.FORBIDDEN_403, "Cross-origin request refused",
                    "requests from the web page at '" + Names.printable(origin.get()) + "' are refused; only this server's own origin may call it"));
            return;
        }
        var method = req.prologue().method();
        if (MUTATING.contains(method) && hasBody(req)) {
            var type = req.headers().contentType().map(ct -> ct.mediaType().text().toLowerCase(Locale.ROOT)).orElse("");
            var inference = InferenceAccess.isInferencePath(path);
            boolean accepted = inference ? type.equals("application/json")
                    : isJson(type) || type.equals("application/yaml") || (type.equals("multipart/form-data") && UPLOADS.contains(path))
                    || (type.equals("application/x-www-form-urlencoded") && path.equals(UiSession.LOGIN_PATH));
            if (!accepted) {
                ProblemHandlers.send(res, Status.UNSUPPORTED_MEDIA_TYPE_415, ProblemHandlers.problem(req, Status.UNSUPPORTED_MEDIA_TYPE_415,
                        "Unsupported media type", (type.isEmpty() ? "a request body needs a Content-Type" : "content type '" + Names.printable(type) + "' is not accepted")
                                + (inference ? "; inference requests are application/json" : "; send application/json or application/yaml")));
                return;
            }
        }
        chain.proceed();
    }

    private static boolean isJson(String type) {
        return type.equals("application/json") || (type.startsWith("application/") && type.endsWith("+json"));
    }

    private static boolean hasBody(RoutingRequest req) {
        var length = req.headers().contentLength();
        return length.isPresent() ? length.getAsLong() > 0 : req.headers().contains(HeaderNames.TRANSFER_ENCODING);
    }

    /** The host of a {@code Host} header: without the port, and without the brackets of an IPv6 literal. */
    static String hostName(String header) {
        var h = header.strip().toLowerCase(Locale.ROOT);
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return end < 0 ? h : h.substring(1, end);
        }
        int colon = h.indexOf(':');
        if (colon >= 0 && h.indexOf(':', colon + 1) < 0) h = h.substring(0, colon);
        return h.endsWith(".") ? h.substring(0, h.length() - 1) : h;
    }

    boolean hostAllowed(String name) {
        return isLoopback(name) || allowedHosts.contains(name);
    }

    /** localhost, 127.0.0.0/8 and ::1, written as literals: a name that only resolves to them does not count. */
    static boolean isLoopback(String name) {
        if (name.equals("localhost") || name.equals("::1") || name.equals("0:0:0:0:0:0:0:1")) return true;
        var parts = name.split("\\.", -1);
        if (parts.length != 4 || !parts[0].equals("127")) return false;
        for (var p : parts) {
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit) || Integer.parseInt(p) > 255) return false;
        }
        return true;
    }

    /**
     * Whether {@code origin} is this server as the request reached it: {@code http} or {@code https}, the host of the
     * {@code Host} header and its port, which defaults to the scheme's own (80, 443) on either side.
     */
    static boolean sameOrigin(String origin, String hostHeader) {
        if (hostHeader.isEmpty()) return false;
        java.net.URI uri;
        try {
            uri = new java.net.URI(origin.strip());
        } catch (java.net.URISyntaxException e) {
            return false;
        }
        var scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null || uri.getRawPath() != null && !uri.getRawPath().isEmpty()) {
            return false;
        }
        int defaultPort = scheme.equals("http") ? 80 : 443;
        int originPort = uri.getPort() < 0 ? defaultPort : uri.getPort();
        var originHost = uri.getHost().toLowerCase(Locale.ROOT);
        if (originHost.startsWith("[")) originHost = originHost.substring(1, originHost.length() - 1);
        return originHost.equals(hostName(hostHeader)) && originPort == port(hostHeader, defaultPort);
    }

    private static int port(String hostHeader, int fallback) {
        var h = hostHeader.strip();
        int colon = h.lastIndexOf(':');
        if (colon < 0 || h.indexOf(']') > colon || (!h.startsWith("[") && h.indexOf(':') != colon)) return fallback;
        try {
            return Integer.parseInt(h.substring(colon + 1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
