package io.capstan.server.training;

import io.capstan.backend.Backend;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceKind;
import io.capstan.server.http.QueryParams;
import io.capstan.server.http.WorkloadLogStream;
import io.capstan.store.ResourceStore;
import io.capstan.training.TrainingKinds;
import io.capstan.training.TrainingWorkloads;
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

/**
 * {@code GET /apis/capstan/v1/namespaces/{ns}/{trainjobs|pytorchjobs|...}/{name}/log[?rank=N|replica=Worker&index=I][&tailLines=N][&follow=true]}:
 * one process of a training job's current attempt, rank 0 unless told otherwise, as plain text.
 */
public final class TrainingLogsApi implements HttpService {
    static final int DEFAULT_TAIL = 10_000;
    static final Duration FOLLOW_MAX = Duration.ofHours(24);

    private final ResourceStore store;
    private final WorkloadLogStream logs;
    private final Clock clock;

    private final io.capstan.server.http.Access access;

    public TrainingLogsApi(ResourceStore store, Backend backend, Clock clock, io.capstan.server.http.Access access) {
        this.access = java.util.Objects.requireNonNull(access, "access");
        this.store = store;
        this.logs = new WorkloadLogStream(backend, clock);
        this.clock = clock;
    }

    @Override
    public void routing(HttpRules rules) {
        for (var kind : TrainingKinds.JOB_KINDS) {
            rules.get("/namespaces/{ns}/" + kind.plural() + "/{name}/log", (req, res) -> logs(kind, req, res));
        }
    }

    private void logs(ResourceKind kind, ServerRequest req, ServerResponse res) {
        var key = new ResourceKey(kind.kind(), req.path().pathParameters().get("ns"), req.path().pathParameters().get("name"));
        access.require(req, key.namespace(), io.capstan.core.security.Role.VIEW);
        int tail = QueryParams.intParam(req, "tailLines", DEFAULT_TAIL, 0, 1_000_000);
        boolean follow = req.query().first("follow").map(Boolean::parseBoolean).orElse(false);
        var job = store.get(key);
        var replica = req.query().first("replica");
        String workload = replica.isPresent()
                ? TrainingWorkloads.forReplica(job, replica.get(), QueryParams.intParam(req, "index", 0, 0, 100_000))
                : TrainingWorkloads.forRank(job, QueryParams.intParam(req, "rank", 0, 0, 1_000_000));
        res.header(HeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        try (OutputStream out = res.outputStream()) {
            logs.copy(workload, tail, follow, clock.instant().plus(FOLLOW_MAX), out);
        } catch (IOException | UncheckedIOException e) {
            // The client stopped reading; nothing to clean up.
        }
    }
}
