/**
 * The pipeline run engine. {@link io.capstan.pipelines.run.PipelineRuns#RESOURCE_KIND} is the
 * {@code pipelines.capstan.io/v1 PipelineRun} kind, whose spec carries a compiled KFP pipeline inline;
 * {@link io.capstan.pipelines.run.PipelineRunReconciler} runs it on a {@link io.capstan.backend.Backend}, keeping
 * every task's state, inputs and outputs in {@code status.tasks} (keyed by task path such as
 * {@code root/for-loop-1[2]/train}) and recording lineage and cache entries in the
 * {@link io.capstan.metadata.MetadataStore}. {@link io.capstan.pipelines.run.StepCommandRewriter} is the hook
 * through which the offline Python runtime replaces KFP's {@code executor_main} launch.
 */
package io.capstan.pipelines.run;
