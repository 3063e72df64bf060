package io.capstan.server.http;

import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import io.capstan.metadata.LineageDirection;
import io.capstan.metadata.LineageQuery;
import io.capstan.metadata.MetadataStore;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Lineage in ML Metadata's model, under {@code /apis/capstan/v1/lineage}:
 * {@code GET /?artifactIds=1,2&executionIds=3&direction=upstream|downstream|both&maxHops=5&maxNodes=1000} for a
 * subgraph, and single artifacts, executions and contexts by id, with a context's members.
 */
public final class LineageApi implements HttpService {
    static final int MAX_IDS = 1000;
    /** The MLMD context type the pipeline engine records each run under, named by the run's uid. */
    static final String PIPELINE_RUN_CONTEXT = "system.PipelineRun";

    private final MetadataStore metadata;

    public LineageApi(MetadataStore metadata) {
        this.metadata = metadata;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/", this::subgraph)
                .get("/artifacts/{id}", (req, res) -> Bodies.send(req, res, Status.OK_200, metadata.getArtifact(id(req))))
                .get("/executions/{id}", (req, res) -> Bodies.send(req, res, Status.OK_200, metadata.getExecution(id(req))))
                .get("/contexts/{id}", (req, res) -> Bodies.send(req, res, Status.OK_200, metadata.getContext(id(req))))
                .get("/contexts/{id}/artifacts", (req, res) -> Bodies.send(req, res, Status.OK_200,
                        Map.of("items", metadata.artifactsByContext(metadata.getContext(id(req)).id()))))
                .get("/contexts/{id}/executions", (req, res) -> Bodies.send(req, res, Status.OK_200,
                        Map.of("items", metadata.executionsByContext(metadata.getContext(id(req)).id()))))
                .get("/pipelineruns/{uid}", this::pipelineRun)
                .get("/executions/{id}/events", (req, res) -> Bodies.send(req, res, Status.OK_200,
                        Map.of("items", metadata.eventsByExecution(metadata.getExecution(id(req)).id()))));
    }

    /** A pipeline run's lineage by the run's uid: its context, every task execution and every artifact. */
    private void pipelineRun(ServerRequest req, ServerResponse res) {
        var uid = req.path().pathParameters().get("uid");
        if (!uid.matches("[0-9a-fA-F-]{1,64}")) {
            throw InvalidSpecException.of("uid", "a pipeline run uid is a UUID, got '" + Names.printable(uid) + "'");
        }
        var context = metadata.findContext(PIPELINE_RUN_CONTEXT, uid)
                .orElseThrow(() -> new io.capstan.core.NotFoundException("no lineage recorded for pipeline run " + uid));
        Bodies.send(req, res, Status.OK_200, Map.of(
                "context", context,
                "executions", metadata.executionsByContext(context.id()),
                "artifacts", metadata.artifactsByContext(context.id())));
    }

    private void subgraph(ServerRequest req, ServerResponse res) {
        var artifacts = ids(req, "artifactIds");
        var executions = ids(req, "executionIds");
        var direction = direction(req.query().first("direction").orElse("both"));
        int maxHops = QueryParams.intParam(req, "maxHops", 5, 0, LineageQuery.MAX_HOPS);
        int maxNodes = QueryParams.intParam(req, "maxNodes", LineageQuery.DEFAULT_MAX_NODES, 1, LineageQuery.MAX_NODES);
        Bodies.send(req, res, Status.OK_200, metadata.lineage(new LineageQuery(artifacts, executions, direction, maxHops, maxNodes)));
    }

    private static LineageDirection direction(String text) {
        try {
            return LineageDirection.valueOf(text.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw InvalidSpecException.of("direction", "direction must be upstream, downstream or both, got '" + Names.printable(text) + "'");
        }
    }

    private static Set<Long> ids(ServerRequest req, String name) {
        var out = new LinkedHashSet<Long>();
        for (var value : req.query().all(name, java.util.List::of)) {
            for (var part : value.split(",")) {
                if (part.isBlank()) continue;
                out.add(parseId(name, part.trim()));
                if (out.size() > MAX_IDS) throw InvalidSpecException.of(name, name + " lists more than " + MAX_IDS + " ids");
            }
        }
        return out;
    }

    private static long id(ServerRequest req) {
        return parseId("id", req.path().pathParameters().get("id"));
    }

    private static long parseId(String field, String text) {
        try {
            long id = Long.parseLong(text);
            if (id <= 0) throw new NumberFormatException();
            return id;
        } catch (NumberFormatException e) {
            throw InvalidSpecException.of(field, field + " must be positive integers, got '" + Names.printable(text) + "'");
        }
    }
}
