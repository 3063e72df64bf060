/**
 * Kubeflow Pipelines' REST API v2beta1 on Capstan, so that KFP's own client and UI tooling can drive Capstan.
 *
 * <p>{@link io.capstan.server.kfp.KfpApi} routes {@code /apis/v2beta1}; each KFP object family has a catalog that
 * maps between KFP's wire records ({@code KfpWire}, snake_case as in KFP's swagger) and Capstan resources in the
 * {@code ResourceStore}: {@code Pipeline}, {@code PipelineVersion}, {@code Experiment} and {@code RecurringRun}
 * (kinds in {@link io.capstan.server.kfp.KfpKinds}), each named by its KFP id, and the engine's own
 * {@code PipelineRun} for runs, in their KFP namespace and found by id through a {@code KfpIndex}. {@link io.capstan.server.kfp.RecurringRunReconciler} starts the runs of recurring
 * runs. Errors answer in grpc-gateway's JSON shape, which KFP clients parse, instead of problem+json.
 */
package io.capstan.server.kfp;
