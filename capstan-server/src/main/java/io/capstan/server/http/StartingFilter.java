package io.capstan.server.http;

import io.helidon.http.Status;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import java.util.function.BooleanSupplier;

/** Answers API requests with 503 while the server is still starting; health and metrics answer at once. */
public final class StartingFilter implements Filter {
    private final BooleanSupplier ready;

    public StartingFilter(BooleanSupplier ready) {
        this.ready = ready;
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        if (ready.getAsBoolean() || !req.path().path().startsWith("/apis/")) {
            chain.proceed();
            return;
        }
        ProblemHandlers.send(res, Status.SERVICE_UNAVAILABLE_503,
                ProblemHandlers.problem(req, Status.SERVICE_UNAVAILABLE_503, "Starting", "Capstan is starting; try again in a moment"));
    }
}
