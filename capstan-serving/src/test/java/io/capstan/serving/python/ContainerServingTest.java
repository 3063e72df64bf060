package io.capstan.serving.python;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.backend.testing.TestImages;
import io.capstan.core.Json;
import io.capstan.core.Resource;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import io.capstan.serving.Serving;
import io.capstan.serving.TestHttp;
import io.capstan.store.Database;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.testing.TestDatabases;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Custom predictor images run through Podman with their own entrypoint: an image built offline (busybox, Capstan's
 * kserve shim and a kserve.Model program, the host's /usr mounted read-only through hostPath volumes for python3, as
 * a cluster would mount a shared toolchain) serves the model mounted at /mnt/models on the port Capstan chose, is
 * restarted when its container is killed, and is removed with the InferenceService.
 */
class ContainerServingTest {
    static final String MODEL = """
            import os
            import numpy as np
            from kserve import InferOutput, InferRequest, InferResponse, Model, ModelServer


            class ScaleModel(Model):
                def __init__(self, name):
                    super().__init__(name)
                    self.load()

                def load(self):
                    with open(os.environ.get("FACTOR_FILE", "/mnt/models/factor.txt")) as f:
                        self.factor = float(f.read())
                    self.ready = True

                def predict(self, payload, headers=None):
                    if isinstance(payload, InferRequest):
                        scaled = payload.inputs[0].as_numpy() * self.factor
                        output = InferOutput(name="scaled", shape=list(scaled.shape), datatype="FP32")
                        output.set_data_from_numpy(scaled.astype(np.float32))
                        return InferResponse(model_name=self.name, infer_outputs=[output], response_id="1")
                    return {"predictions": [[v * self.factor for v in row] for row in payload["instances"]],
                            "in_container": os.path.exists("/opt/model/model.py")}


            if __name__ == "__main__":
                ModelServer().start([ScaleModel(os.environ["MODEL_NAME"])])
            """;

    static String image;

    @TempDir
    Path dir;
    Database db;
    JdbiResourceStore store;
    Serving serving;
    TestHttp http;
    final ResourceParser parser = new ResourceParser(ResourceKinds.of(java.util.stream.Stream.concat(Serving.kinds().stream(),
            io.capstan.core.CoreKinds.all().stream()).toList()));

    @BeforeAll
    static void modelImage(@TempDir Path shim) throws Exception {
        TestImages.require();
        var files = new TreeMap<String, String>();
        var installed = PythonFiles.install(shim);
        try (var walk = Files.walk(installed)) {
            for (var file : walk.filter(Files::isRegularFile).toList()) {
                files.put("/opt/capstan-python/" + installed.relativize(file), Files.readString(file));
            }
        }
        files.put("/opt/model/model.py", MODEL);
        image = TestImages.image("kserve-scale", files, List.of("ENV PYTHONPATH=/opt/capstan-python", "ENV PYTHONUNBUFFERED=1",
                "ENTRYPOINT [\"/usr/bin/python3\", \"/opt/model/model.py\"]"));
    }

    @BeforeEach
    void setUp() {
        db = TestDatabases.h2();
        db.migrate("store");
        store = new JdbiResourceStore(db, Clock.systemUTC());
        serving = new Serving(store, null, b -> Optional.empty(), dir.resolve("serving"), Clock.systemUTC(), new SimpleMeterRegistry(),
                "http://localhost:8080", Serving.Options.defaults());
        http = new TestHttp(serving.httpService());
    }

    @AfterEach
    void tearDown() throws Exception {
        if (http != null) http.close();
        if (serving != null) serving.close();
        if (db != null) db.close();
        for (var name : containers("")) TestImages.run(List.of("rm", "-f", name));
    }

    private Resource reconciled(String yaml) {
        var key = store.apply(parser.parse("t.yaml", yaml).getFirst()).key();
        serving.reconciler().reconcile(key);
        return store.get(key);
    }

    private static JsonNode json(String text) throws Exception {
        return Json.json().readTree(text);
    }

    /** This server's model-server containers, running or not, whose name holds {@code marker}. */
    private static List<String> containers(String marker) throws Exception {
        var r = TestImages.run(List.of("ps", "-a", "--filter", "label=" + ContainerProcessLauncher.OWNER_LABEL + "="
                + ContainerProcessLauncher.owner(ProcessHandle.current()), "--format", "{{.Names}}"));
        assertThat(r.code()).as(r.output()).isZero();
        return r.output().lines().filter(n -> n.startsWith("capstan-serving-") && n.contains(marker)).toList();
    }

