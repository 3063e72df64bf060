/**
 * Kubeflow training jobs on Capstan's local backend: Trainer's {@code TrainJob} (v1alpha1) on
 * {@code TrainingRuntime}/{@code ClusterTrainingRuntime} (built-ins: {@code torch-distributed},
 * {@code xgboost-distributed}), and the training-operator's v1 {@code PyTorchJob} and {@code XGBoostJob}; TFJob, MPIJob,
 * PaddleJob and JAXJob are validated and refused at run time with the reason.
 *
 * <p>Public API: {@link io.capstan.training.TrainingKinds} (kinds and validators),
 * {@link io.capstan.training.TrainingController} (reconcilers and the workload-to-job lookup for the backend's
 * on-finish hook), {@link io.capstan.training.MachineCapacity}, {@link io.capstan.training.ModelLineage} and
 * {@link io.capstan.training.MetadataModelLineage}, {@link io.capstan.training.TrainingWorkloads} (rank to workload id,
 * for logs), {@link io.capstan.training.TrainingTable} (CLI text), {@link io.capstan.training.BuiltInRuntimes}, and the
 * worker and tracker mains in {@code io.capstan.training.xgboost}. Everything else is package-private.
 */
package io.capstan.training;
