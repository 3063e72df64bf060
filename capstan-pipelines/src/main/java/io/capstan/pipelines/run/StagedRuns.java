package io.capstan.pipelines.run;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import io.capstan.core.Problems;
import io.capstan.pipelines.ExecutorSpec;
import java.util.List;
import java.util.Optional;

/**
 * What a PipelineRun whose steps run in pods ({@link PipelineRunReconciler#staged}) cannot have: the pods see none
 * of this server's folders or JVM, only their image, their command and their staged attempt folder. Checked when a
 * run is applied (400 naming the field) and again for each step at launch, for runs made through the KFP API.
 */
public final class StagedRuns {
    /** kfp-kubernetes settings that a local run emulates with this server's folders or resolved secret values. */
    static final List<String> LOCAL_SETTINGS = List.of("pvcMount", "secretAsEnv", "secretAsVolume", "configMapAsEnv", "configMapAsVolume",
            "emptyDirMounts", "genericEphemeralVolume");

    private StagedRuns() {
    }

    /** Adds a problem, naming the field, for each part of {@code spec} (a PipelineRun's) that cannot run in pods. */
    public static void validate(ObjectNode spec, Problems problems) {
        PipelineRunSpec run;
        PipelineRunSpec.Planned planned;
        try {
            run = PipelineRunSpec.of(spec);
            planned = run.planned();
        } catch (InvalidSpecException e) {
            return; // The kind's own validator names what is wrong.
        }
        var root = run.pipelineRoot();
        if (!root.isEmpty() && !root.regionMatches(true, 0, ArtifactTransfer.S3, 0, ArtifactTransfer.S3.length())) {
            problems.add("spec.pipelineRoot", "'" + Names.printable(root) + "' is a folder of this server, which steps running in pods cannot see; "
                    + "leave it out (artifacts then go to Capstan's bucket) or name an s3:// root");
        }
        var ir = planned.parsed().spec();
        ir.executors().forEach((label, executor) -> {
            if (executor instanceof ExecutorSpec.Container c) {
                refusal(c).ifPresent(r -> problems.add("spec.pipelineSpec.deploymentSpec.executors." + label + ".container." + r.field(), r.message()));
            }
        });
        if (ir.raw().toString().contains("workspace_path") || ir.raw().toString().contains("downloadToWorkspace")) {
            problems.add("spec.pipelineSpec", "the run's workspace ({{$.workspace_path}}, downloadToWorkspace) is a folder of this server, which steps "
                    + "running in pods cannot share; the Kubernetes backend does not run it yet");
        }
        var executors = planned.parsed().platform().raw().path("platforms").path("kubernetes").path("deploymentSpec").path("executors");
        executors.properties().forEach(e -> {
            for (var setting : LOCAL_SETTINGS) {
                if (e.getValue().has(setting)) {
                    problems.add("spec.platformSpec.platforms.kubernetes.deploymentSpec.executors." + e.getKey() + "." + setting,
                            "is emulated with this server's folders and resolved secret values, which a pod cannot see; the Kubernetes backend "
                                    + "does not run it yet");
                }
            }
        });
    }

    record Refusal(String field, String message) {
    }

    /** Why the container step {@code c} cannot run in a pod, if it cannot. */
    static Optional<Refusal> refusal(ExecutorSpec.Container c) {
        if (c.image().isBlank()) return Optional.of(new Refusal("image", "required on the Kubernetes backend: the image the step's pod runs"));
        if (!c.command().isEmpty() && c.command().getFirst().equals(BUILTIN_PROGRAM)) {
            return Optional.of(new Refusal("command", "built-in components (" + BUILTIN_PROGRAM + ") run on this server's JVM; the Kubernetes "
                    + "backend does not run them in pods yet"));
        }
        if (c.command().isEmpty() && c.args().isEmpty()) {
            return Optional.of(new Refusal("command", "required: Capstan runs the command it is given, and does not know the image's entrypoint"));
        }
        return Optional.empty();
    }

    /** The program built-in components name; see the server's step rewriter. */
    static final String BUILTIN_PROGRAM = "capstan-component";
}