    private String isvc(String name, Path storage, String annotations) {
        return """
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: %s, annotations: {%s}}
                spec:
                  predictor:
                    volumes:
                    - {name: usr, hostPath: {path: /usr}}
                    - {name: alternatives, hostPath: {path: /etc/alternatives}}
                    containers:
                    - name: kserve-container
                      image: %s
                      env:
                      - {name: STORAGE_URI, value: "%s"}
                      volumeMounts:
                      - {name: usr, mountPath: /usr, readOnly: true}
                      - {name: alternatives, mountPath: /etc/alternatives, readOnly: true}
                """.formatted(name, annotations, image, storage);
    }

    private Path factor(double value) throws Exception {
        var folder = dir.resolve("model-" + value);
        Files.createDirectories(folder);
        Files.writeString(folder.resolve("factor.txt"), Double.toString(value));
        return folder;
    }

    @Test
    void anImageWithoutACommandRunsItsEntrypointInAContainerAndIsRemovedWithTheService() throws Exception {
        var ready = reconciled(isvc("boxed", factor(2), ""));
        assertThat(ready.status().phase()).as(ready.status().toString()).isEqualTo("Ready");
        assertThat(containers("default_boxed-predictor-1")).hasSize(1);

        var v1 = http.post("/v1/models/boxed:predict", "{\"instances\": [[1, 2], [3, 4]]}");
        assertThat(v1.statusCode()).as(v1.body()).isEqualTo(200);
        assertThat(json(v1.body()).get("predictions").toString()).isEqualTo("[[2.0,4.0],[6.0,8.0]]");
        assertThat(json(v1.body()).get("in_container").asBoolean()).as("the program only the image holds answered").isTrue();
        var v2 = http.post("/v2/models/boxed/infer", "{\"inputs\": [{\"name\": \"x\", \"shape\": [3], \"datatype\": \"FP32\", \"data\": [1, 2, 3]}]}");
        assertThat(v2.statusCode()).as(v2.body()).isEqualTo(200);
        assertThat(json(v2.body()).get("outputs").get(0).get("data").toString()).isEqualTo("[2.0,4.0,6.0]");

        var key = new ResourceKey("InferenceService", "default", "boxed");
        store.delete(key);
        serving.reconciler().reconcile(key);
        assertThat(containers("boxed")).as("no container is left once the service is deleted").isEmpty();
    }

    @Test
    void aKilledContainerIsRestartedAndRequestsMeanwhileGet503NotAHang() throws Exception {
        var ready = reconciled(isvc("killed", factor(3), ""));
        assertThat(ready.status().phase()).as(ready.status().toString()).isEqualTo("Ready");
        var body = "{\"instances\": [[1]]}";
        assertThat(http.post("/v1/models/killed:predict", body).statusCode()).isEqualTo(200);
        var name = containers("killed").getFirst();
        var killed = TestImages.run(List.of("kill", name));
        assertThat(killed.code()).as(killed.output()).isZero();

        var statuses = new ArrayList<Integer>();
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        boolean down = false;
        while (System.nanoTime() < deadline) {
            long start = System.nanoTime();
            var response = http.post("/v1/models/killed:predict", body);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("no request hangs on a dead container").isLessThan(Duration.ofSeconds(10));
            statuses.add(response.statusCode());
            if (response.statusCode() == 503) down = true;
            else assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            if (down && response.statusCode() == 200) break;
            Thread.sleep(20);
        }
        assertThat(statuses).as("503 while the container is down, then 200 from its restart").contains(503);
        assertThat(statuses.getLast()).isEqualTo(200);
        assertThat(json(http.post("/v1/models/killed:predict", body).body()).get("predictions").toString()).isEqualTo("[[3.0]]");
        var running = TestImages.run(List.of("ps", "--filter", "name=" + name, "--format", "{{.Names}}"));
        assertThat(running.output().lines().toList()).containsExactly(name);
    }

    @Test
    void aSecretVolumeIsSeenInsideTheContainer() throws Exception {
        store.apply(parser.parse("s.yaml", """
                apiVersion: v1
                kind: Secret
                metadata: {name: model-factor}
                stringData: {factor.txt: "5"}
                """).getFirst());
        var yaml = isvc("secret", factor(2), "").replace("""
                    - {name: alternatives, hostPath: {path: /etc/alternatives}}
                """, """
                    - {name: alternatives, hostPath: {path: /etc/alternatives}}
                    - {name: factor, secret: {secretName: model-factor}}
                """).replace("""
                      - {name: alternatives, mountPath: /etc/alternatives, readOnly: true}
                """, """
                      - {name: alternatives, mountPath: /etc/alternatives, readOnly: true}
                      - {name: factor, mountPath: /mnt/factor, readOnly: true}
                """).replace("""
                      env:
                """, """
                      env:
                      - {name: FACTOR_FILE, value: /mnt/factor/factor.txt}
                """);
        assertThat(yaml).contains("secretName: model-factor", "mountPath: /mnt/factor", "FACTOR_FILE");
        var ready = reconciled(yaml);
        assertThat(ready.status().phase()).as(ready.status().toString()).isEqualTo("Ready");
        var v1 = http.post("/v1/models/secret:predict", "{\"instances\": [[1, 2]]}");
        assertThat(v1.statusCode()).as(v1.body()).isEqualTo(200);
        assertThat(json(v1.body()).get("predictions").toString()).isEqualTo("[[5.0,10.0]]");
        assertThat(json(v1.body()).get("in_container").asBoolean()).isTrue();
    }

