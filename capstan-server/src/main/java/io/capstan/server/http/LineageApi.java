package io.capstan.server.http;

import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import io.capstan.core.security.AccessDeniedException;
import io.capstan.core.security.Caller;
import io.capstan.core.security.Role;
import io.capstan.metadata.Artifact;
import io.capstan.metadata.Context;
import io.capstan.metadata.Event;
import io.capstan.metadata.Execution;
import io.capstan.metadata.LineageDirection;
import io.capstan.metadata.LineageSubgraph;
import io.capstan.metadata.PropertyValue;
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
 *
 * <p>Lineage is namespaced through contexts: a pipeline run's context records its run's namespace (custom property
 * {@code namespace}), a training job's context is named {@code <namespace>/<name>}. An artifact or execution belongs
 * to the namespaces of its contexts. A caller sees an entity only when it may view one of those namespaces; an entity
 * in no namespace (one recorded outside a run or job) is the server admin's alone. Asking for one by id answers 403;
 * a subgraph or a context's members leave out what the caller may not see, and events touching it.
 */
public final class LineageApi implements HttpService {
    static final int MAX_IDS = 1000;
    /** The MLMD context type the pipeline engine records each run under, named by the run's uid. */
    static final String PIPELINE_RUN_CONTEXT = "system.PipelineRun";

    static final String TRAINING_CONTEXT = "capstan.TrainingJob";

    private final MetadataStore metadata;
    private final Access access;

    public LineageApi(MetadataStore metadata, Access access) {
        this.metadata = metadata;
        this.access = java.util.Objects.requireNonNull(access, "access");
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/", this::subgraph)
                .get("/artifacts/{id}", (req, res) -> Bodies.send(req, res, Status.OK_200, visibleArtifact(req, id(req))))
                .get("/executions/{id}", (req, res) -> Bodies.send(req, res, Status.OK_200, visibleExecution(req, id(req))))
                .get("/contexts/{id}", (req, res) -> Bodies.send(req, res, Status.OK_200, visibleContext(req, id(req))))
                .get("/contexts/{id}/artifacts", (req, res) -> Bodies.send(req, res, Status.OK_200, Map.of("items",
                        metadata.artifactsByContext(visibleContext(req, id(req)).id()).stream().filter(a -> seesArtifact(req, a.id())).toList())))
                .get("/contexts/{id}/executions", (req, res) -> Bodies.send(req, res, Status.OK_200, Map.of("items",
                        metadata.executionsByContext(visibleContext(req, id(req)).id()).stream().filter(e -> seesExecution(req, e.id())).toList())))
                .get("/pipelineruns/{uid}", this::pipelineRun)
                .get("/executions/{id}/events", (req, res) -> Bodies.send(req, res, Status.OK_200,
                        Map.of("items", metadata.eventsByExecution(visibleExecution(req, id(req)).id()).stream()
                                .filter(e -> seesArtifact(req, e.artifactId())).toList())));
    }

    /** The namespace a context records: a run's {@code namespace} property, a training job's name prefix; else empty. */
    static java.util.Optional<String> namespaceOf(Context c) {
        if (c.customProperties().get("namespace") instanceof PropertyValue.StringValue ns && !ns.value().isEmpty()) {
            return java.util.Optional.of(ns.value());
        }
        if (c.type().equals(TRAINING_CONTEXT) && c.name().indexOf('/') > 0) {
            return java.util.Optional.of(c.name().substring(0, c.name().indexOf('/')));
        }
        return java.util.Optional.empty();
    }

    private boolean seesAny(ServerRequest req, java.util.List<Context> contexts) {
        var caller = Access.caller(req);
        if (caller.isServerAdmin()) return true;
        return contexts.stream().map(LineageApi::namespaceOf).flatMap(java.util.Optional::stream)
                .anyMatch(ns -> access.policy().allows(caller, ns, Role.VIEW));
    }

    private boolean seesArtifact(ServerRequest req, long id) {
        return Access.caller(req).isServerAdmin() || seesAny(req, metadata.contextsByArtifact(id));
    }

    private boolean seesExecution(ServerRequest req, long id) {
        return Access.caller(req).isServerAdmin() || seesAny(req, metadata.contextsByExecution(id));
    }

    private Artifact visibleArtifact(ServerRequest req, long id) {
        var a = metadata.getArtifact(id);
        if (!seesArtifact(req, id)) throw denied(req, "artifact " + id, metadata.contextsByArtifact(id));
        return a;
    }

    private Execution visibleExecution(ServerRequest req, long id) {
        var e = metadata.getExecution(id);
        if (!seesExecution(req, id)) throw denied(req, "execution " + id, metadata.contextsByExecution(id));
        return e;
    }

    private Context visibleContext(ServerRequest req, long id) {
        var c = metadata.getContext(id);
        if (!seesAny(req, java.util.List.of(c))) throw denied(req, "context " + id, java.util.List.of(c));
        return c;
    }

    private static AccessDeniedException denied(ServerRequest req, String what, java.util.List<Context> contexts) {
        var namespaces = contexts.stream().map(LineageApi::namespaceOf).flatMap(java.util.Optional::stream).distinct().sorted().toList();
        return new AccessDeniedException(Access.caller(req).user() + " may not read " + what + (namespaces.isEmpty()
                ? ", which belongs to no namespace; only the server admin may"
                : " of namespace " + String.join(", ", namespaces) + "; this needs the " + Role.VIEW.clusterRole() + " role there"));
    }

    /** The subgraph less what the caller may not see: its artifacts, executions, contexts, and events touching them. */
    private LineageSubgraph visible(ServerRequest req, LineageSubgraph g) {
        if (Access.caller(req).isServerAdmin()) return g;
        var artifacts = g.artifacts().stream().filter(a -> seesArtifact(req, a.id())).toList();
        var executions = g.executions().stream().filter(e -> seesExecution(req, e.id())).toList();
        var artifactIds = artifacts.stream().map(Artifact::id).collect(java.util.stream.Collectors.toSet());
        var executionIds = executions.stream().map(Execution::id).collect(java.util.stream.Collectors.toSet());
        var events = g.events().stream().filter(e -> artifactIds.contains(e.artifactId()) && executionIds.contains(e.executionId())).toList();
        var contexts = g.contexts().stream().filter(c -> seesAny(req, java.util.List.of(c))).toList();
        var artifactHops = new java.util.HashMap<>(g.artifactHops());
        artifactHops.keySet().retainAll(artifactIds);
        var executionHops = new java.util.HashMap<>(g.executionHops());
        executionHops.keySet().retainAll(executionIds);
        return new LineageSubgraph(artifacts, executions, events, contexts, artifactHops, executionHops, g.truncated());
    }

    /** A pipeline run's lineage by the run's uid: its context, every task execution and every artifact. */
    private void pipelineRun(ServerRequest req, ServerResponse res) {
        var uid = req.path().pathParameters().get("uid");
        if (!uid.matches("[0-9a-fA-F-]{1,64}")) {
            throw InvalidSpecException.of("uid", "a pipeline run uid is a UUID, got '" + Names.printable(uid) + "'");
        }
        var context = metadata.findContext(PIPELINE_RUN_CONTEXT, uid)
                .orElseThrow(() -> new io.capstan.core.NotFoundException("no lineage recorded for pipeline run " + uid));
        if (!seesAny(req, java.util.List.of(context))) throw denied(req, "the lineage of pipeline run " + uid, java.util.List.of(context));
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
        Bodies.send(req, res, Status.OK_200, visible(req, metadata.lineage(new LineageQuery(artifacts, executions, direction, maxHops, maxNodes))));
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
