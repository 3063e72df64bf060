package io.capstan.core.security;

import java.util.Objects;

/**
 * What a workload's token lets it do: one purpose, on one subject, in its own namespace. A trial's token may push
 * that trial's observations; a pipeline step's token may read its run's artifacts. Nothing else accepts them.
 *
 * @param namespace the workload's namespace
 * @param purpose   {@link #TRIAL_OBSERVATIONS}, {@link #RUN_ARTIFACTS} or {@link #NOTEBOOK}
 * @param subject   the trial's name, the run's id, or the notebook's name
 */
public record WorkloadScope(String namespace, String purpose, String subject) {
    public static final String TRIAL_OBSERVATIONS = "trial-observations";
    public static final String RUN_ARTIFACTS = "run-artifacts";
    /**
     * A notebook server's token: the namespace's editor, as Kubeflow's {@code default-editor} ServiceAccount that
     * notebooks run as, so that the CLI and the KFP API work from a cell.
     */
    public static final String NOTEBOOK = "notebook";

    public WorkloadScope {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(purpose, "purpose");
        Objects.requireNonNull(subject, "subject");
    }
}
