package io.capstan.serving.bench;

import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import io.capstan.serving.Serving;
import io.capstan.serving.TestModels;
import io.capstan.serving.python.PythonInterpreter;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.testing.TestDatabases;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Harness for bench/python-serving-bench.sh: {@code serve PORT} assembles Serving (no authentication: the routes as
 * capstan-serving registers them) on a Helidon server with {@code iris-sklearn}, a scikit-learn LogisticRegression
 * on iris trained here by python3 and served through Capstan's Python sklearnserver process, and {@code iris-onnx},
 * an iris-sized ONNX model in-process. It prints {@code DIRECT <port>}, the Python process's own port (the same
 * model without Capstan in front), then {@code READY}.
 */
public final class PythonBenchServer {
    private PythonBenchServer() {
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[1]);
        var dir = Files.createTempDirectory("capstan-python-bench");
        var sklearn = dir.resolve("iris-sklearn");
        Files.createDirectories(sklearn);
        var train = new ProcessBuilder(PythonInterpreter.command(), "-c", """
                import sys, joblib
                from sklearn import datasets
                from sklearn.linear_model import LogisticRegression
                X, y = datasets.load_iris(return_X_y=True)
                joblib.dump(LogisticRegression(max_iter=1000).fit(X, y), sys.argv[1] + "/model.joblib")
                """, sklearn.toString()).inheritIO().start();
        if (!train.waitFor(120, TimeUnit.SECONDS) || train.exitValue() != 0) throw new IllegalStateException("training failed");
        var onnx = TestModels.irisOnnx(dir.resolve("iris-onnx"));

        var db = TestDatabases.h2();
        db.migrate("store");
        var store = new JdbiResourceStore(db, Clock.systemUTC());
        var serving = new Serving(store, null, b -> Optional.empty(), dir.resolve("serving"), Clock.systemUTC(),
                new SimpleMeterRegistry(), "http://127.0.0.1:" + port, Serving.Options.defaults());
        var parser = new ResourceParser(ResourceKinds.of(Serving.kinds()));
        for (var yaml : new String[] {"""
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: iris-sklearn}
                spec:
                  predictor:
                    model: {modelFormat: {name: sklearn}, storageUri: %s}
                """.formatted(sklearn), """
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: iris-onnx}
                spec:
                  predictor:
                    model: {modelFormat: {name: onnx}, storageUri: %s}
                """.formatted(onnx)}) {
            var key = store.apply(parser.parse("bench.yaml", yaml).getFirst()).key();
            serving.reconciler().reconcile(key);
            var status = store.get(key).status();
            if (!"Ready".equals(status.phase())) throw new IllegalStateException(key + " is not ready: " + status);
        }
        WebServer.builder().port(port).host("127.0.0.1").routing(HttpRouting.builder().register(serving.httpService())).build().start();
        var direct = ProcessHandle.current().descendants()
                .map(p -> p.info().commandLine().orElse(""))
                .filter(c -> c.contains("sklearnserver"))
                .map(c -> c.replaceAll(".*--http_port (\\d+).*", "$1"))
                .findFirst().orElseThrow();
        System.out.println("DIRECT " + direct);
        System.out.println("READY");
        Runtime.getRuntime().addShutdownHook(new Thread(serving::close));
        Thread.currentThread().join();
    }
}
