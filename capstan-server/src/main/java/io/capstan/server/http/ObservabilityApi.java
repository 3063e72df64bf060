package io.capstan.server.http;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.LinkedHashMap;
import java.util.stream.Collectors;

/**
 * {@code /healthz} (the process answers), {@code /readyz} (every {@link Readiness} check passes: 200, else 503 naming
 * the failing ones; a JSON body lists each check either way), {@code /metrics}, {@code /version}.
 */
public final class ObservabilityApi implements HttpService {
    private final PrometheusMeterRegistry meters;
    private final Readiness readiness;
    private final String version;

    public ObservabilityApi(PrometheusMeterRegistry meters, Readiness readiness, String version) {
        this.meters = meters;
        this.readiness = readiness;
        this.version = version;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/healthz", (req, res) -> res.send("ok"))
                .get("/readyz", this::readyz)
                .get("/metrics", this::metrics)
                .get("/version", (req, res) -> Bodies.send(req, res, Status.OK_200, java.util.Map.of("version", version)));
    }

    private void readyz(ServerRequest req, ServerResponse res) {
        var results = readiness.run();
        var failing = results.stream().filter(r -> !r.passed()).map(Readiness.Result::name).toList();
        var body = new LinkedHashMap<String, Object>();
        body.put("ready", failing.isEmpty());
        if (!failing.isEmpty()) {
            body.put("failing", failing);
            body.put("detail", "not ready: " + results.stream().filter(r -> !r.passed())
                    .map(r -> r.name() + " (" + r.detail() + ")").collect(Collectors.joining("; ")));
        }
        body.put("checks", results.stream().map(r -> {
            var check = new LinkedHashMap<String, Object>();
            check.put("name", r.name());
            check.put("ready", r.passed());
            check.put("detail", r.detail());
            return check;
        }).toList());
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        Bodies.send(req, res, failing.isEmpty() ? Status.OK_200 : Status.SERVICE_UNAVAILABLE_503, body);
    }

    private void metrics(ServerRequest req, ServerResponse res) {
        res.header(HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
        res.send(meters.scrape());
    }
}