    @Test
    void aServingRuntimeWhoseImageHasNoCommandServesItsFormatInAContainer() throws Exception {
        store.apply(parser.parse("r.yaml", """
                apiVersion: serving.kserve.io/v1alpha1
                kind: ServingRuntime
                metadata: {name: scale-runtime}
                spec:
                  supportedModelFormats: [{name: scale, autoSelect: true}]
                  volumes:
                  - {name: usr, hostPath: {path: /usr}}
                  - {name: alternatives, hostPath: {path: /etc/alternatives}}
                  containers:
                  - name: kserve-container
                    image: %s
                    volumeMounts:
                    - {name: usr, mountPath: /usr, readOnly: true}
                    - {name: alternatives, mountPath: /etc/alternatives, readOnly: true}
                """.formatted(image)).getFirst());
        var ready = reconciled("""
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: by-runtime}
                spec:
                  predictor:
                    model: {modelFormat: {name: scale}, storageUri: "%s"}
                """.formatted(factor(4)));
        assertThat(ready.status().phase()).as(ready.status().toString()).isEqualTo("Ready");
        var v1 = http.post("/v1/models/by-runtime:predict", "{\"instances\": [[1, 2]]}");
        assertThat(v1.statusCode()).as(v1.body()).isEqualTo(200);
        assertThat(json(v1.body()).get("predictions").toString()).isEqualTo("[[4.0,8.0]]");
        assertThat(json(v1.body()).get("in_container").asBoolean()).isTrue();
        assertThat(containers("by-runtime")).hasSize(1);
    }

    @Test
    void containersLeftByAServerThatIsGoneAreRemovedWhenTheNextOneStarts() throws Exception {
        var gone = new ProcessBuilder("true").start();
        gone.waitFor();
        var deadOwner = ContainerProcessLauncher.owner(gone.toHandle()).replaceFirst("@.*", "@1");
        var orphan = "capstan-serving-orphan-" + ProcessHandle.current().pid();
        var kept = "capstan-serving-kept-" + ProcessHandle.current().pid();
        try {
            for (var c : List.of(List.of(orphan, deadOwner), List.of(kept, ContainerProcessLauncher.owner(ProcessHandle.current())))) {
                var started = TestImages.run(List.of("run", "-d", "--rm", "--name", c.get(0), "--label", "io.capstan.workload=serving-test",
                        "--label", ContainerProcessLauncher.OWNER_LABEL + "=" + c.get(1), "--entrypoint", "/bin/sleep", image, "300"));
                assertThat(started.code()).as(started.output()).isZero();
            }
            var launcher = ContainerProcessLauncher.fromEnvironment(System.getenv());
            assertThat(launcher.orphansRemoved().get(1, java.util.concurrent.TimeUnit.MINUTES)).as("removed once the launcher was made")
                    .contains(orphan);
            assertThat(launcher.removeOrphans()).as("nothing left to remove").isEmpty();
            var left = TestImages.run(List.of("ps", "-a", "--filter", "label=io.capstan.workload=serving-test", "--format", "{{.Names}}"));
            assertThat(left.output().lines().toList()).as("the live server's container stays").containsExactly(kept);
        } finally {
            TestImages.run(List.of("rm", "-f", "-t", "0", orphan, kept));
        }
    }

    @Test
    void theExecutionAnnotationForcesTheHostAndAnImageWithoutACommandIsThenRefusedWithTheReason() throws Exception {
        var host = reconciled(isvc("on-host", factor(2), "capstan.io/execution: host"));
        assertThat(host.status().phase()).isNotEqualTo("Ready");
        assertThat(host.status().condition("Ready").orElseThrow().message()).contains(image, "no command", "execution");
        assertThat(containers("on-host")).isEmpty();

        var bad = reconciled(isvc("bad-mode", factor(2), "capstan.io/execution: vm"));
        assertThat(bad.status().condition("Ready").orElseThrow().message())
                .contains("metadata.annotations[capstan.io/execution]", "auto, container or host");
    }
}
