package io.capstan.server.http;

import io.helidon.common.uri.UriPath;
import io.helidon.http.Method;
import io.helidon.http.PathMatcher;
import io.helidon.http.PathMatchers;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRoute;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.HttpRouting;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Which methods the server's routes accept on a path, so that a request no route took gets 405 with {@code Allow}
 * where the path exists under another method, and 404 where it does not. Helidon's routing cannot be asked this,
 * so {@link #register} hands each service to Helidon and also records the method and pattern of each route it adds.
 * Wildcard patterns ({@code *}) are not recorded: a hand-parsed prefix route passes on what it does not recognise.
 */
public final class RouteTable {
    /** The methods a 405 may list, in the order {@code Allow} names them. */
    private static final List<Method> METHODS = List.of(Method.GET, Method.HEAD, Method.POST, Method.PUT, Method.PATCH,
            Method.DELETE, Method.OPTIONS);

    private record Route(Method method, String pattern, PathMatcher matcher) {
    }

    private final List<Route> routes = new CopyOnWriteArrayList<>();

    /** Registers {@code service} under {@code prefix} ({@code ""} for the root) in {@code routing}, and records its routes. */
    public void register(HttpRouting.Builder routing, String prefix, HttpService service) {
        if (prefix.isEmpty()) routing.register(service);
        else routing.register(prefix, service);
        service.routing(new Recorder(prefix));
    }

    /** The methods some route accepts on {@code path}, HEAD wherever GET is; empty where no route knows the path. */
    public Set<Method> allowed(String path) {
        var allowed = new LinkedHashSet<Method>();
        var uri = UriPath.create(path);
        for (var method : METHODS) {
            for (var route : routes) {
                if (route.method().equals(method) && route.matcher().match(uri).accepted()) {
                    allowed.add(method);
                    if (method.equals(Method.GET)) allowed.add(Method.HEAD);
                    break;
                }
            }
        }
        if (!allowed.isEmpty()) allowed.add(Method.OPTIONS);
        var ordered = new LinkedHashSet<Method>();
        METHODS.stream().filter(allowed::contains).forEach(ordered::add);
        return ordered;
    }

    /** Records routes as Helidon's rules would add them under {@code prefix}; it routes nothing itself. */
    private final class Recorder implements HttpRules {
        private final String prefix;

        Recorder(String prefix) {
            this.prefix = prefix;
        }

        @Override
        public HttpRules register(HttpService... services) {
            for (var s : services) s.routing(this);
            return this;
        }

        @Override
        public HttpRules register(String pathPattern, HttpService... services) {
            var nested = new Recorder(prefix + pathPattern);
            for (var s : services) s.routing(nested);
            return this;
        }

        @Override
        public HttpRules route(HttpRoute route) {
            // Routes built without a method and a pattern string (any(...), custom predicates) are not recorded.
            return this;
        }

        @Override
        public HttpRules route(Method method, String pathPattern, Handler handler) {
            var full = prefix + (pathPattern.equals("/") && !prefix.isEmpty() ? "" : pathPattern);
            if (!full.contains("*")) routes.add(new Route(method, full, PathMatchers.create(full)));
            return this;
        }
    }
}
