package io.capstan.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.Json;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Service;
import java.io.IOException;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@code capstan render} of a Kubeflow Notebook: the upstream notebook controller's StatefulSet and Service. */
class NotebookRenderTest {
    @Test
    void notebookIsAStatefulSetAndServiceAsTheNotebookControllerMakesThem() throws IOException {
        var doc = Json.yaml().readTree("""
                apiVersion: kubeflow.org/v1
                kind: Notebook
                metadata: {name: lab, namespace: team-a}
                spec:
                  template:
                    spec:
                      containers:
                      - name: lab
                        image: kubeflownotebookswg/jupyter-scipy:v1.8.0
                        env: [{name: A, value: b}]
                        volumeMounts: [{name: ws, mountPath: /home/jovyan}]
                      volumes: [{name: ws, persistentVolumeClaim: {claimName: lab-workspace}}]
                """);
        var objects = Renderer.render(doc, "default", r -> Optional.empty());
        var set = (io.fabric8.kubernetes.api.model.apps.StatefulSet) objects.get(0);
        var service = (Service) objects.get(1);
        assertThat(set.getMetadata().getName()).isEqualTo("lab");
        assertThat(set.getMetadata().getNamespace()).isEqualTo("team-a");
        assertThat(set.getSpec().getReplicas()).isEqualTo(1);
        assertThat(set.getSpec().getSelector().getMatchLabels()).isEqualTo(Map.of("statefulset", "lab"));
        assertThat(set.getSpec().getTemplate().getMetadata().getLabels()).containsEntry("statefulset", "lab").containsEntry("notebook-name", "lab");
        var container = set.getSpec().getTemplate().getSpec().getContainers().getFirst();
        assertThat(container.getWorkingDir()).isEqualTo("/home/jovyan");
        assertThat(container.getPorts()).singleElement().satisfies(p -> {
            assertThat(p.getName()).isEqualTo("notebook-port");
            assertThat(p.getContainerPort()).isEqualTo(8888);
        });
        assertThat(container.getEnv()).extracting(EnvVar::getName, EnvVar::getValue).contains(
                org.assertj.core.groups.Tuple.tuple("A", "b"), org.assertj.core.groups.Tuple.tuple("NB_PREFIX", "/notebook/team-a/lab"));
        assertThat(set.getSpec().getTemplate().getSpec().getSecurityContext().getFsGroup()).isEqualTo(100L);
        assertThat(set.getSpec().getTemplate().getSpec().getVolumes()).singleElement()
                .satisfies(v -> assertThat(v.getPersistentVolumeClaim().getClaimName()).isEqualTo("lab-workspace"));
        assertThat(service.getSpec().getSelector()).isEqualTo(Map.of("statefulset", "lab"));
        assertThat(service.getSpec().getPorts()).singleElement().satisfies(p -> {
            assertThat(p.getName()).isEqualTo("http-lab");
            assertThat(p.getPort()).isEqualTo(80);
            assertThat(p.getTargetPort().getIntVal()).isEqualTo(8888);
        });

        ((com.fasterxml.jackson.databind.node.ObjectNode) doc.path("metadata")).putObject("annotations").put("kubeflow-resource-stopped", "2026-01-01T00:00:00Z");
        var stopped = (io.fabric8.kubernetes.api.model.apps.StatefulSet) Renderer.render(doc, "default", r -> Optional.empty()).get(0);
        assertThat(stopped.getSpec().getReplicas()).isZero();
    }
}
