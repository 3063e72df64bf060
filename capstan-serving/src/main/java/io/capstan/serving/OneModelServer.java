package io.capstan.serving;

import io.capstan.serving.http.InferenceHttpService;
import io.capstan.serving.internal.ModelServer;
import io.capstan.serving.internal.PayloadLogger;
import io.capstan.serving.internal.Revision;
import io.capstan.serving.internal.RevisionSettings;
import io.capstan.serving.internal.Route;
import io.capstan.serving.runtime.ModelLoadException;
import io.capstan.serving.runtime.ModelSource;
import io.capstan.serving.runtime.Runtimes;
import io.helidon.webserver.WebServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

/**
 * One model of a built-in format (ONNX, XGBoost, LightGBM) served over the Open Inference Protocol (v2 REST, and V1)
 * by the same code as the server's in-process models, without a store or controllers: what an InferenceService's
 * predictor pod runs on the Kubernetes backend ({@code capstan model-server}). The model is loaded before the port
 * opens, so that {@code /v2/health/ready} answering means the model is ready.
 */
public final class OneModelServer implements AutoCloseable {
    private final ModelServer models;
    private final WebServer web;

    private OneModelServer(ModelServer models, WebServer web) {
        this.models = models;
        this.web = web;
    }

    /**
     * @param modelName the name requests address it by ({@code /v2/models/<name>/infer})
     * @param path the model file, or the folder that holds it
     * @param port 0 for any free port
     * @throws ModelLoadException when the format is not served or the model does not load
     */
    public static OneModelServer start(String modelName, Path path, String format, String host, int port) throws ModelLoadException {
        var runtime = Runtimes.builtIn().forFormat(format, null)
                .orElseThrow(() -> new ModelLoadException("no built-in runtime serves format '" + io.capstan.core.Names.printable(format) + "'"));
        var source = new ModelSource(modelName, path, format, Map.of());
        var models = new ModelServer(Duration.ofSeconds(2));
        try {
            var revision = new Revision("default", modelName, 1, () -> runtime.load(source), RevisionSettings.defaults(), new SimpleMeterRegistry(),
                    Clock.systemUTC());
            revision.start();
            models.register("default", modelName).route(Route.allTo(revision, PayloadLogger.NONE));
            var http = new InferenceHttpService(models, io.capstan.serving.http.InferenceHttpService.DEFAULT_MAX_BODY_BYTES, null);
            var web = WebServer.builder().host(host).port(port).shutdownHook(false)
                    .maxPayloadSize(InferenceHttpService.DEFAULT_MAX_BODY_BYTES + 1024L)
                    .routing(routing -> routing.register(http)).build().start();
            return new OneModelServer(models, web);
        } catch (ModelLoadException | RuntimeException e) {
            models.close();
            throw e;
        }
    }

    public int port() {
        return web.port();
    }

    @Override
    public void close() {
        web.stop();
        models.close();
    }
}
