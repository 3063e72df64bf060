package io.capstan.server.kfp;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.ConflictException;
import io.capstan.core.Ids;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Json;
import io.capstan.core.Names;
import io.capstan.core.Resource;
import io.capstan.pipelines.PipelineParser;
import io.capstan.pipelines.PipelineValidator;
import io.capstan.store.LabelSelector;
import java.io.IOException;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * KFP pipelines and their versions, each version holding its compiled IR as text. A pipeline in
 * {@value KfpKinds#NAMESPACE} is a shared pipeline (KFP's pipeline without a namespace); one in another namespace is
 * that namespace's, and its versions live beside it. Names are unique per namespace.
 */
final class PipelineCatalog {
    static final Set<String> PIPELINE_KEYS = Set.of("pipeline_id", "name", "display_name", "description", "created_at");
    static final Set<String> VERSION_KEYS = Set.of("pipeline_version_id", "name", "display_name", "description", "created_at");

    private final KfpStore store;

    PipelineCatalog(KfpStore store) {
        this.store = store;
    }

    /** Creates the pipeline in {@code namespace} ({@value KfpKinds#NAMESPACE}: shared). */
    KfpWire.Pipeline create(KfpWire.Pipeline request, String namespace) {
        var name = firstNonBlank(request.name(), request.displayName());
        if (name.isEmpty()) throw InvalidSpecException.of("display_name", "a pipeline needs a display_name (or a name)");
        if (findByName(name, namespace).isPresent()) {
            throw new ConflictException("a pipeline named '" + Names.printable(name) + "' already exists; upload a new version to it instead");
        }
        var spec = Json.json().createObjectNode();
        spec.put("name", name);
        spec.put("displayName", firstNonBlank(request.displayName(), name));
        spec.put("description", nonNull(request.description()));
        return pipeline(store.create(KfpKinds.PIPELINE_KIND, namespace, Ids.uid(), spec, Map.of(), Map.of()));
    }

    /** Parses and validates {@code yaml}, then stores a pipeline with it as the first version. */
    KfpWire.Pipeline upload(String yaml, String name, String displayName, String description, String namespace) {
        validate(yaml);
        var pipeline = create(new KfpWire.Pipeline(null, displayName, name, description, null, null), namespace);
        addVersion(pipeline.pipelineId(), yaml, name, displayName, description);
        return pipeline;
    }

    KfpWire.PipelineVersion uploadVersion(String pipelineId, String yaml, String name, String displayName, String description) {
        validate(yaml);
        return addVersion(pipelineId, yaml, name, displayName, description);
    }

    /** A version from the JSON API, where {@code pipeline_spec} is the IR as an object. */
    KfpWire.PipelineVersion createVersion(String pipelineId, KfpWire.PipelineVersion request) {
        if (request.pipelineSpec() == null || request.pipelineSpec().isNull()) {
            throw InvalidSpecException.of("pipeline_spec", request.packageUrl() != null
                    ? "package_url is not supported (Capstan does not fetch URLs); send the IR inline as pipeline_spec or upload the file"
                    : "a pipeline version needs its compiled pipeline as pipeline_spec");
        }
        var text = request.pipelineSpec().isTextual() ? request.pipelineSpec().asText() : request.pipelineSpec().toString();
        validate(text);
        return addVersion(pipelineId, text, request.name(), request.displayName(), request.description());
    }

    KfpWire.Pipeline createWithVersion(KfpWire.CreatePipelineAndVersion request, String namespace) {
        if (request.pipeline() == null) throw InvalidSpecException.of("pipeline", "required: the pipeline to create");
        if (request.pipelineVersion() == null) throw InvalidSpecException.of("pipeline_version", "required: its first version");
        var v = request.pipelineVersion();
        var text = v.pipelineSpec() == null ? "" : v.pipelineSpec().isTextual() ? v.pipelineSpec().asText() : v.pipelineSpec().toString();
        if (text.isEmpty()) throw InvalidSpecException.of("pipeline_version.pipeline_spec", "required: the compiled pipeline");
        validate(text);
        var pipeline = create(request.pipeline(), namespace);
        addVersion(pipeline.pipelineId(), text, v.name(), v.displayName(), v.description());
        return pipeline;
    }

    private KfpWire.PipelineVersion addVersion(String pipelineId, String yaml, String name, String displayName, String description) {
        var pipeline = store.get(KfpKinds.PIPELINE, pipelineId, "pipeline");
        var versionName = firstNonBlank(name, displayName, KfpStore.text(pipeline.spec(), "name"));
        var existing = versions(pipeline);
        boolean taken = existing.stream().anyMatch(v -> KfpStore.text(v.spec(), "name").equals(versionName));
        var finalName = taken ? versionName + "-" + (existing.size() + 1) : versionName;
        var spec = Json.json().createObjectNode();
        spec.put("pipelineId", pipelineId);
        spec.put("name", finalName);
        spec.put("displayName", firstNonBlank(displayName, finalName));
        spec.put("description", nonNull(description));
        spec.put("pipelineSpec", yaml);
        return version(store.create(KfpKinds.PIPELINE_VERSION_KIND, pipeline.metadata().namespace(), Ids.uid(), spec, Map.of(KfpKinds.LABEL_PIPELINE_ID, pipelineId), Map.of()));
    }

    /**
     * @throws InvalidSpecException naming each problem, with its field path and line, when the IR does not parse or
     *                              validate
     */
    static void validate(String yaml) {
        var parsed = new PipelineParser().parse("pipeline", yaml);
        new PipelineValidator().validate(parsed);
    }

    KfpWire.Pipeline get(String id) {
        return pipeline(store.get(KfpKinds.PIPELINE, id, "pipeline"));
    }

    /** The namespace a pipeline lives in; {@value KfpKinds#NAMESPACE} for a shared one. */
    String namespaceOf(String id) {
        return store.get(KfpKinds.PIPELINE, id, "pipeline").metadata().namespace();
    }

    /** The pipeline, when a run in {@code namespace} may use it: a shared one or that namespace's own. */
    Resource getFor(String id, String namespace) {
        var p = store.get(KfpKinds.PIPELINE, id, "pipeline");
        if (!usableFrom(p, namespace)) throw KfpStore.notFound(id, "pipeline");
        return p;
    }

    /** The version, when a run in {@code namespace} may use it: a shared one or that namespace's own. */
    KfpWire.PipelineVersion getVersionFor(String versionId, String namespace) {
        var v = store.get(KfpKinds.PIPELINE_VERSION, versionId, "pipeline version");
        if (!usableFrom(v, namespace)) throw KfpStore.notFound(versionId, "pipeline version");
        return version(v);
    }

    private static boolean usableFrom(Resource r, String namespace) {
        var ns = r.metadata().namespace();
        return ns.equals(KfpKinds.NAMESPACE) || ns.equals(namespace);
    }

    KfpWire.Pipeline getByName(String name, String namespace) {
        return findByName(name, namespace).map(PipelineCatalog::pipeline)
                .orElseThrow(() -> new io.capstan.core.NotFoundException("no pipeline is named '" + Names.printable(name) + "'"));
    }

    private java.util.Optional<Resource> findByName(String name, String namespace) {
        return store.all(KfpKinds.PIPELINE, namespace, LabelSelector.EVERYTHING).stream()
                .filter(r -> KfpStore.text(r.spec(), "name").equals(name)).findFirst();
    }

    /** The pipelines of one namespace: the shared ones for {@value KfpKinds#NAMESPACE}, as KFP lists them. */
    ListRequest.Page<KfpWire.Pipeline> list(ListRequest request, String namespace) {
        var rows = store.all(KfpKinds.PIPELINE, namespace, LabelSelector.EVERYTHING).stream().map(r -> {
            var p = pipeline(r);
            return new ListRequest.Row<>(p, p.pipelineId(), fields(p.pipelineId(), "pipeline_id", p.name(), p.displayName(), p.description(), r));
        }).toList();
        return request.page(rows);
    }

    /** Deletes the pipeline; with versions left it refuses unless {@code cascade}, as KFP does. */
    void delete(String id, boolean cascade) {
        var pipeline = store.get(KfpKinds.PIPELINE, id, "pipeline");
        var versions = versions(pipeline);
        if (!versions.isEmpty() && !cascade) {
            throw new ConflictException("pipeline '" + id + "' still has " + versions.size() + " version(s); delete them first or pass cascade=true");
        }
        versions.forEach(v -> store.delete(v.key()));
        store.delete(pipeline.key());
    }

    KfpWire.PipelineVersion getVersion(String pipelineId, String versionId) {
        return version(versionOf(pipelineId, versionId));
    }

    private Resource versionOf(String pipelineId, String versionId) {
        var v = store.get(KfpKinds.PIPELINE_VERSION, versionId, "pipeline version");
        if (!KfpStore.text(v.spec(), "pipelineId").equals(pipelineId)) {
            throw new io.capstan.core.NotFoundException("pipeline version '" + versionId + "' is not a version of pipeline '" + Names.printable(pipelineId) + "'");
        }
        return v;
    }

    /** The IR text of a version. */
    String irText(String versionId) {
        return KfpStore.text(store.get(KfpKinds.PIPELINE_VERSION, versionId, "pipeline version").spec(), "pipelineSpec");
    }

    /** The newest version of a pipeline, which KFP runs when a reference names only the pipeline. */
    String latestVersionId(String pipelineId) {
        return versions(store.get(KfpKinds.PIPELINE, pipelineId, "pipeline")).stream().max(Comparator.comparing(KfpStore::created)).map(r -> r.metadata().name())
                .orElseThrow(() -> new io.capstan.core.NotFoundException("pipeline '" + pipelineId + "' has no versions"));
    }

    ListRequest.Page<KfpWire.PipelineVersion> listVersions(String pipelineId, ListRequest request) {
        var rows = versions(store.get(KfpKinds.PIPELINE, pipelineId, "pipeline")).stream().map(r -> {
            var v = versionSummary(r);
            return new ListRequest.Row<>(v, v.pipelineVersionId(), fields(v.pipelineVersionId(), "pipeline_version_id", v.name(), v.displayName(), v.description(), r));
        }).toList();
        return request.page(rows);
    }

    void deleteVersion(String pipelineId, String versionId) {
        store.delete(versionOf(pipelineId, versionId).key());
    }

    private List<Resource> versions(Resource pipeline) {
        return store.all(KfpKinds.PIPELINE_VERSION, pipeline.metadata().namespace(),
                LabelSelector.parse(KfpKinds.LABEL_PIPELINE_ID + "=" + pipeline.metadata().name()));
    }

    private static Map<String, Object> fields(String id, String idKey, String name, String displayName, String description, Resource r) {
        var m = new LinkedHashMap<String, Object>();
        m.put(idKey, id);
        m.put("name", name);
        m.put("display_name", displayName);
        m.put("description", description);
        m.put("created_at", KfpStore.created(r));
        return m;
    }

    static KfpWire.Pipeline pipeline(Resource r) {
        var s = r.spec();
        return new KfpWire.Pipeline(r.metadata().name(), KfpStore.text(s, "displayName"), KfpStore.text(s, "name"),
                KfpStore.text(s, "description"), KfpStore.created(r).toString(),
                r.metadata().namespace().equals(KfpKinds.NAMESPACE) ? "" : r.metadata().namespace());
    }

    private static KfpWire.PipelineVersion version(Resource r) {
        var s = r.spec();
        return new KfpWire.PipelineVersion(KfpStore.text(s, "pipelineId"), r.metadata().name(), KfpStore.text(s, "displayName"),
                KfpStore.text(s, "name"), KfpStore.text(s, "description"), KfpStore.created(r).toString(), irObject(KfpStore.text(s, "pipelineSpec")), null);
    }

    /** Lists leave the IR out: it can be megabytes per version. */
    private static KfpWire.PipelineVersion versionSummary(Resource r) {
        var v = version(r);
        return new KfpWire.PipelineVersion(v.pipelineId(), v.pipelineVersionId(), v.displayName(), v.name(), v.description(), v.createdAt(), null, null);
    }

    /** The IR's first YAML document as an object, as KFP returns {@code pipeline_spec}. */
    static JsonNode irObject(String yaml) {
        try {
            return Json.yaml().readTree(yaml);
        } catch (IOException e) {
            throw new IllegalStateException("a stored pipeline version no longer parses: " + e.getMessage(), e);
        }
    }

    static String firstNonBlank(String... values) {
        for (var v : values) if (v != null && !v.isBlank()) return v.trim();
        return "";
    }

    private static String nonNull(String s) {
        return s == null ? "" : s;
    }
}
