package io.capstan.kubernetes;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.InvalidSpecException;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What {@link Renderer} makes of a Kubeflow {@code Notebook}. */
final class NotebookRender {
    private NotebookRender() {
    }

    static boolean isNotebook(String apiVersion, String kind) {
        return kind.equals("Notebook") && List.of("kubeflow.org/v1", "kubeflow.org/v1beta1", "kubeflow.org/v1alpha1").contains(apiVersion);
    }

    /** The notebook controller's defaults (components/notebook-controller/controllers/notebook_controller.go). */
    static final int NOTEBOOK_PORT = 8888;
    static final int NOTEBOOK_SERVICE_PORT = 80;
    static final String STOPPED_ANNOTATION = "kubeflow-resource-stopped";

    /**
     * A Kubeflow Notebook as the upstream notebook controller makes it: a StatefulSet of one replica (none while
     * {@code kubeflow-resource-stopped} is set) whose pod is the Notebook's template, with {@code NB_PREFIX}, the
     * {@code notebook-port} 8888, working directory {@code /home/jovyan} and {@code fsGroup: 100} where the template sets
     * none; and a Service on port 80 named {@code http-<name>}. Istio's VirtualService is left out: Capstan routes
     * {@code /notebook/} itself.
     */
    static List<HasMetadata> render(JsonNode doc, String name, String ns) {
        return render(doc, name, ns, name, ns);
    }

    /**
     * As {@link #render(JsonNode, String, String)} for notebook {@code ns/name}, whose objects are named
     * {@code objectName} in cluster namespace {@code clusterNs} (a Capstan namespace mapped onto another).
     */
    static List<HasMetadata> render(JsonNode doc, String name, String ns, String objectName, String clusterNs) {
        var t = doc.path("spec").path("template");
        if (!t.isObject()) throw InvalidSpecException.of("spec.template", "required: the notebook's pod template");
        var template = Serialization.unmarshal(t.toString(), PodTemplateSpec.class);
        if (template.getSpec() == null || template.getSpec().getContainers() == null || template.getSpec().getContainers().isEmpty()) {
            throw InvalidSpecException.of("spec.template.spec.containers", "required: the notebook server's container");
        }
        var selector = Map.of("statefulset", objectName);
        var podLabels = new LinkedHashMap<String, String>();
        if (template.getMetadata() != null && template.getMetadata().getLabels() != null) podLabels.putAll(template.getMetadata().getLabels());
        podLabels.put("statefulset", objectName);
        podLabels.put("notebook-name", name);
        if (template.getMetadata() == null) template.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMeta());
        template.getMetadata().setLabels(podLabels);
        var container = template.getSpec().getContainers().getFirst();
        if (container.getWorkingDir() == null) container.setWorkingDir("/home/jovyan");
        if (container.getPorts() == null || container.getPorts().isEmpty()) {
            container.setPorts(List.of(new io.fabric8.kubernetes.api.model.ContainerPortBuilder().withName("notebook-port")
                    .withContainerPort(NOTEBOOK_PORT).withProtocol("TCP").build()));
        }
        var env = new ArrayList<>(container.getEnv() == null ? List.of() : container.getEnv());
        env.removeIf(e -> e.getName().equals("NB_PREFIX"));
        env.add(new EnvVarBuilder().withName("NB_PREFIX").withValue("/notebook/" + ns + "/" + name).build());
        container.setEnv(env);
        if (template.getSpec().getSecurityContext() == null) {
            template.getSpec().setSecurityContext(new io.fabric8.kubernetes.api.model.PodSecurityContextBuilder().withFsGroup(100L).build());
        }
        boolean stopped = doc.path("metadata").path("annotations").has(STOPPED_ANNOTATION);
        var labels = new LinkedHashMap<>(Map.of(CapstanLabels.OWNER_KIND, "Notebook", CapstanLabels.OWNER_NAME, name));
        var statefulSet = new io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder()
                .withNewMetadata().withName(objectName).withNamespace(clusterNs).withLabels(labels).endMetadata()
                .withNewSpec().withReplicas(stopped ? 0 : 1).withNewSelector().withMatchLabels(selector).endSelector()
                .withTemplate(template).endSpec().build();
        int targetPort = container.getPorts().getFirst().getContainerPort();
        var service = new io.fabric8.kubernetes.api.model.ServiceBuilder()
                .withNewMetadata().withName(objectName).withNamespace(clusterNs).withLabels(labels).endMetadata()
                .withNewSpec().withType("ClusterIP").withSelector(selector)
                .addNewPort().withName("http-" + name).withPort(NOTEBOOK_SERVICE_PORT)
                .withNewTargetPort(targetPort).withProtocol("TCP").endPort().endSpec().build();
        return List.of(statefulSet, service);
    }
}
