package io.capstan.server;

import io.capstan.core.CapstanConfig;
import io.capstan.serving.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;

/**
 * For bench/registry-bench.sh: the time from moving a registry alias to the new revision serving, on a real Capstan
 * server (embedded H2, local backend). Versions v1 and v2 of registered model {@code iris} hold the iris ONNX model;
 * InferenceService {@code iris} serves {@code model-registry://iris@champion}. Each round moves {@code champion} to the
 * other version (PUT .../aliases/champion) and polls every 5 ms until the service reports a new ready revision
 * resolved to that version, then until an OIP inference answers 200. Prints each round and the median and worst.
 * Usage: RegistryAliasBench [ROUNDS]
 */
public final class RegistryAliasBench {
    static final String API = "/api/model_registry/v1alpha3";
    static final String ISVC = "/apis/capstan/v1/namespaces/default/inferenceservices/iris";

    private RegistryAliasBench() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        var home = Files.createTempDirectory("registry-alias-bench");
        var config = CapstanConfig.fromEnvironment(Map.of("CAPSTAN_HOME", home.toString(), "CAPSTAN_PORT", "0", "CAPSTAN_GRPC_PORT", "0"));
        try (var server = new TestServer(config)) {
            var model = id(server.send("POST", API + "/registered_models", "{\"name\": \"iris\"}", "application/json"));
            var versions = new String[2];
            for (int i = 0; i < 2; i++) {
                var onnx = TestModels.irisOnnx(Files.createDirectories(home.resolve("models/v" + (i + 1))));
                versions[i] = id(server.send("POST", API + "/model_versions", "{\"name\": \"v" + (i + 1) + "\", \"registeredModelId\": \"" + model + "\"}",
                        "application/json"));
                id(server.send("POST", API + "/model_versions/" + versions[i] + "/artifacts", "{\"artifactType\": \"model-artifact\", \"name\": \"iris\","
                        + " \"uri\": \"file://" + onnx.getParent() + "\", \"modelFormatName\": \"onnx\"}", "application/json"));
            }
            move(server, model, versions[0]);
            var applied = server.apply("""
                    apiVersion: serving.kserve.io/v1beta1
                    kind: InferenceService
                    metadata: {name: iris}
                    spec:
                      predictor:
                        model: {modelFormat: {name: onnx}, storageUri: "model-registry://iris@champion"}
                    """);
            if (applied.status() >= 300) throw new IllegalStateException(applied.body());
            var first = server.await(ISVC, s -> s.path("status").path("phase").asText().equals("Ready"), Duration.ofSeconds(120));
            var revision = first.path("status").path("components").path("predictor").path("latestReadyRevision").asText();
            var toReady = new ArrayList<Double>();
            var toServing = new ArrayList<Double>();
            for (int round = 1; round <= rounds; round++) {
                var target = versions[round % 2];
                var previous = revision;
                long start = System.nanoTime();
                move(server, model, target);
                while (true) {
                    var s = server.get(ISVC).json().path("status");
                    var now = s.path("components").path("predictor").path("latestReadyRevision").asText();
                    if (s.path("phase").asText().equals("Ready") && !now.equals(previous) && !now.isEmpty()
                            && s.path("modelSource").path("modelVersionId").asText().equals(target)) {
                        revision = now;
                        break;
                    }
                    if (System.nanoTime() - start > Duration.ofSeconds(120).toNanos()) throw new IllegalStateException("no new revision after 120 s: " + s);
                    Thread.sleep(5);
                }
                double ready = (System.nanoTime() - start) / 1e6;
                while (server.send("POST", "/v2/models/iris/infer", "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[5.1,3.5,1.4,0.2]}]}",
                        "application/json").status() != 200) {
                    Thread.sleep(5);
                }
                double serving = (System.nanoTime() - start) / 1e6;
                toReady.add(ready);
                toServing.add(serving);
                System.out.printf(Locale.ROOT, "round %d: alias champion -> version %s: revision %s Ready after %.0f ms, answering after %.0f ms%n",
                        round, target, revision, ready, serving);
            }
            System.out.printf(Locale.ROOT, "alias move -> new revision Ready: median %.0f ms, worst %.0f ms; -> first answer: median %.0f ms, worst %.0f ms (%d rounds)%n",
                    median(toReady), Collections.max(toReady), median(toServing), Collections.max(toServing), rounds);
        }
    }

    private static void move(TestServer server, String model, String version) {
        var r = server.send("PUT", "/apis/capstan/v1/registry/registered_models/" + model + "/aliases/champion",
                "{\"modelVersionId\": \"" + version + "\"}", "application/json");
        if (r.status() != 200) throw new IllegalStateException("moving the alias: " + r.status() + " " + r.body());
    }

    private static String id(TestServer.Reply r) {
        if (r.status() >= 300) throw new IllegalStateException(r.status() + " " + r.body());
        return r.json().path("id").asText();
    }

    private static double median(java.util.List<Double> values) {
        var sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }
}
