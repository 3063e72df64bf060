package io.capstan.server;

import io.capstan.core.CapstanConfig;
import io.capstan.serving.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * For bench/monitor-bench.sh: a real Capstan server on {@code PORT} serving the iris ONNX model as InferenceService
 * {@code iris} (no token needed for inference), printing {@code TOKEN <admin token>} and {@code READY}; the script
 * applies and deletes a ModelMonitor between its wrk runs. Usage: MonitorBenchServer PORT HOME
 */
public final class MonitorBenchServer {
    private MonitorBenchServer() {
    }

    public static void main(String[] args) throws Exception {
        var home = Path.of(args[1]);
        var onnx = TestModels.irisOnnx(Files.createDirectories(home.resolve("model")));
        var config = CapstanConfig.fromEnvironment(Map.of("CAPSTAN_HOME", home.toString(), "CAPSTAN_PORT", args[0],
                "CAPSTAN_GRPC_PORT", String.valueOf(Integer.parseInt(args[0]) + 1), "CAPSTAN_RESYNC_SECONDS", "30"));
        var server = new TestServer(config);
        var reply = server.apply("""
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata:
                  name: iris
                  annotations: {serving.capstan.io/enable-auth: "false"}
                spec:
                  predictor:
                    model:
                      modelFormat: {name: onnx}
                      storageUri: %s
                """.formatted(onnx.toUri()));
        if (reply.status() >= 300) throw new IllegalStateException(reply.body());
        server.await("/apis/capstan/v1/namespaces/default/inferenceservices/iris",
                s -> s.path("status").path("phase").asText().equals("Ready"), Duration.ofSeconds(120));
        System.out.println("TOKEN " + server.adminToken());
        System.out.println("READY");
        server.server.awaitTermination();
    }
}
