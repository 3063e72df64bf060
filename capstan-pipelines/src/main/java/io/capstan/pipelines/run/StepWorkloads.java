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
    /** Steps run where this server's folders are not: each attempt's folder crosses through its {@link StepStage}. */
    private final boolean staged;

    StepWorkloads(RunLayout layout, StepCommandRewriter rewriter, KubernetesSettings platform, ArtifactTransfer transfer,
                  Map<String, String> runEnv, boolean staged) {
        this.runEnv = Map.copyOf(runEnv);
        this.staged = staged;
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
        if (staged) {
            var refused = StagedRuns.refusal(step.container());
            if (refused.isPresent()) {
                throw new PermanentFailureException("task " + path + ": deploymentSpec.executors." + step.executorLabel() + ".container."
                        + refused.get().field() + ": " + refused.get().message());
            }
        }
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
        if (staged) {
            var stage = stage(st.workloadId());
            stage.pushInputs(inv.attemptDir());
            env.put(StepStage.STAGE_ENV, stage.uri());
            env.put(StepStage.DIR_ENV, inv.attemptDir().toString());
            // What the pod is named and labelled after: the run, the task as capstan render names it, the attempt.
            env.put(StepStage.RUN_ENV, layout.runName());
            env.put(StepStage.TASK_ENV, StepStage.taskName(path));
            env.put(StepStage.ATTEMPT_ENV, Integer.toString(st.attempts()));
        }
        return new WorkloadSpec(st.workloadId(), argv, env, Optional.of(inv.attemptDir()), inv.requests(Optional.empty()),
                timeout(step.executorLabel()), 0, Optional.of(step.container().image()).filter(i -> !i.isBlank()),
                containerOptions(command.equals(resolved))).withNamespace(layout.namespace());
    }

    /** Once the attempt succeeded: what its pod wrote, back into the attempt folder, where the outputs are read as for a local step. */
    void pullOutputs(StepInvocation invocation, String workloadId) {
        if (staged) stage(workloadId).pullOutputs(invocation.attemptDir());
    }

    private StepStage stage(String workloadId) {
        var bucket = transfer.bucket().orElseThrow(() -> new PermanentFailureException("steps that run in pods need S3: set CAPSTAN_S3_BUCKET and CAPSTAN_S3_ENDPOINT"));
        return StepStage.of(transfer.bucketStore(bucket), bucket, workloadId);
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
