package io.capstan.pipelines.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.FieldError;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Problems;
import io.capstan.core.ResourceParser;
import io.capstan.pipelines.ExecutionPlan;
import io.capstan.pipelines.ParsedPipeline;
import io.capstan.pipelines.PipelineParser;
import io.capstan.pipelines.PipelinePlanner;
import io.capstan.pipelines.PipelineValidator;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Spec of a {@code PipelineRun}, read from the resource's spec tree (unknown fields such as {@code serviceAccount}
 * stay in the stored resource untouched).
 *
 * @param pipelineSpec   the compiled KFP IR, inline (an object, or YAML/JSON text)
 * @param platformSpec   the optional platform spec; an empty object when absent
 * @param parameters     run parameters by root input name
 * @param pipelineRoot   where artifacts go; empty means the pipeline's default, or the run folder
 * @param enableCaching  the per-run switch; a task is cached only when this and its own {@code enableCache} hold
 * @param cancelled      set by terminate: running steps are killed and the run ends Cancelled
 * @param experiment     the experiment whose lineage context is the parent of the run's; empty for none
 */
public record PipelineRunSpec(JsonNode pipelineSpec, ObjectNode platformSpec, Map<String, JsonNode> parameters,
                              String pipelineRoot, boolean enableCaching, boolean cancelled, String experiment) {
    private static final PipelinePlanner PLANNER = new PipelinePlanner(new PipelineValidator());
    private static final int RECENT_PIPELINES = 8;
    /** Guarded by itself; see {@link #planned()}. */
    private static final Map<String, Planned> RECENT = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Planned> eldest) {
            return size() > RECENT_PIPELINES;
        }
    };

    public PipelineRunSpec {
        pipelineSpec = pipelineSpec.deepCopy();
        platformSpec = platformSpec.deepCopy();
        parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
        Objects.requireNonNull(pipelineRoot, "pipelineRoot");
        Objects.requireNonNull(experiment, "experiment");
    }

    /** Validates the spec tree, the inline pipeline included, reporting every problem; for the kind registry. */
    static void validate(ObjectNode spec, Problems problems) {
        var read = read(spec, problems);
        if (read == null) return;
        try {
            var root = read.planned().plan().root();
            Objects.requireNonNull(root);
        } catch (InvalidSpecException e) {
            for (var err : e.errors()) problems.add(prefix(err), err.message());
        }
    }

    private static String prefix(FieldError err) {
        var base = err.document() == 1 ? "spec.platformSpec" : "spec.pipelineSpec";
        return err.path().isEmpty() ? base : base + "." + err.path();
    }

    /** Reads a spec that passed validation. */
    public static PipelineRunSpec of(ObjectNode spec) {
        var problems = new Problems();
        var read = read(spec, problems);
        problems.throwIfAny();
        return read;
    }

    /** A pipeline parsed and planned; both are immutable, and a pure function of the text they were read from. */
    record Planned(ParsedPipeline parsed, ExecutionPlan plan) {
    }

    /**
     * The pipeline parsed and planned. A run's text is parsed when it is applied (validation) and again when it is
     * first reconciled, and each took longer than all of a 500-step run's status writes together; so the last few
     * good results are kept by their text. Failures are not kept: they are cheap to reach again.
     *
     * @throws InvalidSpecException when the inline pipeline does not parse, validate or plan
     */
    Planned planned() {
        var text = pipelineText();
        synchronized (RECENT) {
            var known = RECENT.get(text);
            if (known != null) return known;
        }
        var parsed = new PipelineParser().parse("spec.pipelineSpec", text);
        var planned = new Planned(parsed, PLANNER.plan(parsed));
        synchronized (RECENT) {
            RECENT.put(text, planned);
        }
        return planned;
    }

    /** The pipeline as the parser sees it: the IR, then the platform spec as a second document. */
    private String pipelineText() {
        var text = pipelineSpec.isTextual() ? pipelineSpec.asText() : pipelineSpec.toString();
        return platformSpec.isEmpty() ? text : text + "\n---\n" + platformSpec;
    }

    private static PipelineRunSpec read(ObjectNode spec, Problems problems) {
        var pipeline = spec.get("pipelineSpec");
        if (pipeline == null || pipeline.isNull()) {
            problems.add("spec.pipelineSpec", "required: the compiled KFP pipeline (PipelineSpec IR) inline, as an object or as YAML text");
        } else if (!pipeline.isObject() && !pipeline.isTextual()) {
            problems.add("spec.pipelineSpec", "expected the compiled pipeline as an object or YAML text, got " + ResourceParser.describe(pipeline));
        }
        ObjectNode platform = JsonNodeFactory.instance.objectNode();
        var platformNode = spec.get("platformSpec");
        if (platformNode != null && !platformNode.isNull()) {
            if (platformNode.isObject()) platform = (ObjectNode) platformNode;
            else problems.add("spec.platformSpec", "expected the platform spec as an object with 'platforms', got " + ResourceParser.describe(platformNode));
        }
        var parameters = new LinkedHashMap<String, JsonNode>();
        var params = spec.get("parameters");
        if (params != null && !params.isNull()) {
            if (!params.isObject()) problems.add("spec.parameters", "expected a map of parameter name to value, got " + ResourceParser.describe(params));
            else params.properties().forEach(e -> parameters.put(e.getKey(), e.getValue()));
        }
        var root = text(spec, "pipelineRoot", problems);
        var experiment = text(spec, "experiment", problems);
        var caching = bool(spec, "enableCaching", true, problems);
        var cancelled = bool(spec, "cancelled", false, problems);
        if (!problems.isEmpty()) return null;
        return new PipelineRunSpec(pipeline, platform, parameters, root, caching, cancelled, experiment);
    }

    private static String text(ObjectNode spec, String field, Problems problems) {
        var node = spec.get(field);
        if (node == null || node.isNull()) return "";
        if (!node.isTextual()) {
            problems.add("spec." + field, "expected a string, got " + ResourceParser.describe(node));
            return "";
        }
        return node.asText();
    }

    private static boolean bool(ObjectNode spec, String field, boolean fallback, Problems problems) {
        var node = spec.get(field);
        if (node == null || node.isNull()) return fallback;
        if (!node.isBoolean()) {
            problems.add("spec." + field, "expected true or false, got " + ResourceParser.describe(node));
            return fallback;
        }
        return node.asBoolean();
    }
}
