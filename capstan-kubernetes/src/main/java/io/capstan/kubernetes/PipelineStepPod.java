package io.capstan.kubernetes;

import io.capstan.backend.WorkloadSpec;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.Names;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSourceBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One attempt of a pipeline step as <b>one</b> Pod, {@code <run>-<task>-<attempt>}, labelled with run, task and
 * attempt. Capstan's engine has already resolved its inputs, placeholders and cache, and pushed its attempt folder to
 * S3 (its stage, {@value #STAGE_ENV}); the pod mounts an {@code emptyDir} at that folder's path, so that the paths in
 * the resolved command hold in the pod too, and:
 * <ol>
 *   <li>the init container {@value #PULL_CONTAINER} (Capstan's image: {@code capstan step-io pull}) pulls the stage's
 *       {@code in/} into it;</li>
 *   <li>the container {@value Placement#DEFAULT_CONTAINER} runs the step's image and command, through {@code sh}, which
 *       writes the command's exit code to {@value #EXIT_FILE} in the folder;</li>
 *   <li>the container {@value #PUSH_CONTAINER} (Capstan's image: {@code capstan step-io push --wait}) waits for that
 *       file and, where the step exited 0, pushes what it wrote to the stage's {@code out/}.</li>
 * </ol>
 * The pod ends Succeeded once both have exited 0; the server then pulls {@code out/} and reads the outputs. The
 * S3 endpoint and keys come from the Secret {@value PipelineRender#S3_SECRET} ({@code envFrom}), as in {@code capstan
 * render}.
 */
final class PipelineStepPod {
    static final String STAGE_ENV = "CAPSTAN_STEP_STAGE";
    static final String DIR_ENV = "CAPSTAN_STEP_DIR";
    static final String RUN_ENV = "CAPSTAN_RUN";
    static final String TASK_ENV = "CAPSTAN_TASK";
    static final String ATTEMPT_ENV = "CAPSTAN_ATTEMPT";
    static final String PULL_CONTAINER = "capstan-pull";
    static final String PUSH_CONTAINER = "capstan-push";
    static final String VOLUME = "capstan-step";
    /** As {@code StepLauncher.EXIT_FILE}. */
    static final String EXIT_FILE = ".capstan-exit";
    /** Capstan's image for the launcher containers: {@code CAPSTAN_IMAGE} on the server, else the render default. */
    static final String IMAGE_ENV = "CAPSTAN_IMAGE";
    /** Runs the step's argv ({@code "$@"}) and leaves its exit code for {@value #PUSH_CONTAINER}. */
    static final String WRAPPER = "\"$@\"; rc=$?; echo \"$rc\" > \"$" + DIR_ENV + "/" + EXIT_FILE + "\"; exit \"$rc\"";

    private PipelineStepPod() {
    }

    /** Whether {@code spec} is a pipeline step's attempt ({@code pr_<run uid>_...}), staged through S3 by the engine. */
    static boolean isStep(WorkloadSpec spec) {
        return spec.id().startsWith("pr_") && spec.env().containsKey(STAGE_ENV) && spec.env().containsKey(RUN_ENV) && spec.env().containsKey(TASK_ENV);
    }

    record Placed(WorkloadSpec spec, Placement placement) {
    }

    /**
     * @param prefix      the name prefix of a namespace mapped onto another ({@code team-a-}), else empty
     * @param capstanImage Capstan's image, which runs the launcher containers
     * @throws InvalidSpecException naming the field, for a step with no image or no folder
     */
    static Placed place(WorkloadSpec spec, String prefix, String ns, Optional<String> pullPolicy, String capstanImage) {
        var env = spec.env();
        var run = env.get(RUN_ENV);
        var task = env.get(TASK_ENV);
        var attempt = env.getOrDefault(ATTEMPT_ENV, "1");
        if (spec.image().isEmpty()) {
            throw InvalidSpecException.of("container.image", "task " + Names.printable(task) + " of run " + Names.printable(run)
                    + " names no image, which its pod needs");
        }
        var dir = env.get(DIR_ENV);
        if (dir == null || !dir.startsWith("/")) throw InvalidSpecException.of(DIR_ENV, "must be the attempt's absolute folder, got '" + Names.printable(String.valueOf(dir)) + "'");
        var name = CapstanLabels.objectName(prefix + run + "-" + task.replace('.', '-').replace('_', '-').replace('/', '-') + "-" + attempt);
        var labels = new LinkedHashMap<String, String>();
        labels.put(CapstanLabels.OWNER_KIND, "PipelineRun");
        labels.put(CapstanLabels.OWNER_NAME, run);
        labels.put(CapstanLabels.RUN, run);
        labels.put(CapstanLabels.TASK, task);
        labels.put(CapstanLabels.ATTEMPT, attempt);
        labels.put("pipelines.kubeflow.org/v2_component", "true");

        var mount = new VolumeMountBuilder().withName(VOLUME).withMountPath(dir).build();
        var s3 = List.of(new EnvFromSourceBuilder().withNewSecretRef().withName(PipelineRender.S3_SECRET).withOptional(true).endSecretRef().build());
        var launcherEnv = List.of(new EnvVar(STAGE_ENV, env.get(STAGE_ENV), null), new EnvVar(DIR_ENV, dir, null));
        var pull = launcher(PULL_CONTAINER, capstanImage, List.of("pull"), mount, s3, launcherEnv, pullPolicy);
        var push = launcher(PUSH_CONTAINER, capstanImage, List.of("push", "--wait"), mount, s3, launcherEnv, pullPolicy);
        var main = new Container();
        main.setName(Placement.DEFAULT_CONTAINER);
        main.setVolumeMounts(List.of(mount));
        main.setEnvFrom(s3);
        var pod = new PodSpec();
        pod.setInitContainers(List.of(pull));
        pod.setContainers(new ArrayList<>(List.of(main, push)));
        pod.setVolumes(List.of(emptyDir()));
        var template = new PodTemplateSpec();
        template.setSpec(pod);

        var argv = new ArrayList<String>(List.of("sh", "-c", WRAPPER, "capstan-step"));
        argv.addAll(spec.command());
        var placed = new WorkloadSpec(spec.id(), argv, spec.env(), Optional.empty(), spec.requests(), spec.timeout(), spec.priority(),
                spec.image(), spec.container(), spec.namespace(), spec.gang());
        var placement = Placement.defaults().inNamespace(ns).named(name).withLabels(labels).withTemplate(template, Placement.DEFAULT_CONTAINER);
        if (pullPolicy.isPresent()) placement = placement.withImagePullPolicy(pullPolicy.get());
        return new Placed(placed, placement);
    }

    private static Container launcher(String name, String image, List<String> action, VolumeMount mount, List<io.fabric8.kubernetes.api.model.EnvFromSource> s3,
                                      List<EnvVar> env, Optional<String> pullPolicy) {
        var c = new Container();
        c.setName(name);
        c.setImage(image);
        var args = new ArrayList<String>(List.of("step-io"));
        args.addAll(action);
        // The image's entrypoint is Capstan's CLI (java -jar capstan.jar).
        c.setArgs(args);
        c.setEnv(env);
        c.setEnvFrom(s3);
        c.setVolumeMounts(List.of(mount));
        pullPolicy.ifPresent(c::setImagePullPolicy);
        return c;
    }

    private static Volume emptyDir() {
        return new VolumeBuilder().withName(VOLUME).withNewEmptyDir().endEmptyDir().build();
    }

    /** Capstan's image as the server's environment names it. */
    static String capstanImage(Map<String, String> env) {
        var image = env.get(IMAGE_ENV);
        return image == null || image.isBlank() ? Renderer.DEFAULT_MODEL_SERVER_IMAGE : image;
    }
}
