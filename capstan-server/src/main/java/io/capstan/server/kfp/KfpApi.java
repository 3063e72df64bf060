package io.capstan.server.kfp;

import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import io.capstan.core.NotFoundException;
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

/**
 * KFP's REST API v2beta1, mounted at {@code /apis/v2beta1}: pipelines and versions (with YAML upload), experiments,
 * runs and recurring runs, as in KFP's swagger. Errors answer in grpc-gateway's shape (see {@link KfpErrors}), the
 * one KFP clients parse. Custom methods ({@code :archive}, {@code :terminate}, ...) share the path segment with the
 * id, so they route as {@code POST /x/{ref}} and split on the colon.
 *
 * <p>Access: Capstan keeps every KFP object in namespace {@value KfpKinds#NAMESPACE}. Experiments, runs (their logs
 * included) and recurring runs need view there to read and edit to write; a body or {@code namespace} parameter
 * naming another namespace is refused (400), and a list for a namespace the caller may view but that holds nothing
 * is empty. Pipelines and their versions are KFP's shared pipelines (no namespace): every signed-in user may read
 * them, and only the server admin may create or delete them.
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

    /**
     * @param metadata where the engine records task executions and artifacts, whose ids run details report
     * @param backend  where task logs are read from
     * @param clock    stamps a recurring run's {@code updated_at} when it is enabled or disabled
     * @param version  the server version, reported by {@code /healthz} as {@code x_capstan.tag_name}
     */
    public KfpApi(ResourceStore store, MetadataStore metadata, Backend backend, Clock clock, String version, Access access) {
        this.access = Objects.requireNonNull(access, "access");
        var kfp = new KfpStore(Objects.requireNonNull(store, "store"));
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
        readShared(req);
        var page = pipelines.list(ListRequest.of(req, PipelineCatalog.PIPELINE_KEYS));
        send(res, Status.OK_200, new KfpWire.ListPipelines(page.items(), page.totalSize(), page.nextPageToken()));
    }

    private void createPipeline(ServerRequest req, ServerResponse res) {
        Access.requireServerAdmin(req, "create or delete KFP's shared pipelines");
        send(res, Status.OK_200, pipelines.create(KfpWire.read(Bodies.text(req), KfpWire.Pipeline.class)));
    }

    private void uploadPipeline(ServerRequest req, ServerResponse res) {
        Access.requireServerAdmin(req, "create or delete KFP's shared pipelines");
        var upload = Upload.read(req);
        var name = PipelineCatalog.firstNonBlank(query(req, "name"), query(req, "display_name"), upload.fileStem());
        send(res, Status.OK_200, pipelines.upload(upload.text(), name, query(req, "display_name"), query(req, "description")));
    }

    private void uploadVersion(ServerRequest req, ServerResponse res) {
        Access.requireServerAdmin(req, "create or delete KFP's shared pipelines");
        var upload = Upload.read(req);
        var pipelineId = PipelineCatalog.firstNonBlank(query(req, "pipelineid"), query(req, "pipeline_id"));
        if (pipelineId.isEmpty()) throw InvalidSpecException.of("pipelineid", "required: the id of the pipeline to add a version to");
        var name = PipelineCatalog.firstNonBlank(query(req, "name"), query(req, "display_name"), upload.fileStem());
        send(res, Status.OK_200, pipelines.uploadVersion(pipelineId, upload.text(), name, query(req, "display_name"), query(req, "description")));
    }

    private void createPipelineAndVersion(ServerRequest req, ServerResponse res) {
        Access.requireServerAdmin(req, "create or delete KFP's shared pipelines");
        send(res, Status.OK_200, pipelines.createWithVersion(KfpWire.read(Bodies.text(req), KfpWire.CreatePipelineAndVersion.class)));
    }

    private void getPipelineByName(ServerRequest req, ServerResponse res) {
        readShared(req);
        send(res, Status.OK_200, pipelines.getByName(param(req, "name")));
    }

    private void getPipeline(ServerRequest req, ServerResponse res) {
        readShared(req);
        send(res, Status.OK_200, pipelines.get(param(req, "id")));
    }

    private void deletePipeline(ServerRequest req, ServerResponse res) {
        Access.requireServerAdmin(req, "create or delete KFP's shared pipelines");
        pipelines.delete(param(req, "id"), Boolean.parseBoolean(query(req, "cascade")));
        send(res, Status.OK_200, EMPTY);
    }

    private void listVersions(ServerRequest req, ServerResponse res) {
        readShared(req);
        var page = pipelines.listVersions(param(req, "id"), ListRequest.of(req, PipelineCatalog.VERSION_KEYS));
        send(res, Status.OK_200, new KfpWire.ListPipelineVersions(page.items(), page.totalSize(), page.nextPageToken()));
    }

    private void createVersion(ServerRequest req, ServerResponse res) {
        Access.requireServerAdmin(req, "create or delete KFP's shared pipelines");
        send(res, Status.OK_200, pipelines.createVersion(param(req, "id"), KfpWire.read(Bodies.text(req), KfpWire.PipelineVersion.class)));
    }

    private void getVersion(ServerRequest req, ServerResponse res) {
        readShared(req);
        send(res, Status.OK_200, pipelines.getVersion(param(req, "id"), param(req, "vid")));
    }

    private void deleteVersion(ServerRequest req, ServerResponse res) {
        Access.requireServerAdmin(req, "create or delete KFP's shared pipelines");
        pipelines.deleteVersion(param(req, "id"), param(req, "vid"));
        send(res, Status.OK_200, EMPTY);
    }

    // ---------------------------------------------------------------- experiments

    private void listExperiments(ServerRequest req, ServerResponse res) {
        var page = experiments.list(ListRequest.of(req, ExperimentCatalog.KEYS));
        if (!listsStored(req)) page = new ListRequest.Page<>(java.util.List.of(), 0, "");
        send(res, Status.OK_200, new KfpWire.ListExperiments(page.items(), page.totalSize(), page.nextPageToken()));
    }

    private void createExperiment(ServerRequest req, ServerResponse res) {
        send(res, Status.OK_200, experiments.create(KfpWire.read(writable(req), KfpWire.Experiment.class)));
    }

    private void getExperiment(ServerRequest req, ServerResponse res) {
        access.require(req, KfpKinds.NAMESPACE, Role.VIEW);
        send(res, Status.OK_200, experiments.get(param(req, "id")));
    }

    private void deleteExperiment(ServerRequest req, ServerResponse res) {
        access.require(req, KfpKinds.NAMESPACE, Role.EDIT);
        experiments.delete(param(req, "id"));
        send(res, Status.OK_200, EMPTY);
    }

    private void experimentAction(ServerRequest req, ServerResponse res) {
        access.require(req, KfpKinds.NAMESPACE, Role.EDIT);
        var action = Action.of(param(req, "ref"), "experiment");
        switch (action.verb()) {
            case "archive" -> experiments.archive(action.id());
            case "unarchive" -> experiments.unarchive(action.id());
            default -> throw action.unknown("archive, unarchive");
        }
        send(res, Status.OK_200, EMPTY);
    }

    // ---------------------------------------------------------------- runs

    private void listRuns(ServerRequest req, ServerResponse res) {
        var page = runs.list(ListRequest.of(req, RunCatalog.KEYS), query(req, "experiment_id"));
        if (!listsStored(req)) page = new ListRequest.Page<>(java.util.List.of(), 0, "");
        send(res, Status.OK_200, new KfpWire.ListRuns(page.items(), page.totalSize(), page.nextPageToken()));
    }

    private void createRun(ServerRequest req, ServerResponse res) {
        send(res, Status.OK_200, runs.create(KfpWire.read(writable(req), KfpWire.Run.class)));
    }

    private void getRun(ServerRequest req, ServerResponse res) {
        access.require(req, KfpKinds.NAMESPACE, Role.VIEW);
        send(res, Status.OK_200, runs.get(param(req, "id")));
    }

    /**
     * Capstan's addition (KFP reads logs from pods): the output of each task of the run, in task order, each under
     * a {@code ==> task <==} header; {@code task} picks one task by path or name, {@code tail_lines} caps each.
     */
    private void runLogs(ServerRequest req, ServerResponse res) {
        access.require(req, KfpKinds.NAMESPACE, Role.VIEW);
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
        access.require(req, KfpKinds.NAMESPACE, Role.EDIT);
        runs.delete(param(req, "id"));
        send(res, Status.OK_200, EMPTY);
    }

    private void runAction(ServerRequest req, ServerResponse res) {
        access.require(req, KfpKinds.NAMESPACE, Role.EDIT);
        var action = Action.of(param(req, "ref"), "run");
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
        var page = recurringRuns.list(ListRequest.of(req, RecurringRunCatalog.KEYS), query(req, "experiment_id"));
        if (!listsStored(req)) page = new ListRequest.Page<>(java.util.List.of(), 0, "");
        send(res, Status.OK_200, new KfpWire.ListRecurringRuns(page.items(), page.totalSize(), page.nextPageToken()));
    }

    private void createRecurringRun(ServerRequest req, ServerResponse res) {
        send(res, Status.OK_200, recurringRuns.create(KfpWire.read(writable(req), KfpWire.RecurringRun.class)));
    }

    private void getRecurringRun(ServerRequest req, ServerResponse res) {
        access.require(req, KfpKinds.NAMESPACE, Role.VIEW);
        send(res, Status.OK_200, recurringRuns.get(param(req, "id")));
    }

    private void deleteRecurringRun(ServerRequest req, ServerResponse res) {
        access.require(req, KfpKinds.NAMESPACE, Role.EDIT);
        recurringRuns.delete(param(req, "id"));
        send(res, Status.OK_200, EMPTY);
    }

    private void recurringRunAction(ServerRequest req, ServerResponse res) {
        access.require(req, KfpKinds.NAMESPACE, Role.EDIT);
        var action = Action.of(param(req, "ref"), "recurring run");
        switch (action.verb()) {
            case "enable" -> recurringRuns.setMode(action.id(), RecurringRunSpec.Mode.ENABLE);
            case "disable" -> recurringRuns.setMode(action.id(), RecurringRunSpec.Mode.DISABLE);
            default -> throw action.unknown("enable, disable");
        }
        send(res, Status.OK_200, EMPTY);
    }

    // ---------------------------------------------------------------- access

    /** Shared pipelines: any signed-in user, not a workload's token (which the authentication filter keeps away). */
    private static void readShared(ServerRequest req) {
        Access.caller(req);
    }

    /**
     * Whether a list shows the stored objects: the caller asked for namespace {@value KfpKinds#NAMESPACE} (or none)
     * and may view it. A list for another namespace the caller may view is empty; one it may not view is refused.
     */
    private boolean listsStored(ServerRequest req) {
        var ns = query(req, "namespace");
        if (!ns.isEmpty()) {
            access.require(req, ns, Role.VIEW);
            return ns.equals(KfpKinds.NAMESPACE);
        }
        return access.allows(req, KfpKinds.NAMESPACE, Role.VIEW);
    }

    /** The body of a create, once the caller may edit the namespace it names, which must be where KFP objects live. */
    private String writable(ServerRequest req) {
        var text = Bodies.text(req);
        String ns = "";
        try {
            var tree = KfpWire.MAPPER.readTree(text);
            if (tree != null && tree.path("namespace").isTextual()) ns = tree.path("namespace").asText();
        } catch (IOException e) {
            // KfpWire.read reports the malformed body below.
        }
        if (!ns.isEmpty() && !ns.equals(KfpKinds.NAMESPACE)) {
            access.require(req, ns, Role.EDIT);
            throw InvalidSpecException.of("namespace", "Capstan keeps KFP's experiments, runs and recurring runs in namespace '"
                    + KfpKinds.NAMESPACE + "'; leave namespace empty or set it to '" + KfpKinds.NAMESPACE + "', got '" + Names.printable(ns) + "'");
        }
        access.require(req, KfpKinds.NAMESPACE, Role.EDIT);
        return text;
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
