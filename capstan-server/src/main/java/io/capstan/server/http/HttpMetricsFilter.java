package io.capstan.server.http;

import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;

/** Times every request as {@code capstan.http.requests}, tagged by method, status and a low-cardinality route family. */
public final class HttpMetricsFilter implements Filter {
    private final MeterRegistry meters;

    public HttpMetricsFilter(MeterRegistry meters) {
        this.meters = meters;
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        long start = System.nanoTime();
        try {
            chain.proceed();
        } finally {
            Timer.builder("capstan.http.requests")
                    .tag("method", req.prologue().method().text())
                    .tag("status", Integer.toString(res.status().code()))
                    .tag("family", family(req.path().path()))
                    .register(meters)
                    .record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        }
    }

    static String family(String path) {
        if (path.startsWith("/apis/capstan/v1/lineage")) return "lineage";
        if (path.endsWith("/log")) return "logs";
        if (path.startsWith("/apis/")) return "resources";
        return switch (path) {
            case "/healthz", "/readyz", "/metrics", "/version" -> path.substring(1);
            default -> "other";
        };
    }
}
