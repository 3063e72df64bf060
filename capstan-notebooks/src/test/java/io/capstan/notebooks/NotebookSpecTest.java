package io.capstan.notebooks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.core.FieldError;
import io.capstan.core.InvalidSpecException;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NotebookSpecTest {
    private final ResourceParser parser = new ResourceParser(ResourceKinds.of(Notebooks.kinds()));

    /** As Kubeflow's Jupyter web app writes a Notebook (trimmed of what does not matter here). */
    static final String KUBEFLOW_NOTEBOOK = """
            apiVersion: kubeflow.org/v1
            kind: Notebook
            metadata:
              name: my-notebook
              namespace: kubeflow-user-example-com
              labels: {app: my-notebook}
              annotations:
                notebooks.kubeflow.org/server-type: jupyter
                notebooks.kubeflow.org/creator: user@example.com
            spec:
              template:
                spec:
                  serviceAccountName: default-editor
                  containers:
                  - name: my-notebook
                    image: kubeflownotebookswg/jupyter-scipy:v1.8.0
                    imagePullPolicy: IfNotPresent
                    env: [{name: JUPYTER_ENABLE_LAB, value: "true"}]
                    resources:
                      requests: {cpu: "0.5", memory: 1Gi}
                      limits: {cpu: "0.6", memory: 1.2Gi, nvidia.com/gpu: "1"}
                    volumeMounts:
                    - {mountPath: /dev/shm, name: dshm}
                    - {mountPath: /home/jovyan, name: my-notebook-workspace}
                    - {mountPath: /home/jovyan/data, name: data-vol}
                    - {mountPath: /etc/cfg, name: cfg}
                  volumes:
                  - {name: dshm, emptyDir: {medium: Memory}}
                  - {name: data-vol, persistentVolumeClaim: {claimName: shared-data}}
                  - {name: my-notebook-workspace, persistentVolumeClaim: {claimName: my-notebook-workspace}}
                  - {name: cfg, configMap: {name: settings}}
            """;

    @Test
    void readsTheNotebookKubeflowsWebAppWrites() {
        var nb = parser.parse("nb.yaml", KUBEFLOW_NOTEBOOK).getFirst();
        var spec = NotebookSpec.of(nb.spec());
        assertThat(spec.containerName()).isEqualTo("my-notebook");
        assertThat(spec.image()).isEqualTo("kubeflownotebookswg/jupyter-scipy:v1.8.0");
        assertThat(spec.env()).isEqualTo(Map.of("JUPYTER_ENABLE_LAB", "true"));
        assertThat(spec.resources().cpus()).isEqualTo(0.5);
        assertThat(spec.resources().memoryBytes()).isEqualTo(1L << 30);
        assertThat(spec.resources().gpuCount()).isEqualTo(1);
        assertThat(spec.workspaceClaim()).contains(new NotebookSpec.Claim("my-notebook-workspace", false));
        assertThat(spec.mounts()).extracting(NotebookSpec.Mount::mountPath).containsExactly("/dev/shm", "/home/jovyan", "/home/jovyan/data");
        assertThat(spec.ignored()).singleElement().asString().contains("volumes[3]").contains("only persistentVolumeClaim and emptyDir");
        assertThat(ServerType.of(nb.metadata().annotations())).isEqualTo(ServerType.JUPYTER);
    }

    @Test
    void serverTypesAreKubeflowsAndAnUnknownOneIsNamed() {
        assertThat(ServerType.of(Map.of())).isEqualTo(ServerType.JUPYTER);
        assertThat(ServerType.of(Map.of(ServerType.ANNOTATION, "group-one"))).isEqualTo(ServerType.VSCODE);
        assertThat(ServerType.of(Map.of(ServerType.ANNOTATION, "group-two"))).isEqualTo(ServerType.RSTUDIO);
        assertThatThrownBy(() -> ServerType.of(Map.of(ServerType.ANNOTATION, "emacs\u0000")))
                .isInstanceOf(InvalidSpecException.class).hasMessageContaining("notebooks.kubeflow.org/server-type")
                .hasMessageContaining("group-one");
    }

    @Test
    void hostileInputIsRefusedFieldByField() {
        var yaml = """
                apiVersion: kubeflow.org/v1
                kind: Notebook
                metadata: {name: bad}
                spec:
                  template:
                    spec:
                      containers:
                      - name: "Not A Label"
                        image: ""
                        command: [python3, {evil: true}]
                        env: [{name: "1BAD", value: x}, {name: OK, valueFrom: {fieldRef: {fieldPath: metadata.name}}}, {name: NUL, value: "a\\u0000b"}]
                        resources: {requests: {cpu: "-1", memory: lots}, limits: {nvidia.com/gpu: "0.5"}}
                        volumeMounts:
                        - {name: ws, mountPath: "relative/path"}
                        - {name: ws, mountPath: "/home/../../etc"}
                        - {name: typo, mountPath: /data}
                      volumes:
                      - {name: ws, persistentVolumeClaim: {claimName: "../../../etc"}}
                      - {name: ws2, persistentVolumeClaim: {claimName: ok}}
                      - {name: ws2, emptyDir: {}}
                """;
        assertThatThrownBy(() -> parser.parse("bad.yaml", yaml))
                .isInstanceOfSatisfying(InvalidSpecException.class, e -> assertThat(e.errors()).extracting(FieldError::path).contains(
                        "spec.template.spec.containers[0].name",
                        "spec.template.spec.containers[0].image",
                        "spec.template.spec.containers[0].command[1]",
                        "spec.template.spec.containers[0].env[0].name",
                        "spec.template.spec.containers[0].env[1].valueFrom",
                        "spec.template.spec.containers[0].env[2].value",
                        "spec.template.spec.containers[0].resources.requests.cpu",
                        "spec.template.spec.containers[0].resources.requests.memory",
                        "spec.template.spec.containers[0].volumeMounts[0].mountPath",
                        "spec.template.spec.containers[0].volumeMounts[1].mountPath",
                        "spec.template.spec.containers[0].volumeMounts[2].name",
                        "spec.template.spec.volumes[0].persistentVolumeClaim.claimName",
                        "spec.template.spec.volumes[2].name"));
    }

    @Test
    void aNotebookWithoutAContainerOrTemplateSaysWhatIsMissing() {
        for (var spec : List.of("{}", "{template: {}}", "{template: {spec: {containers: []}}}", "{template: {spec: {containers: [42]}}}",
                "{template: {spec: {containers: [{name: a, image: i, env: {A: b}}]}}}")) {
            var yaml = "apiVersion: kubeflow.org/v1\nkind: Notebook\nmetadata: {name: x}\nspec: " + spec + "\n";
            assertThatThrownBy(() -> parser.parse("x.yaml", yaml)).as(spec).isInstanceOf(InvalidSpecException.class)
                    .hasMessageContaining("spec.template");
        }
    }

    @Test
    void hugeListsAreRefusedWithoutReadingThemAll() {
        var env = new StringBuilder("[");
        for (int i = 0; i < NotebookSpec.MAX_ITEMS + 1; i++) env.append("{name: V").append(i).append(", value: x},");
        env.append("]");
        var yaml = "apiVersion: kubeflow.org/v1\nkind: Notebook\nmetadata: {name: x}\nspec: {template: {spec: {containers: [{name: a, image: i, env: "
                + env + "}]}}}\n";
        assertThatThrownBy(() -> parser.parse("x.yaml", yaml)).isInstanceOf(InvalidSpecException.class)
                .hasMessageContaining("env").hasMessageContaining("limit is " + NotebookSpec.MAX_ITEMS);
    }
}
