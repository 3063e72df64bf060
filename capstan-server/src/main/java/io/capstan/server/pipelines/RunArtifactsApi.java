package io.capstan.server.pipelines;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.artifacts.ArtifactLocator;
import io.capstan.artifacts.ArtifactUri;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import io.capstan.core.NotFoundException;
import io.capstan.core.Problems;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.security.Role;
import io.capstan.core.security.WorkloadScope;
import io.capstan.pipelines.run.PipelineRuns;
import io.capstan.server.http.Access;
import io.capstan.server.http.Bodies;
import io.capstan.store.ResourceStore;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A pipeline run's output artifacts, under {@code /apis/capstan/v1}:
 * <pre>
 * GET /namespaces/{ns}/pipelineruns/{name}/artifacts                              the outputs: task, output, name, type, uri
 * GET /namespaces/{ns}/pipelineruns/{name}/artifacts/content?task=..&amp;output=..   one output's bytes (a single-file artifact); task is a path or a name
 * </pre>
 * Either needs view in the run's namespace, or the run's own workload token, which each of its steps finds in
 * {@code CAPSTAN_TOKEN} with this URL in {@code CAPSTAN_ARTIFACTS_URL}. Only artifacts where the engine placed them
 * are served, under the run's pipeline root and uid: an executor output that names another URI is listed but not read.
 */
public final class RunArtifactsApi implements HttpService {
    private final ResourceStore store;
    private final ArtifactLocator artifacts;
    private final Access access;

    public RunArtifactsApi(ResourceStore store, ArtifactLocator artifacts, Access access) {
        this.store = Objects.requireNonNull(store, "store");
        this.artifacts = Objects.requireNonNull(artifacts, "artifacts");
        this.access = Objects.requireNonNull(access, "access");
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/namespaces/{ns}/pipelineruns/{name}/artifacts", this::list)
                .get("/namespaces/{ns}/pipelineruns/{name}/artifacts/content", this::content);
    }

    private record Output(String task, String output, String name, String type, String uri) {
    }

    private void list(ServerRequest req, ServerResponse res) {
        var run = authorizedRun(req);
        Bodies.send(req, res, Status.OK_200, Map.of("items", outputs(run)));
    }

    private void content(ServerRequest req, ServerResponse res) {
        var run = authorizedRun(req);
        var problems = new Problems();
        var task = req.query().first("task").orElse("");
        var output = req.query().first("output").orElse("");
        if (task.isEmpty()) problems.add("task", "required: the task whose output to read: its path as the artifacts list names it, or its name");
        if (output.isEmpty()) problems.add("output", "required: the output artifact's name, as the artifacts list names it");
        problems.throwIfAny();
        var found = outputs(run).stream().filter(o -> (o.task().equals(task) || o.task().endsWith("/" + task)) && o.output().equals(output))
                .findFirst()
                .orElseThrow(() -> new NotFoundException("run " + run.metadata().namespace() + "/" + run.metadata().name()
                        + " has no output artifact '" + Names.printable(output) + "' of task '" + Names.printable(task) + "'"));
        var placed = run.status().field("pipelineRoot").map(JsonNode::asText).orElse("") + "/" + run.metadata().uid() + "/";
        if (placed.length() <= run.metadata().uid().length() + 2 || !found.uri().startsWith(placed) || found.uri().contains("/../")) {
            throw InvalidSpecException.of("output", "artifact '" + Names.printable(output) + "' is at '" + Names.printable(found.uri())
                    + "', outside the run's pipeline root; only artifacts the engine placed under " + placed + " are served");
        }
        res.header(HeaderNames.CONTENT_TYPE, "application/octet-stream");
        try (InputStream in = open(found.uri()); var out = res.outputStream()) {
            in.transferTo(out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read artifact " + found.uri() + ": " + e.getMessage(), e);
        }
    }

    private InputStream open(String uri) throws IOException {
        var parsed = ArtifactUri.parse(uri);
        if (parsed.scheme() == ArtifactUri.Scheme.FILE) {
            var path = Path.of(parsed.path());
            if (Files.isDirectory(path)) {
                throw InvalidSpecException.of("output", "artifact at '" + Names.printable(uri) + "' is a folder; only single-file artifacts can be read here");
            }
            if (!Files.isRegularFile(path)) throw new NotFoundException("artifact at '" + Names.printable(uri) + "' has not been written");
            return Files.newInputStream(path);
        }
        return artifacts.storeOf(parsed, "output").get(parsed.path());
    }

    /** The run, once the caller may read its artifacts: view in its namespace, or the run's own workload token. */
    private Resource authorizedRun(ServerRequest req) {
        var ns = req.path().pathParameters().get("ns");
        var name = req.path().pathParameters().get("name");
        var problems = new Problems();
        Names.checkLabel(ns).ifPresent(m -> problems.add("metadata.namespace", "namespace " + m));
        Names.checkSubdomain(name).ifPresent(m -> problems.add("metadata.name", "name " + m));
        problems.throwIfAny();
        if (!Access.caller(req).isWorkloadScopedTo(ns, WorkloadScope.RUN_ARTIFACTS, name)) access.require(req, ns, Role.VIEW);
        return store.get(new ResourceKey(PipelineRuns.KIND, ns, name));
    }

    private static List<Output> outputs(Resource run) {
        var out = new ArrayList<Output>();
        var tasks = run.status().field("tasks").orElse(null);
        if (tasks == null) return out;
        var sorted = new LinkedHashMap<String, JsonNode>();
        tasks.properties().forEach(e -> sorted.put(e.getKey(), e.getValue()));
        sorted.forEach((task, status) -> status.path("outputs").path("artifacts").properties().forEach(e -> {
            for (var a : e.getValue()) {
                out.add(new Output(task, e.getKey(), a.path("name").asText(""), a.path("type").asText(""), a.path("uri").asText("")));
            }
        }));
        return out;
    }
}
