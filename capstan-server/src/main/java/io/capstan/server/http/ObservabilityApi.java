package io.capstan.server.http;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.function.BooleanSupplier;

/** {@code /healthz} (the process answers), {@code /readyz} (database reachable, controllers running), {@code /metrics}, {@code /version}. */
public final class ObservabilityApi implements HttpService {
    private final PrometheusMeterRegistry meters;
    private final BooleanSupplier ready;
    private final String version;

    public ObservabilityApi(PrometheusMeterRegistry meters, BooleanSupplier ready, String version) {
        this.meters = meters;
        this.ready = ready;
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
        if (ready.getAsBoolean()) {
            res.send("ok");
        } else {
            res.status(Status.SERVICE_UNAVAILABLE_503).send("not ready");
        }
    }

    private void metrics(ServerRequest req, ServerResponse res) {
        res.header(HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
        res.send(meters.scrape());
    }
}
