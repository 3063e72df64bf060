package io.capstan.pipelines.run;

import io.capstan.backend.ContainerOptions;
import io.capstan.backend.WorkloadSpec;
import io.capstan.core.PermanentFailureException;
import io.capstan.pipelines.ComponentSpec;
import io.capstan.pipelines.ExecutionPlan;
import io.capstan.pipelines.ExecutionPlan.TaskPlan;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Turns one attempt of a container step into what the backend runs: its {@link StepInvocation} (inputs, outputs,
 * requests) and the {@link WorkloadSpec} with the command resolved against the Kubernetes platform settings and
 * rewritten for local execution.
 */
final class StepWorkloads {
    private final RunLayout layout;
    private final StepCommandRewriter rewriter;
    private final KubernetesSettings platform;
    private final ArtifactTransfer transfer;

    private final Map<String, String> runEnv;

    StepWorkloads(RunLayout layout, StepCommandRewriter rewriter, KubernetesSettings platform, ArtifactTransfer transfer,
                  Map<String, String> runEnv) {
        this.runEnv = Map.copyOf(runEnv);
        this.layout = layout;
        this.rewriter = rewriter;
        this.platform = platform;
        this.transfer = transfer;
    }

    StepInvocation invocation(String path, TaskPlan task, ComponentSpec component, ExecutionPlan.ContainerStep step, TaskStatus st) {
        return new StepInvocation(layout, path, task.name(), component, step.container(), st.inputs(), st.inputArtifacts(), st.attempts(), transfer);
    }

    /** Prepares the attempt's folder and inputs; {@code platformInputs} resolves the platform settings' references. */
    WorkloadSpec workload(String path, TaskPlan task, ComponentSpec component, ExecutionPlan.ContainerStep step, TaskStatus st,
                          KubernetesSettings.Inputs platformInputs) {
        var inv = invocation(path, task, component, step, st);
        inv.prepare();
        StepCommand resolved;
        try {
            resolved = platform.resolve(path, step.executorLabel(), st.workloadId(), platformInputs).applyTo(inv.command(), inv.attemptDir());
        } catch (PermanentFailureException e) {
            // Checked when the task started; it changed since (say, the secret was deleted): the attempt fails saying why.
            resolved = new StepCommand(List.of("sh", "-c", "printf '%s\\n' \"$0\" >&2; exit 1"), List.of(e.getMessage()), Map.of());
        }
        var command = rewriter.rewrite(resolved);
        var argv = new ArrayList<String>(command.command());
        argv.addAll(command.args());
        if (argv.isEmpty()) {
            throw new PermanentFailureException("task " + path + ": the container has neither command nor args; locally the image's entrypoint is unknown");
        }
        // The run's own variables (its workload token, its artifacts' URL) win over a step's environment of the same name.
        var env = new java.util.LinkedHashMap<>(command.env());
        env.putAll(runEnv);
        return new WorkloadSpec(st.workloadId(), argv, env, Optional.of(inv.attemptDir()), inv.requests(Optional.empty()),
                timeout(step.executorLabel()), 0, Optional.of(step.container().image()).filter(i -> !i.isBlank()),
                containerOptions(command.equals(resolved))).withNamespace(layout.namespace());
    }

    /**
     * A container step runs its image with the run's folder (attempt, inputs, outputs, PVC folders) and a local
     * pipeline root mounted at their own paths, as its resolved command names them. A step the rewriter changed (a
     * lightweight Python step on the offline kfp runtime, a built-in component on Capstan's JVM) names programs of
     * this machine, so it runs on the host.
     */
    private ContainerOptions containerOptions(boolean asWritten) {
        if (!asWritten) return new ContainerOptions(ContainerOptions.Execution.HOST, Optional.empty(), List.of());
        var mounts = new ArrayList<ContainerOptions.Mount>();
        mounts.add(ContainerOptions.Mount.samePath(layout.runDir()));
        if (layout.pipelineRoot().startsWith(RunLayout.FILE)) {
            var root = java.nio.file.Path.of(RunLayout.localPath(layout.pipelineRoot()));
            if (!root.toAbsolutePath().normalize().startsWith(layout.runDir().toAbsolutePath().normalize())) mounts.add(ContainerOptions.Mount.samePath(root));
        }
        return new ContainerOptions(ContainerOptions.Execution.AUTO, Optional.empty(), mounts);
    }

    /** {@code activeDeadlineSeconds} of the executor in the Kubernetes platform spec (kfp-kubernetes {@code set_timeout}). */
    private Optional<Duration> timeout(String executorLabel) {
        return platform.timeout(executorLabel);
    }
}
