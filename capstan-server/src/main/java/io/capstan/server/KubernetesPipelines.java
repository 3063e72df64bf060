package io.capstan.server;

import io.capstan.core.SpecValidator;
import io.capstan.pipelines.run.StagedRuns;

/**
 * PipelineRuns in Kubernetes mode: each step's attempt is one Pod, and its folder crosses through S3, so runs need
 * the server's S3 settings; without them they are refused when applied, and runs made through the KFP API end Failed
 * ({@link KubernetesMode#refusingPipelineRuns}). With S3, what a pod cannot see (local pipeline roots, the workspace,
 * kfp-kubernetes volumes and secrets, built-in components) is refused naming the field ({@link StagedRuns}).
 */
final class KubernetesPipelines {
    static final String NO_S3 = "PipelineRuns on the Kubernetes backend need S3: each step runs in a pod, which cannot see this server's "
            + "folders, and its inputs and outputs go through the artifact store; set CAPSTAN_S3_BUCKET and CAPSTAN_S3_ENDPOINT (and "
            + "CAPSTAN_S3_ACCESS_KEY and CAPSTAN_S3_SECRET_KEY)";

    private KubernetesPipelines() {
    }

    /** What a PipelineRun must also pass in Kubernetes mode, on a server with S3 configured or not. */
    static SpecValidator validator(boolean s3) {
        if (!s3) return (spec, p) -> p.add("spec", NO_S3 + KubernetesMode.LOCAL_ONLY);
        return StagedRuns::validate;
    }
}
