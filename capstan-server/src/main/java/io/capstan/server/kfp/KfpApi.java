package io.capstan.server.kfp;

import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import io.capstan.core.NotFoundException;
import io.capstan.core.Resource;
import io.capstan.pipelines.run.PipelineRuns;
import io.capstan.core.TransientException;
import io.capstan.core.security.Role;
import io.capstan.server.http.Access;
import io.capstan.server.http.Bodies;
import io.capstan.server.http.PayloadTooLargeException;
import io.capstan.backend.Backend;
import io.capstan.metadata.MetadataStore;
import io.capstan.store.ResourceStore;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * KFP's REST API v2beta1, mounted at {@code /apis/v2beta1}: pipelines and versions (with YAML upload), experiments,
 * runs and recurring runs, as in KFP's swagger. Errors answer in grpc-gateway's shape (see {@link KfpErrors}), the
 * one KFP clients parse. Custom methods ({@code :archive}, {@code :terminate}, ...) share the path segment with the
 * id, so they route as {@code POST /x/{ref}} and split on the colon.
 *
 * <p>Namespaces, as in multi-user KFP: an experiment lives in the namespace its request names ({@value
 * KfpKinds#NAMESPACE} when none), a run and a recurring run in their experiment's (without one, in the body's or
 * {@code namespace} parameter's). Reading needs view there and writing edit. An id whose namespace the caller may not
 * view answers 404, as an unknown id does; a list names its namespace (view needed, else 403) or, unlike KFP's
 * multi-user mode, which requires one, names none and shows every namespace the caller may view. Pipelines in
 * {@value KfpKinds#NAMESPACE} are KFP's shared pipelines: every signed-in user reads them and only the server admin
 * writes them; a pipeline created with a {@code namespace} is that namespace's (view to read, edit to write), and a
 * run may use shared pipelines and its own namespace's.
 */
public final class KfpApi implements HttpService {
    private static final Map<String, String> EMPTY = Map.of();
    /** Lines of output kept per task in a logs answer, at most. */
    static final int LOG_LINES = 100_000;

    private final String version;
    private final PipelineCatalog pipelines;
    private final ExperimentCatalog experiments;
    private final RunCatalog runs;
    private final RecurringRunCatalog recurringRuns;
    private final Backend backend;
    private final Access access;
    private final KfpStore kfp;

    /**
     * @param metadata where the engine records task executions and artifacts, whose ids run details report
     * @param backend  where task logs are read from
     * @param clock    stamps a recurring run's {@code updated_at} when it is enabled or disabled
     * @param version  the server version, reported by {@code /healthz} as {@code x_capstan.tag_name}
     */
    public KfpApi(ResourceStore store, MetadataStore metadata, Backend backend, Clock clock, String version, Access access) {
        this.access = Objects.requireNonNull(access, "access");
        this.kfp = new KfpStore(Objects.requireNonNull(store, "store"));
        this.backend = Objects.requireNonNull(backend, "backend");
        this.version = Objects.requireNonNull(version, "version");
        this.pipelines = new PipelineCatalog(kfp);
        Objects.requireNonNull(metadata, "metadata");
        this.runs = new RunCatalog(kfp, pipelines, uid -> TaskLineage.of(metadata, uid));
        this.experiments = new ExperimentCatalog(kfp, runs);
        this.recurringRuns = new RecurringRunCatalog(kfp, runs, Objects.requireNonNull(clock, "clock"));
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/healthz", mapped(this::healthz))
                .get("/pipelines", mapped(this::listPipelines))
                .post("/pipelines", mapped(this::createPipeline))
                .post("/pipelines/upload", mapped(this::uploadPipeline))
                .post("/pipelines/upload_version", mapped(this::uploadVersion))
                .post("/pipelines/create", mapped(this::createPipelineAndVersion))
                .get("/pipelines/names/{name}", mapped(this::getPipelineByName))
                .get("/pipelines/{id}", mapped(this::getPipeline))
                .delete("/pipelines/{id}", mapped(this::deletePipeline))
                .get("/pipelines/{id}/versions", mapped(this::listVersions))
                .post("/pipelines/{id}/versions", mapped(this::createVersion))
                .get("/pipelines/{id}/versions/{vid}", mapped(this::getVersion))
                .delete("/pipelines/{id}/versions/{vid}", mapped(this::deleteVersion))
                .get("/experiments", mapped(this::listExperiments))
                .post("/experiments", mapped(this::createExperiment))
                .get("/experiments/{id}", mapped(this::getExperiment))
                .delete("/experiments/{id}", mapped(this::deleteExperiment))
                .post("/experiments/{ref}", mapped(this::experimentAction))
                .get("/runs", mapped(this::listRuns))
                .post("/runs", mapped(this::createRun))
                .get("/runs/{id}", mapped(this::getRun))
                .get("/runs/{id}/logs", mapped(this::runLogs))
                .delete("/runs/{id}", mapped(this::deleteRun))
                .post("/runs/{ref}", mapped(this::runAction))
                .get("/recurringruns", mapped(this::listRecurringRuns))
                .post("/recurringruns", mapped(this::createRecurringRun))
                .get("/recurringruns/{id}", mapped(this::getRecurringRun))
                .delete("/recurringruns/{id}", mapped(this::deleteRecurringRun))
                .post("/recurringruns/{ref}", mapped(this::recurringRunAction))
                .any(mapped(this::unknownPath));
    }

    private static Handler mapped(Handler h) {
        return KfpErrors.mapped(h);
    }

    private void healthz(ServerRequest req, ServerResponse res) {
        send(res, Status.OK_200, new KfpWire.Healthz(false, "database", new KfpWire.HealthzExtension(version)));
    }

    // ---------------------------------------------------------------- pipelines

    private void listPipelines(ServerRequest req, ServerResponse res) {
        var ns = readablePipelineNamespace(req, query(req, "namespace"));
        var page = pipelines.list(ListRequest.of(req, PipelineCatalog.PIPELINE_KEYS), ns);
        send(res, Status.OK_200, new KfpWire.ListPipelines(page.items(), page.totalSize(), page.nextPageToken()));
    }

    private void createPipeline(ServerRequest req, ServerResponse res) {
        var request = KfpWire.read(Bodies.text(req), KfpWire.Pipeline.class);
        var ns = writablePipelineNamespace(req, PipelineCatalog.firstNonBlank(request.namespace(), query(req, "namespace")));
        send(res, Status.OK_200, pipelines.create(request, ns));
    }

    private void uploadPipeline(ServerRequest req, ServerResponse res) {
        var ns = writablePipelineNamespace(req, query(req, "namespace"));
        var upload = Upload.read(req);
        var name = PipelineCatalog.firstNonBlank(query(req, "name"), query(req, "display_name"), upload.fileStem());
        send(res, Status.OK_200, pipelines.upload(upload.text(), name, query(req, "display_name"), query(req, "description"), ns));
    }

    private void uploadVersion(ServerRequest req, ServerResponse res) {
        var pipelineId = PipelineCatalog.firstNonBlank(query(req, "pipelineid"), query(req, "pipeline_id"));
        if (pipelineId.isEmpty()) throw InvalidSpecException.of("pipelineid", "required: the id of the pipeline to add a version to");
        writablePipeline(req, pipelineId);
        var upload = Upload.read(req);
        var name = PipelineCatalog.firstNonBlank(query(req, "name"), query(req, "display_name"), upload.fileStem());
        send(res, Status.OK_200, pipelines.uploadVersion(pipelineId, upload.text(), name, query(req, "display_name"), query(req, "description")));
    }

    private void createPipelineAndVersion(ServerRequest req, ServerResponse res) {
        var request = KfpWire.read(Bodies.text(req), KfpWire.CreatePipelineAndVersion.class);
        var ns = writablePipelineNamespace(req, PipelineCatalog.firstNonBlank(
                request.pipeline() == null ? null : request.pipeline().namespace(), query(req, "namespace")));
        send(res, Status.OK_200, pipelines.createWithVersion(request, ns));
    }

    private void getPipelineByName(ServerRequest req, ServerResponse res) {
        var ns = readablePipelineNamespace(req, query(req, "namespace"));
        send(res, Status.OK_200, pipelines.getByName(param(req, "name"), ns));
    }

    private void getPipeline(ServerRequest req, ServerResponse res) {
        readablePipeline(req, param(req, "id"));
        send(res, Status.OK_200, pipelines.get(param(req, "id")));
    }

    private void deletePipeline(ServerRequest req, ServerResponse res) {
        writablePipeline(req, param(req, "id"));
        pipelines.delete(param(req, "id"), Boolean.parseBoolean(query(req, "cascade")));
        send(res, Status.OK_200, EMPTY);
    }

    private void listVersions(ServerRequest req, ServerResponse res) {
        readablePipeline(req, param(req, "id"));
        var page = pipelines.listVersions(param(req, "id"), ListRequest.of(req, PipelineCatalog.VERSION_KEYS));
        send(res, Status.OK_200, new KfpWire.ListPipelineVersions(page.items(), page.totalSize(), page.nextPageToken()));
    }

    private void createVersion(ServerRequest req, ServerResponse res) {
        writablePipeline(req, param(req, "id"));
        send(res, Status.OK_200, pipelines.createVersion(param(req, "id"), KfpWire.read(Bodies.text(req), KfpWire.PipelineVersion.class)));
    }

    private void getVersion(ServerRequest req, ServerResponse res) {
        readablePipeline(req, param(req, "id"));
        send(res, Status.OK_200, pipelines.getVersion(param(req, "id"), param(req, "vid")));
    }

    private void deleteVersion(ServerRequest req, ServerResponse res) {
        writablePipeline(req, param(req, "id"));
        pipelines.deleteVersion(param(req, "id"), param(req, "vid"));
        send(res, Status.OK_200, EMPTY);
    }

    // ---------------------------------------------------------------- experiments

    private void listExperiments(ServerRequest req, ServerResponse res) {
        var page = experiments.list(ListRequest.of(req, ExperimentCatalog.KEYS), scope(req));
        send(res, Status.OK_200, new KfpWire.ListExperiments(page.items(), page.totalSize(), page.nextPageToken()));
    }

    private void createExperiment(ServerRequest req, ServerResponse res) {
        var request = KfpWire.read(Bodies.text(req), KfpWire.Experiment.class);
        var ns = PipelineCatalog.firstNonBlank(request.namespace(), query(req, "namespace"), KfpKinds.NAMESPACE);
        access.require(req, ns, Role.EDIT);
        send(res, Status.OK_200, experiments.create(request, ns));
    }

    private void getExperiment(ServerRequest req, ServerResponse res) {
        visible(req, KfpKinds.EXPERIMENT, param(req, "id"), "experiment", Role.VIEW);
        send(res, Status.OK_200, experiments.get(param(req, "id")));
    }

    private void deleteExperiment(ServerRequest req, ServerResponse res) {
        visible(req, KfpKinds.EXPERIMENT, param(req, "id"), "experiment", Role.EDIT);
        experiments.delete(param(req, "id"));
        send(res, Status.OK_200, EMPTY);
    }

    private void experimentAction(ServerRequest req, ServerResponse res) {
        var action = Action.of(param(req, "ref"), "experiment").known("archive", "unarchive");
        visible(req, KfpKinds.EXPERIMENT, action.id(), "experiment", Role.EDIT);
        switch (action.verb()) {
            case "archive" -> experiments.archive(action.id());
            case "unarchive" -> experiments.unarchive(action.id());
            default -> throw action.unknown("archive, unarchive");
        }
        send(res, Status.OK_200, EMPTY);
    }

    // ---------------------------------------------------------------- runs

    private void listRuns(ServerRequest req, ServerResponse res) {
        var experimentId = query(req, "experiment_id");
        var page = runs.list(ListRequest.of(req, RunCatalog.KEYS), scope(req, experimentId), experimentId);
        send(res, Status.OK_200, new KfpWire.ListRuns(page.items(), page.totalSize(), page.nextPageToken()));
    }

    private void createRun(ServerRequest req, ServerResponse res) {
        var text = Bodies.text(req);
        var request = KfpWire.read(text, KfpWire.Run.class);
        var ns = writableNamespace(req, request.experimentId(), PipelineCatalog.firstNonBlank(bodyNamespace(text), query(req, "namespace")));
        send(res, Status.OK_200, runs.create(request, ns));
    }

    private void getRun(ServerRequest req, ServerResponse res) {
        visible(req, PipelineRuns.KIND, param(req, "id"), "run", Role.VIEW);
        send(res, Status.OK_200, runs.get(param(req, "id")));
    }

    /**
     * Capstan's addition (KFP reads logs from pods): the output of each task of the run, in task order, each under
     * a {@code ==> task <==} header; {@code task} picks one task by path or name, {@code tail_lines} caps each.
     */
    private void runLogs(ServerRequest req, ServerResponse res) {
        visible(req, PipelineRuns.KIND, param(req, "id"), "run", Role.VIEW);
        var workloads = runs.taskWorkloads(param(req, "id"));
        var task = query(req, "task");
        int tail = io.capstan.server.http.QueryParams.intParam(req, "tail_lines", LOG_LINES, 0, LOG_LINES);
        res.header(HeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        try (var out = res.outputStream()) {
            for (var e : workloads.entrySet()) {
                if (!task.isEmpty() && !e.getKey().equals(task) && !e.getKey().endsWith("/" + task)) continue;
                out.write(("==> " + e.getKey() + " <==\n").getBytes(StandardCharsets.UTF_8));
                for (var line : backend.tail(e.getValue(), tail)) out.write((line.text() + "\n").getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            // The client stopped reading; nothing to clean up.
        }
    }

    private void deleteRun(ServerRequest req, ServerResponse res) {
        visible(req, PipelineRuns.KIND, param(req, "id"), "run", Role.EDIT);
        runs.delete(param(req, "id"));
        send(res, Status.OK_200, EMPTY);
    }

    private void runAction(ServerRequest req, ServerResponse res) {
        var action = Action.of(param(req, "ref"), "run").known("terminate", "retry", "archive", "unarchive");
        visible(req, PipelineRuns.KIND, action.id(), "run", Role.EDIT);
        switch (action.verb()) {
            case "terminate" -> runs.terminate(action.id());
            case "retry" -> runs.retry(action.id());
            case "archive" -> runs.archive(action.id());
            case "unarchive" -> runs.unarchive(action.id());
            default -> throw action.unknown("terminate, retry, archive, unarchive");
        }
        send(res, Status.OK_200, EMPTY);
    }

    // ---------------------------------------------------------------- recurring runs

    private void listRecurringRuns(ServerRequest req, ServerResponse res) {
        var experimentId = query(req, "experiment_id");
        var page = recurringRuns.list(ListRequest.of(req, RecurringRunCatalog.KEYS), scope(req, experimentId), experimentId);
        send(res, Status.OK_200, new KfpWire.ListRecurringRuns(page.items(), page.totalSize(), page.nextPageToken()));
    }

    private void createRecurringRun(ServerRequest req, ServerResponse res) {
        var request = KfpWire.read(Bodies.text(req), KfpWire.RecurringRun.class);
        var ns = writableNamespace(req, request.experimentId(), PipelineCatalog.firstNonBlank(request.namespace(), query(req, "namespace")));
        send(res, Status.OK_200, recurringRuns.create(request, ns));
    }

    private void getRecurringRun(ServerRequest req, ServerResponse res) {
        visible(req, KfpKinds.RECURRING_RUN, param(req, "id"), "recurring run", Role.VIEW);
        send(res, Status.OK_200, recurringRuns.get(param(req, "id")));
    }

    private void deleteRecurringRun(ServerRequest req, ServerResponse res) {
        visible(req, KfpKinds.RECURRING_RUN, param(req, "id"), "recurring run", Role.EDIT);
        recurringRuns.delete(param(req, "id"));
        send(res, Status.OK_200, EMPTY);
    }

    private void recurringRunAction(ServerRequest req, ServerResponse res) {
        var action = Action.of(param(req, "ref"), "recurring run").known("enable", "disable");
        visible(req, KfpKinds.RECURRING_RUN, action.id(), "recurring run", Role.EDIT);
        switch (action.verb()) {
            case "enable" -> recurringRuns.setMode(action.id(), RecurringRunSpec.Mode.ENABLE);
            case "disable" -> recurringRuns.setMode(action.id(), RecurringRunSpec.Mode.DISABLE);
            default -> throw action.unknown("enable, disable");
        }
        send(res, Status.OK_200, EMPTY);
    }

    // ---------------------------------------------------------------- access

    /**
     * The object {@code id} of {@code kind}, once the caller may view its namespace (else 404, as for an unknown id,
     * so that ids do not tell what exists elsewhere) and holds {@code needed} there (else 403).
     */
    private Resource visible(ServerRequest req, String kind, String id, String what, Role needed) {
        var r = kfp.find(kind, id).filter(x -> access.allows(req, x.metadata().namespace(), Role.VIEW))
                .orElseThrow(() -> KfpStore.notFound(id, what));
        if (needed != Role.VIEW) access.require(req, r.metadata().namespace(), needed);
        return r;
    }

    /** What a list reads: the {@code namespace} parameter's namespace (view needed), else every one the caller may view. */
    private ListRequest.Scope scope(ServerRequest req) {
        var ns = query(req, "namespace");
        if (!ns.isEmpty()) {
            access.require(req, ns, Role.VIEW);
            return ListRequest.Scope.of(ns);
        }
        var caller = Access.caller(req);
        var decided = new java.util.HashMap<String, Boolean>();
        return new ListRequest.Scope(Optional.empty(), n -> decided.computeIfAbsent(n, x -> access.policy().allows(caller, x, Role.VIEW)));
    }

    /** As {@link #scope(ServerRequest)}; with an experiment, its namespace, which a {@code namespace} given must match. */
    private ListRequest.Scope scope(ServerRequest req, String experimentId) {
        if (experimentId.isEmpty()) return scope(req);
        var ns = visible(req, KfpKinds.EXPERIMENT, experimentId, "experiment", Role.VIEW).metadata().namespace();
        var requested = query(req, "namespace");
        if (!requested.isEmpty() && !requested.equals(ns)) {
            throw InvalidSpecException.of("namespace", "experiment '" + experimentId + "' is in namespace '" + ns + "', not in '"
                    + Names.printable(requested) + "'");
        }
        return ListRequest.Scope.of(ns);
    }

    /**
     * The namespace a new run or recurring run goes to, once the caller may edit it: its experiment's (an experiment
     * the caller may not view reads as not found), else the one requested, else {@value KfpKinds#NAMESPACE}.
     */
    private String writableNamespace(ServerRequest req, String experimentId, String requested) {
        if (experimentId != null && !experimentId.isEmpty()) visible(req, KfpKinds.EXPERIMENT, experimentId, "experiment", Role.VIEW);
        var ns = runs.namespaceFor(experimentId, requested);
        access.require(req, ns, Role.EDIT);
        return ns;
    }

    /** A run body's {@code namespace}, Capstan's addition (KFP's Run has none: its namespace is its experiment's). */
    private static String bodyNamespace(String text) {
        try {
            var tree = KfpWire.MAPPER.readTree(text);
            return tree != null && tree.path("namespace").isTextual() ? tree.path("namespace").asText() : "";
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * The namespace whose pipelines a list or a lookup by name reads: the shared ones (no namespace, or
     * {@value KfpKinds#NAMESPACE}) for any signed-in user, another namespace's with view there.
     */
    private String readablePipelineNamespace(ServerRequest req, String ns) {
        if (ns.isEmpty() || ns.equals(KfpKinds.NAMESPACE)) {
            Access.caller(req);
            return KfpKinds.NAMESPACE;
        }
        access.require(req, ns, Role.VIEW);
        return ns;
    }

    /** The namespace a new pipeline goes to: shared ones are the server admin's to write, others need edit there. */
    private String writablePipelineNamespace(ServerRequest req, String ns) {
        if (ns == null || ns.isEmpty() || ns.equals(KfpKinds.NAMESPACE)) {
            Access.requireServerAdmin(req, "create or delete KFP's shared pipelines");
            return KfpKinds.NAMESPACE;
        }
        access.require(req, ns, Role.EDIT);
        return ns;
    }

    /** A shared pipeline is any signed-in user's to read; a namespaced one needs view there (else 404). */
    private Resource readablePipeline(ServerRequest req, String id) {
        var caller = Access.caller(req);
        return kfp.find(KfpKinds.PIPELINE, id).filter(p -> p.metadata().namespace().equals(KfpKinds.NAMESPACE)
                        || access.policy().allows(caller, p.metadata().namespace(), Role.VIEW))
                .orElseThrow(() -> KfpStore.notFound(id, "pipeline"));
    }

    private void writablePipeline(ServerRequest req, String id) {
        var ns = readablePipeline(req, id).metadata().namespace();
        if (ns.equals(KfpKinds.NAMESPACE)) Access.requireServerAdmin(req, "create or delete KFP's shared pipelines");
        else access.require(req, ns, Role.EDIT);
    }

    // ---------------------------------------------------------------- plumbing

    /** Last in the routing: anything else under the prefix gets KFP's 404 rather than the server's plain one. */
    private void unknownPath(ServerRequest req, ServerResponse res) {
        throw new NotFoundException("no v2beta1 endpoint answers " + req.prologue().method().text() + " "
                + Names.printable(req.path().path()) + "; see KFP's v2beta1 API");
    }

    /** A custom method call, {@code <id>:<verb>}. */
    record Action(String id, String verb, String what) {
        static Action of(String ref, String what) {
            int cut = ref.lastIndexOf(':');
            if (cut < 0) throw new NotFoundException("no such " + what + " method: POST on '" + Names.printable(ref) + "'; use <id>:<method>");
            return new Action(ref.substring(0, cut), ref.substring(cut + 1), what);
        }

        /** This action, when its verb is one of {@code verbs}: an unknown method is refused before any lookup. */
        Action known(String... verbs) {
            if (!java.util.Arrays.asList(verbs).contains(verb)) throw unknown(String.join(", ", verbs));
            return this;
        }

        NotFoundException unknown(String known) {
            return new NotFoundException("'" + Names.printable(verb) + "' is not a " + what + " method; use one of " + known);
        }
    }

    private static String param(ServerRequest req, String name) {
        return req.path().pathParameters().get(name);
    }

    private static String query(ServerRequest req, String name) {
        return req.query().first(name).orElse("");
    }

    private static void send(ServerResponse res, Status status, Object body) {
        try {
            res.status(status);
            res.header(HeaderNames.CONTENT_TYPE, "application/json");
            res.send(KfpWire.MAPPER.writeValueAsBytes(body));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise a KFP response", e);
        }
    }

    /**
     * An uploaded pipeline: the {@code uploadfile} part of a multipart form, as KFP's client sends it, or the whole
     * body when it is plain YAML or JSON.
     */
    record Upload(String text, String fileStem) {
        static Upload read(ServerRequest req) {
            var bytes = readLimited(req);
            var contentType = req.headers().first(HeaderNames.CONTENT_TYPE).orElse("");
            if (!contentType.toLowerCase(java.util.Locale.ROOT).startsWith("multipart/form-data")) return new Upload(utf8(bytes), "");
            var boundary = java.util.regex.Pattern.compile("boundary=\"?([^\";]+)\"?").matcher(contentType);
            if (!boundary.find()) throw InvalidSpecException.of("Content-Type", "a multipart/form-data upload needs a boundary parameter");
            var body = new String(bytes, StandardCharsets.ISO_8859_1);
            var delimiter = "--" + boundary.group(1);
            for (var part : body.split(java.util.regex.Pattern.quote(delimiter))) {
                int headerEnd = part.indexOf("\r\n\r\n");
                if (headerEnd < 0) continue;
                var headers = part.substring(0, headerEnd);
                var name = java.util.regex.Pattern.compile("name=\"([^\"]*)\"").matcher(headers);
                if (!name.find() || !name.group(1).equals("uploadfile")) continue;
                var file = java.util.regex.Pattern.compile("filename=\"([^\"]*)\"").matcher(headers);
                var stem = file.find() ? file.group(1).replaceAll("^.*[/\\\\]", "").replaceAll("\\.(ya?ml|json|zip|tar\\.gz|tgz)$", "") : "";
                var content = part.substring(headerEnd + 4);
                if (content.endsWith("\r\n")) content = content.substring(0, content.length() - 2);
                return new Upload(utf8(content.getBytes(StandardCharsets.ISO_8859_1)), stem);
            }
            throw InvalidSpecException.of("uploadfile", "the multipart form has no 'uploadfile' part; send the pipeline YAML as uploadfile");
        }

        private static byte[] readLimited(ServerRequest req) {
            var declared = req.headers().contentLength();
            if (declared.isPresent() && declared.getAsLong() > Bodies.MAX_BODY_BYTES) throw tooLarge(declared.getAsLong());
            var out = new ByteArrayOutputStream();
            try (var in = req.content().inputStream()) {
                var buf = new byte[16384];
                int n;
                while ((n = in.read(buf)) > 0) {
                    out.write(buf, 0, n);
                    if (out.size() > Bodies.MAX_BODY_BYTES) throw tooLarge(out.size());
                }
            } catch (IOException e) {
                throw new TransientException("could not read the upload: " + e.getMessage(), e);
            }
            return out.toByteArray();
        }

        private static PayloadTooLargeException tooLarge(long size) {
            return new PayloadTooLargeException("the upload of " + size + " bytes or more exceeds the limit of " + Bodies.MAX_BODY_BYTES
                    + " bytes (4 MiB); a compiled pipeline is rarely larger, so check that this is the right file");
        }

        private static String utf8(byte[] bytes) {
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
            } catch (CharacterCodingException e) {
                throw InvalidSpecException.of("uploadfile", "the uploaded pipeline is not UTF-8 text; upload the compiled YAML");
            }
        }
    }
}
