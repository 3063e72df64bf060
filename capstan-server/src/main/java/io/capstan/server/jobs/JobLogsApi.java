package io.capstan.server.jobs;

import io.capstan.backend.Backend;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.ResourceKey;
import io.capstan.server.http.WorkloadLogStream;
import io.capstan.store.ResourceStore;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import io.capstan.store.LabelSelector;
import io.capstan.store.WatchQuery;

/**
 * {@code GET /apis/capstan/v1/namespaces/{ns}/jobs/{name}/log[?tailLines=N&follow=true]}: the job's combined
 * stdout and stderr as plain text, streamed, following the current attempt until its process ends.
 */
public final class JobLogsApi implements HttpService {
    static final int DEFAULT_TAIL = 10_000;
    static final Duration FOLLOW_MAX = Duration.ofHours(2);

    private final ResourceStore store;
    private final Backend backend;
    private final Clock clock;

    private final io.capstan.server.http.Access access;

    public JobLogsApi(ResourceStore store, Backend backend, Clock clock, io.capstan.server.http.Access access) {
        this.access = java.util.Objects.requireNonNull(access, "access");
        this.store = store;
        this.backend = backend;
        this.clock = clock;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/namespaces/{ns}/jobs/{name}/log", this::logs);
    }

    private void logs(ServerRequest req, ServerResponse res) {
        var key = new ResourceKey(Jobs.KIND, req.path().pathParameters().get("ns"), req.path().pathParameters().get("name"));
        access.require(req, key.namespace(), io.capstan.core.security.Role.VIEW);
        int tail = io.capstan.server.http.QueryParams.intParam(req, "tailLines", DEFAULT_TAIL, 0, 1_000_000);
        boolean follow = req.query().first("follow").map(Boolean::parseBoolean).orElse(false);
        var job = store.get(key);
        res.header(HeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        var deadline = clock.instant().plus(FOLLOW_MAX);
        try (OutputStream out = res.outputStream()) {
            var workload = job.status().field("workloadId").map(n -> n.asText());
            var jobChanges = new WatchQuery(Optional.of(Jobs.KIND), Optional.of(key.namespace()), LabelSelector.EVERYTHING);
            long seen = store.currentVersion();
            while (follow && workload.isEmpty() && clock.instant().isBefore(deadline)) {
                // Not launched yet: wait for the controller to record the attempt in the job's status.
                for (var change : store.changes(jobChanges, seen, 100, Duration.ofSeconds(1))) {
                    seen = change.resourceVersion();
                    if (change.resource().key().equals(key)) {
                        workload = change.resource().status().field("workloadId").map(n -> n.asText());
                    }
                }
                if (store.find(key).isEmpty()) return;
            }
            if (workload.isEmpty()) return;
            new WorkloadLogStream(backend, clock).copy(workload.get(), tail, follow, deadline, out);
        } catch (IOException | UncheckedIOException e) {
            // The client stopped reading; nothing to clean up.
        }
    }
}
