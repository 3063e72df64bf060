package io.capstan.pipelines;

import java.util.Objects;

/**
 * Something in a pipeline that Capstan accepts but does not apply, such as a Kubernetes node selector when
 * running locally. Warnings are shown on the run; they never fail it.
 *
 * @param path    the field path, such as {@code platforms.kubernetes.deploymentSpec.executors.exec-a.nodeSelector}
 * @param message what is not applied and why
 */
public record PipelineWarning(String path, String message) {
    public PipelineWarning {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(message, "message");
    }

    @Override
    public String toString() {
        return path.isEmpty() ? message : path + ": " + message;
    }
}
