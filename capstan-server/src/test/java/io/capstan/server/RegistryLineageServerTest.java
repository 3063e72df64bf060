package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lineage without effort, end to end over HTTP on a real server: the iris pipeline with {@code register_as} set trains
 * in child processes and its {@code register-model} step registers the exported ONNX model with alias champion; an
 * InferenceService serves {@code model-registry://...@champion}; and {@code .../model_versions/{id}/lineage} returns
 * the whole chain: the dataset, the run and its steps, the version (linked in ML Metadata by a RegisterModel execution)
 * and the serving revision. A TrainJob annotated to register its model does the same from a job.
 */
class RegistryLineageServerTest {
    static final String API = "/api/model_registry/v1alpha3";
    static final String EXT = "/apis/capstan/v1/registry";
    @TempDir
    static Path home;
    static TestServer server;

    @BeforeAll
    static void start() {
        server = new TestServer(home);
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
    }

    @Test
    void aPipelineRegistersItsModelAndTheLineageRunsFromDataToEndpoint() throws Exception {
        var root = Path.of("").toAbsolutePath().getParent();
        var body = Json.json().createObjectNode();
        body.put("apiVersion", "pipelines.capstan.io/v1");
        body.put("kind", "PipelineRun");
        body.putObject("metadata").put("name", "iris-reg");
        var spec = body.putObject("spec");
        spec.put("pipelineSpec", Files.readString(root.resolve("examples/iris/iris-pipeline.yaml")));
        spec.putObject("parameters").put("source", root.resolve("examples/iris/iris.csv").toString())
                .put("register_as", "iris-lineage").put("register_alias", "champion");
        var applied = server.send("POST", "/apis/capstan/v1/apply", body.toString(), "application/json");
        assertThat(applied.status()).as(applied.body()).isEqualTo(200);
        var run = server.await("/apis/capstan/v1/namespaces/default/pipelineruns/iris-reg",
                r -> Set.of("Succeeded", "Failed").contains(r.path("status").path("phase").asText()), Duration.ofSeconds(180));
        assertThat(run.path("status").path("phase").asText()).as(run.path("status").toString()).isEqualTo("Succeeded");
        var runUid = run.path("metadata").path("uid").asText();
        var onnxUri = run.path("status").path("tasks").path("root/export-onnx").path("outputs").path("artifacts").path("onnx_model").path(0).path("uri").asText();

        // The registry made the version from the step, once, with modelSource* naming the run.
        var model = awaitJson(API + "/registered_model?name=iris-lineage", m -> m.has("id"));
        var versions = awaitJson(API + "/registered_models/" + model.path("id").asText() + "/versions", l -> l.path("size").asInt() == 1);
        var version = versions.path("items").get(0);
        assertThat(version.path("name").asText()).isEqualTo("v1");
        assertThat(version.path("externalId").asText()).isEqualTo("kfp:" + runUid + ":root/condition-1/register-model");
        var versionId = version.path("id").asText();
        awaitJson(API + "/model_versions/" + versionId, v -> v.path("customProperties").has("capstan_registration"));
        var artifact = server.get(API + "/model_versions/" + versionId + "/artifacts").json().path("items").get(0);
        assertThat(artifact.path("modelSourceKind").asText()).isEqualTo("kfp");
        assertThat(artifact.path("modelSourceClass").asText()).isEqualTo("pipelinerun");
        assertThat(artifact.path("modelSourceGroup").asText()).isEqualTo("default");
        assertThat(artifact.path("modelSourceName").asText()).isEqualTo("iris-reg");
        assertThat(artifact.path("modelSourceId").asText()).isEqualTo(runUid);
        assertThat(artifact.path("modelFormatName").asText()).isEqualTo("onnx");
        assertThat(artifact.path("uri").asText()).isEqualTo(onnxUri.startsWith("/") ? Path.of(onnxUri).toUri().toString() : onnxUri);
        var champion = server.get(EXT + "/registered_models/" + model.path("id").asText() + "/aliases/champion");
        assertThat(champion.json().path("id").asText()).isEqualTo(versionId);

        // Deployed through the alias the step set.
        var isvc = server.apply("""
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: iris-lineage}
                spec:
                  predictor:
                    model:
                      modelFormat: {name: onnx}
                      storageUri: model-registry://iris-lineage@champion
                """);
        assertThat(isvc.status()).as(isvc.body()).isIn(200, 201);
        var ready = server.await("/apis/capstan/v1/namespaces/default/inferenceservices/iris-lineage",
                r -> r.path("status").path("phase").asText().equals("Ready"), Duration.ofSeconds(90));
        var revision = ready.path("status").path("components").path("predictor").path("latestReadyRevision").asText();
        assertThat(revision).isNotEmpty();

        var lineage = server.get(EXT + "/model_versions/" + versionId + "/lineage");
        assertThat(lineage.status()).as(lineage.body()).isEqualTo(200);
        var l = lineage.json();
        assertThat(l.path("modelVersion").path("name").asText()).isEqualTo("v1");
        assertThat(l.path("modelVersion").path("aliases").toString()).isEqualTo("[\"champion\"]");
        assertThat(l.path("modelVersion").path("registeredBy").path("type").asText()).isEqualTo("capstan.RegisterModel");
        assertThat(l.path("datasets")).isNotEmpty();
        l.path("datasets").forEach(d -> assertThat(d.path("type").asText()).isEqualTo("system.Dataset"));
        assertThat(l.path("runs")).hasSize(1);
        assertThat(l.path("runs").get(0).path("name").asText()).isEqualTo("iris-reg");
        assertThat(l.path("runs").get(0).path("uid").asText()).isEqualTo(runUid);
        assertThat(l.path("runs").get(0).path("steps").toString()).contains("export-onnx");
        assertThat(l.path("sources").get(0).path("modelSourceId").asText()).isEqualTo(runUid);
        assertThat(l.path("inferenceServices")).hasSize(1);
        var served = l.path("inferenceServices").get(0);
        assertThat(served.path("name").asText()).isEqualTo("iris-lineage");
        assertThat(served.path("serving").asBoolean()).isTrue();
        assertThat(served.path("revision").asText()).isEqualTo(revision);
        assertThat(served.path("alias").asText()).isEqualTo("champion");
        var types = new ArrayList<String>();
        l.path("chain").forEach(c -> types.add(c.path("type").asText()));
        assertThat(types.getFirst()).isEqualTo("dataset");
        assertThat(types).containsSubsequence("dataset", "pipelineRun", "step", "modelVersion", "inferenceService");
        assertThat(types.getLast()).isEqualTo("inferenceService");

        // The pipeline's lineage in ML Metadata holds the registration too, in the run's context.
        var executions = server.get("/apis/capstan/v1/lineage/pipelineruns/" + runUid).json();
        assertThat(executions.toString()).contains("capstan.RegisterModel").contains("model-registry://iris-lineage/v1?namespace=default");

        // The run is re-read at every resync and on every change: the registration stays one version.
        Thread.sleep(1500);
        assertThat(server.get(API + "/registered_models/" + model.path("id").asText() + "/versions").json().path("size").asInt()).isEqualTo(1);
    }

    @Test
    void aTrainJobAnnotatedToRegisterItsModelIsRegisteredWhenItSucceeds() throws Exception {
        var applied = server.apply("""
                apiVersion: trainer.kubeflow.org/v1alpha1
                kind: TrainJob
                metadata:
                  name: rowsum-train
                  annotations:
                    registry.capstan.io/register-model: rowsum-trained
                    registry.capstan.io/alias: prod
                    registry.capstan.io/model-format: test-row-sum
                spec:
                  runtimeRef: {name: torch-distributed}
                  trainer:
                    numNodes: 1
                    command: [sh, -c, 'echo weights > "$CAPSTAN_MODEL_DIR/model.bin"']
                """);
        assertThat(applied.status()).as(applied.body()).isIn(200, 201);
        var job = server.await("/apis/capstan/v1/namespaces/default/trainjobs/rowsum-train",
                r -> Set.of("Succeeded", "Failed").contains(r.path("status").path("phase").asText()), Duration.ofSeconds(90));
        assertThat(job.path("status").path("phase").asText()).as(job.toString()).isEqualTo("Succeeded");
        var model = awaitJson(API + "/registered_model?name=rowsum-trained", m -> m.has("id"));
        var versions = awaitJson(API + "/registered_models/" + model.path("id").asText() + "/versions", v -> v.path("size").asInt() == 1);
        var versionId = versions.path("items").get(0).path("id").asText();
        var artifact = awaitJson(API + "/model_versions/" + versionId + "/artifacts", a -> a.path("size").asInt() == 1).path("items").get(0);
        assertThat(artifact.path("modelSourceKind").asText()).isEqualTo("training");
        assertThat(artifact.path("modelSourceClass").asText()).isEqualTo("trainjob");
        assertThat(artifact.path("modelSourceName").asText()).isEqualTo("rowsum-train");
        assertThat(artifact.path("modelSourceId").asText()).isEqualTo(job.path("metadata").path("uid").asText());
        // The job's model folder, without the trailing slash of its folder URI, which serving refuses.
        assertThat(job.path("status").path("modelUri").asText()).endsWith("/model/");
        assertThat(artifact.path("uri").asText()).isEqualTo(job.path("status").path("modelUri").asText().replaceAll("/$", ""));

        // The registration is complete (alias moved, lineage written) once the version says so, and the job says so too.
        awaitJson(API + "/model_versions/" + versionId, v -> v.path("customProperties").has("capstan_registration"));
        var registered = server.await("/apis/capstan/v1/namespaces/default/trainjobs/rowsum-train",
                r -> condition(r, "ModelRegistered").path("status").asText().equals("True"), Duration.ofSeconds(30));
        assertThat(condition(registered, "ModelRegistered").path("message").asText()).contains("id " + versionId).contains("'rowsum-trained'")
                .contains("alias 'prod'");
        assertThat(server.get(EXT + "/registered_models/" + model.path("id").asText() + "/aliases/prod").json().path("id").asText()).isEqualTo(versionId);
        var deploy = server.send("POST", API + "/model_versions/" + versionId + ":deploy", "{\"alias\": \"prod\", \"name\": \"rowsum-trained\"}", "application/json");
        assertThat(deploy.status()).as(deploy.body()).isEqualTo(200);
        server.await("/apis/capstan/v1/namespaces/default/inferenceservices/rowsum-trained", r -> r.path("status").path("phase").asText().equals("Ready"),
                Duration.ofSeconds(60));
        var l = server.get(EXT + "/model_versions/" + versionId + "/lineage").json();
        assertThat(l.path("trainingJobs").get(0).path("name").asText()).isEqualTo("rowsum-train");
        assertThat(l.path("modelVersion").path("registeredBy").path("type").asText()).isEqualTo("capstan.RegisterModel");
        var types = new ArrayList<String>();
        l.path("chain").forEach(c -> types.add(c.path("type").asText()));
        assertThat(types).containsExactly("trainingJob", "modelVersion", "inferenceService");
    }

    @Test
    void aJobWhoseRegistrationCannotHappenSaysWhyOnItsStatus() throws Exception {
        var badName = server.apply("""
                apiVersion: trainer.kubeflow.org/v1alpha1
                kind: TrainJob
                metadata:
                  name: bad-name-train
                  annotations:
                    registry.capstan.io/register-model: "-not a name"
                spec:
                  runtimeRef: {name: torch-distributed}
                  trainer:
                    numNodes: 1
                    command: [sh, -c, 'echo weights > "$CAPSTAN_MODEL_DIR/model.bin"']
                """);
        assertThat(badName.status()).as(badName.body()).isIn(200, 201);
        var noModel = server.apply("""
                apiVersion: trainer.kubeflow.org/v1alpha1
                kind: TrainJob
                metadata:
                  name: no-model-train
                  annotations:
                    registry.capstan.io/register-model: never-written
                spec:
                  runtimeRef: {name: torch-distributed}
                  trainer:
                    numNodes: 1
                    command: [sh, -c, 'true']
                """);
        assertThat(noModel.status()).as(noModel.body()).isIn(200, 201);
        var bad = server.await("/apis/capstan/v1/namespaces/default/trainjobs/bad-name-train",
                r -> condition(r, "ModelRegistered").has("status"), Duration.ofSeconds(90));
        assertThat(bad.path("status").path("phase").asText()).isEqualTo("Succeeded");
        assertThat(condition(bad, "ModelRegistered").path("status").asText()).isEqualTo("False");
        assertThat(condition(bad, "ModelRegistered").path("reason").asText()).isEqualTo("InvalidAnnotation");
        assertThat(condition(bad, "ModelRegistered").path("message").asText())
                .startsWith("metadata.annotations[registry.capstan.io/register-model]: model name '-not a name'");
        var none = server.await("/apis/capstan/v1/namespaces/default/trainjobs/no-model-train",
                r -> condition(r, "ModelRegistered").has("status"), Duration.ofSeconds(90));
        assertThat(condition(none, "ModelRegistered").path("reason").asText()).isEqualTo("NoModel");
        assertThat(condition(none, "ModelRegistered").path("message").asText()).contains("$CAPSTAN_MODEL_DIR");
        assertThat(server.get(API + "/registered_model?name=never-written").status()).isEqualTo(404);
    }

    private static com.fasterxml.jackson.databind.JsonNode condition(com.fasterxml.jackson.databind.JsonNode resource, String type) {
        for (var c : resource.path("status").path("conditions")) if (type.equals(c.path("type").asText())) return c;
        return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    }

    @Test
    void aKatibExperimentRegistersItsBestTrialsModel() throws Exception {
        var applied = server.apply("""
                apiVersion: kubeflow.org/v1beta1
                kind: Experiment
                metadata:
                  name: tuned
                  annotations:
                    registry.capstan.io/register-model: tuned-model
                    registry.capstan.io/version: best
                spec:
                  objective: {type: maximize, objectiveMetricName: accuracy}
                  algorithm: {algorithmName: grid}
                  parallelTrialCount: 1
                  maxTrialCount: 2
                  parameters:
                    - {name: lr, parameterType: categorical, feasibleSpace: {list: ["0.3", "0.7"]}}
                  trialTemplate:
                    primaryContainerName: node
                    trialParameters:
                      - {name: learningRate, reference: lr}
                    trialSpec:
                      apiVersion: trainer.kubeflow.org/v1alpha1
                      kind: TrainJob
                      spec:
                        runtimeRef: {name: torch-distributed}
                        trainer:
                          numNodes: 1
                          command: [sh, -c, 'echo lr=${trialParameters.learningRate} > "$CAPSTAN_MODEL_DIR/model.txt"; echo accuracy=${trialParameters.learningRate}']
                """);
        assertThat(applied.status()).as(applied.body()).isIn(200, 201);
        var experiment = server.await("/apis/capstan/v1/namespaces/default/experiments/tuned",
                r -> Set.of("Succeeded", "Failed").contains(r.path("status").path("phase").asText()), Duration.ofSeconds(150));
        assertThat(experiment.path("status").path("phase").asText()).as(experiment.toString()).isEqualTo("Succeeded");
        var best = experiment.path("status").path("currentOptimalTrial").path("bestTrialName").asText();
        var model = awaitJson(API + "/registered_model?name=tuned-model", m -> m.has("id"));
        var version = awaitJson(API + "/model_version?name=best&parentResourceId=" + model.path("id").asText(),
                v -> v.path("customProperties").has("capstan_registration"));
        assertThat(version.path("customProperties").path("katib_trial").path("string_value").asText()).isEqualTo(best);
        assertThat(version.path("customProperties").path("hp_lr").path("string_value").asText()).isEqualTo("0.7");
        var artifact = awaitJson(API + "/model_versions/" + version.path("id").asText() + "/artifacts", a -> a.path("size").asInt() == 1).path("items").get(0);
        assertThat(artifact.path("modelSourceKind").asText()).isEqualTo("katib");
        assertThat(artifact.path("modelSourceClass").asText()).isEqualTo("trial");
        assertThat(artifact.path("modelSourceName").asText()).isEqualTo(best);
        var job = server.get("/apis/capstan/v1/namespaces/default/trainjobs/" + best).json();
        assertThat(artifact.path("uri").asText()).isEqualTo(job.path("status").path("modelUri").asText().replaceAll("/$", ""));
        assertThat(Files.readString(Path.of(java.net.URI.create(artifact.path("uri").asText())).resolve("model.txt")).trim()).isEqualTo("lr=0.7");
        var l = server.get(EXT + "/model_versions/" + version.path("id").asText() + "/lineage").json();
        var types = new ArrayList<String>();
        l.path("chain").forEach(c -> types.add(c.path("type").asText()));
        assertThat(types).containsExactly("trial", "trainingJob", "modelVersion");
        var reported = server.await("/apis/capstan/v1/namespaces/default/experiments/tuned",
                r -> condition(r, "ModelRegistered").path("status").asText().equals("True"), Duration.ofSeconds(30));
        assertThat(condition(reported, "ModelRegistered").path("message").asText()).contains("version 'best'").contains("'tuned-model'");
    }

    @Test
    void badVersionIdsAreRefusedNamingTheField() {
        for (var id : new String[] {"abc", "-1", "1e3", "99999999999999999999", URLEncoder.encode("1' OR '1'='1", StandardCharsets.UTF_8),
                URLEncoder.encode("<script>", StandardCharsets.UTF_8)}) {
            var r = server.get(EXT + "/model_versions/" + id + "/lineage");
            assertThat(r.status()).as(id + ": " + r.body()).isEqualTo(400);
            assertThat(r.json().path("code").asText()).isNotEmpty();
            assertThat(r.json().path("message").asText()).as(id).startsWith("id: ");
        }
        var missing = server.get(EXT + "/model_versions/987654321/lineage");
        assertThat(missing.status()).isEqualTo(404);
        assertThat(missing.json().path("message").asText()).contains("987654321");
    }

    private static JsonNode awaitJson(String path, Predicate<JsonNode> done) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            var r = server.get(path);
            if (r.status() == 200 && done.test(r.json())) return r.json();
            if (System.nanoTime() > deadline) throw new AssertionError(path + " never got there: " + r.status() + " " + r.body());
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
