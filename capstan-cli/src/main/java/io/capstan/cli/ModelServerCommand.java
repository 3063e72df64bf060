package io.capstan.cli;

import io.capstan.serving.OneModelServer;
import io.capstan.serving.runtime.ModelLoadException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** What an InferenceService's predictor pod runs on the Kubernetes backend: one model, served until the process is stopped. */
@Command(name = "model-server", mixinStandardHelpOptions = true, versionProvider = Version.Provider.class,
        description = "Serve one ONNX, XGBoost or LightGBM model over the Open Inference Protocol (v2 REST and V1) until stopped: "
                + "what an InferenceService's predictor pod runs on the Kubernetes backend.")
final class ModelServerCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--model-name", required = true, paramLabel = "NAME", description = "The name requests address it by (/v2/models/NAME/infer).")
    private String modelName;

    @Option(names = "--model-dir", required = true, paramLabel = "PATH", description = "The model file, or the folder that holds it (/mnt/models in a pod).")
    private Path modelDir;

    @Option(names = "--format", required = true, paramLabel = "FORMAT", description = "onnx, xgboost or lightgbm.")
    private String format;

    @Option(names = "--port", defaultValue = "8080", paramLabel = "PORT", description = "The HTTP port (default: ${DEFAULT-VALUE}; 0: any free one).")
    private int port;

    @Option(names = "--host", defaultValue = "0.0.0.0", paramLabel = "ADDRESS", description = "The address to listen on (default: ${DEFAULT-VALUE}).")
    private String host;

    @Override
    public Integer call() throws InterruptedException {
        if (port < 0 || port > 65535) throw new UsageException("--port " + port + ": expected 0-65535");
        if (!Files.exists(modelDir)) throw new io.capstan.core.InvalidSpecException("--model-dir " + modelDir + ": no such file or folder");
        OneModelServer server;
        try {
            server = OneModelServer.start(modelName, modelDir, format.toLowerCase(Locale.ROOT), host, port);
        } catch (ModelLoadException e) {
            throw new CommandFailedException("model " + modelName + " did not load: " + e.getMessage(), e);
        }
        var stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("capstan-model-server-shutdown").unstarted(() -> {
            server.close();
            stopped.countDown();
        }));
        var out = spec.commandLine().getOut();
        out.println("Serving model " + modelName + " (" + format + ") on " + host + " port " + server.port());
        out.flush();
        stopped.await();
        return ExitCodes.OK;
    }
}
