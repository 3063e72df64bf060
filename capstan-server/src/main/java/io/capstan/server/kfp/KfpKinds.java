package io.capstan.server.kfp;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.Problems;
import io.capstan.core.ResourceKind;
import java.util.List;

/**
 * The kinds that back KFP's v2beta1 objects, in group {@code pipelines.capstan.io/v1}. Each resource is named by its
 * KFP id (a UUID, which is a valid DNS-1123 name), so a lookup by id is a lookup by key. A KFP run is the engine's
 * own {@code PipelineRun}, named by its run id.
 *
 * <p>Experiments, runs and recurring runs live in their KFP namespace ({@value #NAMESPACE} when a request names
 * none); pipelines in {@value #NAMESPACE} are KFP's shared pipelines, others are their namespace's. Because the store
 * looks a resource up by kind, namespace and name only, each object created through the KFP API also gets an
 * {@code KfpIndex} entry named by its id in namespace {@value #INDEX_NAMESPACE}, saying its kind and namespace: a lookup
 * by id is two key lookups, whatever the number of namespaces.
 */
public final class KfpKinds {
    static final String GROUP = "pipelines.capstan.io";
    static final String NAMESPACE = "default";
    /** Where the id index lives: a namespace without a Profile, so only the server admin reads it. */
    static final String INDEX_NAMESPACE = "capstan-kfp-index";
    static final String INDEX = "KfpIndex";
    static final String PIPELINE = "Pipeline";
    static final String PIPELINE_VERSION = "PipelineVersion";
    /** Not "Experiment": that kind name belongs to Katib's tuning experiments (kubeflow.org/v1beta1). */
    static final String EXPERIMENT = "PipelineExperiment";
    static final String RECURRING_RUN = "RecurringRun";

    /** Labels that make "the versions of a pipeline" and "the runs of an experiment" label-selector queries. */
    static final String LABEL_PIPELINE_ID = GROUP + "/pipeline-id";
    static final String LABEL_PIPELINE_VERSION_ID = GROUP + "/pipeline-version-id";
    static final String LABEL_EXPERIMENT_ID = GROUP + "/experiment-id";
    static final String LABEL_RECURRING_RUN_ID = GROUP + "/recurring-run-id";
    static final String LABEL_STORAGE_STATE = GROUP + "/storage-state";
    static final String LABEL_RETRY_OF = GROUP + "/retry-of";
    /** Run display name and description live in annotations: the engine owns the PipelineRun spec. */
    static final String ANNOTATION_DISPLAY_NAME = GROUP + "/display-name";
    static final String ANNOTATION_DESCRIPTION = GROUP + "/description";
    static final String ANNOTATION_RETRIED_BY = GROUP + "/retried-by";
    /** When a recurring run was last enabled or disabled (the adapter writes metadata and spec, never status). */
    static final String ANNOTATION_UPDATED_AT = GROUP + "/updated-at";

    public static final ResourceKind PIPELINE_KIND = new ResourceKind(GROUP, List.of("v1"), PIPELINE, "pipelines",
            List.of("kfppipeline"), (spec, p) -> requireText(spec, p, "name"));
    public static final ResourceKind PIPELINE_VERSION_KIND = new ResourceKind(GROUP, List.of("v1"), PIPELINE_VERSION,
            "pipelineversions", List.of("pipelineversion"), (spec, p) -> {
                requireText(spec, p, "pipelineId");
                requireText(spec, p, "pipelineSpec");
            });
    public static final ResourceKind EXPERIMENT_KIND = new ResourceKind(GROUP, List.of("v1"), EXPERIMENT, "pipelineexperiments",
            List.of("pipelineexperiment", "kfpexperiment"), (spec, p) -> requireText(spec, p, "displayName"));
    public static final ResourceKind RECURRING_RUN_KIND = new ResourceKind(GROUP, List.of("v1"), RECURRING_RUN,
            "recurringruns", List.of("recurringrun"), RecurringRunSpec::validate);
    /** The namespace of a KFP object by its id: spec {@code kind} and {@code namespace}. */
    public static final ResourceKind INDEX_KIND = new ResourceKind(GROUP, List.of("v1"), INDEX, "kfpindexes",
            List.of("kfpindex"), (spec, p) -> {
                requireText(spec, p, "kind");
                requireText(spec, p, "namespace");
            });

    private KfpKinds() {
    }

    /** Every kind this package stores, for {@code CapstanServer.kinds()}. */
    public static List<ResourceKind> all() {
        return List.of(PIPELINE_KIND, PIPELINE_VERSION_KIND, EXPERIMENT_KIND, RECURRING_RUN_KIND, INDEX_KIND);
    }

    private static void requireText(ObjectNode spec, Problems problems, String field) {
        var v = spec.get(field);
        if (v == null || !v.isTextual() || v.asText().isBlank()) problems.add("spec." + field, "required: a non-empty string");
    }
}
