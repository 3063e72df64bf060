package io.capstan.registry;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The Model Registry's entity kinds, each with the fields its create and update bodies take (as the v1alpha3 spec's
 * {@code *Create} and {@code *Update} schemas list them), the field that names its parent, and the fields filters
 * compare as well-known properties (upstream's {@code RestEntityPropertyMap}).
 */
enum Kind {
    REGISTERED_MODEL("RegisteredModel", "registered model", null, null, Map.of("state", "LIVE"),
            List.of(f("readme"), f("maturity"), arr("language"), arr("tasks"), f("provider"), f("logo"), f("license"),
                    f("licenseLink"), f("libraryName"), f("owner"), e("state", "LIVE", "ARCHIVED")),
            List.of(), Set.of("state", "owner")),
    MODEL_VERSION("ModelVersion", "model version", "registeredModelId", REGISTERED_MODEL, Map.of("state", "LIVE"),
            List.of(e("state", "LIVE", "ARCHIVED"), f("author")),
            List.of("name", "registeredModelId"), Set.of("registeredModelId", "state", "author")),
    SERVING_ENVIRONMENT("ServingEnvironment", "serving environment", null, null, Map.of(), List.of(), List.of("name"), Set.of()),
    INFERENCE_SERVICE("InferenceService", "inference service", "servingEnvironmentId", SERVING_ENVIRONMENT, Map.of("desiredState", "DEPLOYED"),
            List.of(id("modelVersionId"), f("runtime"), e("desiredState", "DEPLOYED", "UNDEPLOYED")),
            List.of("registeredModelId", "servingEnvironmentId"),
            Set.of("registeredModelId", "modelVersionId", "servingEnvironmentId", "runtime", "desiredState")),
    SERVE_MODEL("ServeModel", "serve model", "inferenceServiceId", INFERENCE_SERVICE, Map.of("lastKnownState", "UNKNOWN"),
            List.of(e("lastKnownState", "UNKNOWN", "NEW", "RUNNING", "COMPLETE", "FAILED", "CACHED", "CANCELED")),
            List.of("modelVersionId"), Set.of("lastKnownState", "modelVersionId", "inferenceServiceId", "registeredModelId", "servingEnvironmentId")),
    EXPERIMENT("Experiment", "experiment", null, null, Map.of("state", "LIVE"),
            List.of(f("owner"), e("state", "LIVE", "ARCHIVED")), List.of("name"), Set.of("state", "owner")),
    EXPERIMENT_RUN("ExperimentRun", "experiment run", "experimentId", EXPERIMENT, Map.of("state", "LIVE", "status", "RUNNING"),
            List.of(epoch("endTimeSinceEpoch"), e("status", "RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"),
                    e("state", "LIVE", "ARCHIVED"), f("owner")),
            List.of("experimentId"), Set.of("experimentId", "startTimeSinceEpoch", "endTimeSinceEpoch", "status", "state", "owner")),
    MODEL_ARTIFACT("ModelArtifact", "model artifact", "model-artifact",
            List.of(f("modelFormatName"), f("storageKey"), f("storagePath"), f("modelFormatVersion"), f("serviceAccountName"),
                    f("modelSourceKind"), f("modelSourceClass"), f("modelSourceGroup"), f("modelSourceId"), f("modelSourceName")),
            Set.of("modelFormatName", "modelFormatVersion", "storageKey", "storagePath", "serviceAccountName", "modelSourceKind",
                    "modelSourceClass", "modelSourceGroup", "modelSourceId", "modelSourceName")),
    DOC_ARTIFACT("DocArtifact", "doc artifact", "doc-artifact", List.of(), Set.of()),
    DATA_SET("DataSet", "dataset", "dataset-artifact",
            List.of(f("digest"), f("sourceType"), f("source"), f("schema"), f("profile")),
            Set.of("digest", "sourceType", "source", "schema", "profile")),
    METRIC("Metric", "metric", "metric", List.of(num("value"), epoch("timestamp"), integer("step")), Set.of("value", "timestamp", "step")),
    PARAMETER("Parameter", "parameter", "parameter", List.of(f("value"), e("parameterType", "string", "number", "boolean", "object")),
            Set.of("value", "parameterType")),
    /** A metric's value at one step of a run, kept each time the run logs it; shown as a Metric. */
    METRIC_HISTORY("Metric", "metric history entry", null, null, Map.of(), METRIC.fields, List.of(), METRIC.wellKnown);

    enum Type { STRING, ID, EPOCH, NUMBER, INTEGER, STRING_ARRAY, ENUM }

    record Field(String name, Type type, List<String> values) {
    }

    static final List<Kind> ARTIFACTS = List.of(MODEL_ARTIFACT, DOC_ARTIFACT, DATA_SET, METRIC, PARAMETER);

    final String restName;
    final String noun;
    /** The body field naming the parent, or null for top-level kinds and artifacts. */
    final String parentField;
    final Kind parentKind;
    final Map<String, String> defaults;
    /** Kind-specific fields, each settable on create and update (the parent field apart). */
    final List<Field> fields;
    final List<String> required;
    final Set<String> wellKnown;
    /** The artifactType discriminator, for artifacts. */
    final String artifactType;

    Kind(String restName, String noun, String parentField, Kind parentKind, Map<String, String> defaults, List<Field> fields,
         List<String> required, Set<String> wellKnown) {
        this.restName = restName;
        this.noun = noun;
        this.parentField = parentField;
        this.parentKind = parentKind;
        this.defaults = defaults;
        this.fields = fields;
        this.required = required;
        this.wellKnown = wellKnown;
        this.artifactType = null;
    }

    Kind(String restName, String noun, String artifactType, List<Field> fields, Set<String> wellKnown) {
        this.restName = restName;
        this.noun = noun;
        this.parentField = null;
        this.parentKind = null;
        this.defaults = Map.of();
        var all = new java.util.ArrayList<Field>(fields);
        all.add(f("uri"));
        all.add(e("state", "UNKNOWN", "PENDING", "LIVE", "MARKED_FOR_DELETION", "DELETED", "ABANDONED", "REFERENCE"));
        this.fields = List.copyOf(all);
        this.required = List.of();
        var known = new java.util.HashSet<>(wellKnown);
        known.addAll(List.of("uri", "state", "experimentId", "experimentRunId"));
        this.wellKnown = Set.copyOf(known);
        this.artifactType = artifactType;
    }

    boolean isArtifact() {
        return artifactType != null || this == METRIC_HISTORY;
    }

    /** Whether names are unique among this kind's entities (under one parent). */
    boolean uniqueNames() {
        return this != METRIC_HISTORY;
    }

    static Optional<Kind> ofArtifactType(String type) {
        for (var k : ARTIFACTS) {
            if (k.artifactType.equals(type)) return Optional.of(k);
        }
        return Optional.empty();
    }

    /**
     * All fields a create body may hold, by name: the common ones, the kind's, and what the spec adds (parents,
     * artifactType). Read-only fields (id, times) are accepted and ignored, as upstream's generated decoder does.
     */
    Map<String, Field> createFields() {
        var all = new LinkedHashMap<String, Field>();
        for (var c : List.of(f("name"), f("description"), f("externalId"))) all.put(c.name(), c);
        for (var c : fields) all.put(c.name(), c);
        switch (this) {
            case MODEL_VERSION -> all.put("registeredModelId", id("registeredModelId"));
            case INFERENCE_SERVICE -> {
                all.put("registeredModelId", id("registeredModelId"));
                all.put("servingEnvironmentId", id("servingEnvironmentId"));
            }
            case SERVE_MODEL -> all.put("modelVersionId", id("modelVersionId"));
            case EXPERIMENT_RUN -> {
                all.put("experimentId", id("experimentId"));
                all.put("startTimeSinceEpoch", epoch("startTimeSinceEpoch"));
            }
            default -> {
            }
        }
        if (isArtifact()) all.put("artifactType", f("artifactType"));
        return all;
    }

    /** The fields a PATCH body may hold: the create fields less the name and parents, which never change. */
    Map<String, Field> updateFields() {
        var all = createFields();
        all.remove("name");
        for (var immutable : List.of("registeredModelId", "servingEnvironmentId", "experimentId", "startTimeSinceEpoch")) all.remove(immutable);
        if (this == SERVE_MODEL) all.remove("modelVersionId");
        return all;
    }

    private static Field f(String name) {
        return new Field(name, Type.STRING, List.of());
    }

    private static Field id(String name) {
        return new Field(name, Type.ID, List.of());
    }

    private static Field epoch(String name) {
        return new Field(name, Type.EPOCH, List.of());
    }

    private static Field num(String name) {
        return new Field(name, Type.NUMBER, List.of());
    }

    private static Field integer(String name) {
        return new Field(name, Type.INTEGER, List.of());
    }

    private static Field arr(String name) {
        return new Field(name, Type.STRING_ARRAY, List.of());
    }

    private static Field e(String name, String... values) {
        return new Field(name, Type.ENUM, List.of(values));
    }
}
