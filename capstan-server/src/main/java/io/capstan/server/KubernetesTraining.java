package io.capstan.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.ConfigResolver;
import io.capstan.core.Names;
import io.capstan.core.Problems;

/**
 * What the Kubernetes backend refuses of TrainJobs and XGBoostJobs when they are applied (see {@link KubernetesMode}):
 * what would need this server's disk, Capstan's own Java processes, or would put secret values into a pod's spec.
 * A TrainJob runs as an Indexed Job with a headless Service, an XGBoostJob as a Pod and a Service per replica whose
 * master runs the tracker.
 */
final class KubernetesTraining {
    /** Trainer's built-in xgboost runtime: its workers and tracker are Capstan's own JVMs. */
    private static final String XGBOOST_RUNTIME = "xgboost-distributed";

    private KubernetesTraining() {
    }

    static void trainJob(ObjectNode spec, Problems problems) {
        var init = spec.path("initializer");
        for (var name : new String[]{"dataset", "model"}) {
            if (init.path(name).isObject() && !init.path(name).isEmpty()) {
                problems.add("spec.initializer." + name, "initializers download into this server's folders (or name a path on its disk), which a pod "
                        + "cannot see; the Kubernetes backend does not run them yet: have the trainer fetch its " + name + " itself"
                        + KubernetesMode.LOCAL_ONLY);
            }
        }
        var runtime = spec.path("runtimeRef").path("name");
        if (runtime.isTextual() && runtime.asText().equals(XGBOOST_RUNTIME)) {
            problems.add("spec.runtimeRef.name", "'" + XGBOOST_RUNTIME + "' runs Capstan's own Java workers and tracker on this server's machine; "
                    + "on the Kubernetes backend run an XGBoostJob whose master runs the tracker" + KubernetesMode.LOCAL_ONLY);
        }
        var trainer = spec.path("trainer");
        if (trainer.isObject() && ConfigResolver.uses(trainer, spec.path("volumes"))) {
            problems.add("spec.trainer.env", "secret and config-map references (env valueFrom, envFrom) are resolved on this server's disk, which a pod "
                    + "cannot see, and would put secret values into the pod's spec; the Kubernetes backend does not run them yet");
        }
    }

    static void xgboostJob(ObjectNode spec, Problems problems) {
        var replicas = spec.path("xgbReplicaSpecs");
        replicas.fieldNames().forEachRemaining(type -> {
            var path = "spec.xgbReplicaSpecs." + Names.printable(type) + ".template.spec";
            var pod = replicas.path(type).path("template").path("spec");
            var containers = pod.path("containers");
            int main = -1;
            for (int i = 0; i < containers.size(); i++) if ("xgboost".equals(containers.get(i).path("name").asText())) main = i;
            if (main < 0 && containers.size() > 0) main = 0;
            if (main < 0) return; // The kind's own validator names the missing container.
            JsonNode c = containers.get(main);
            if (c.path("image").asText("").isBlank()) {
                problems.add(path + ".containers[" + main + "].image", "required on the Kubernetes backend: the image the replica's pod runs");
            }
            if (c.path("command").size() == 0) {
                problems.add(path + ".containers[" + main + "].command", "required on the Kubernetes backend: Capstan runs the command it is given "
                        + "(with args after it), not the image's entrypoint; give the program that trains (the master's also runs XGBoost's tracker)");
            }
            if (ConfigResolver.uses(c, pod.path("volumes"))) {
                problems.add(path + ".containers[" + main + "]", "secret and config-map references (env valueFrom, envFrom, volumes) are resolved on "
                        + "this server's disk, which a pod cannot see, and would put secret values into the pod's spec; the Kubernetes backend does not run them yet");
            }
            if (pod.has("volumes")) {
                problems.add(path + ".volumes", "volumes are mounted from this server's disk and are not carried to the pod on the Kubernetes backend yet");
            }
        });
    }
}
