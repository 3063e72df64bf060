/**
 * Katib Experiments on Capstan. {@link io.capstan.tuning.Experiments} declares the {@code kubeflow.org/v1beta1}
 * {@code Experiment} and {@code Trial} kinds (validated in full at admission, search-algorithm settings included);
 * {@link io.capstan.tuning.ExperimentReconciler} runs an experiment's trials on a {@link io.capstan.backend.Backend}
 * and keeps Katib's status; {@link io.capstan.tuning.TrialApi} is the REST endpoint of the Push collector;
 * {@link io.capstan.tuning.TrialTable} renders trials for the CLI. Everything else in the package is internal.
 */
package io.capstan.tuning;
