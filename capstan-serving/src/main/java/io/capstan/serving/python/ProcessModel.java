package io.capstan.serving.python;

import io.capstan.serving.api.DataType;
import io.capstan.serving.api.InferenceRequest;
import io.capstan.serving.api.InvalidInputException;
import io.capstan.serving.api.ModelFailedException;
import io.capstan.serving.api.ModelNotReadyException;
import io.capstan.serving.api.Tensor;
import io.capstan.serving.api.TensorMetadata;
import io.capstan.serving.http.OipJson;
import io.capstan.serving.runtime.LoadedModel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A model answered by a supervised model-server process over OIP v2 REST (and V1, passed through as it is). Its
 * inputs are not declared: the process checks them and its 400 answers come back as Capstan's 400 with the same
 * message. While the process is down (crashed, restarting) every call fails at once with 503, never waits.
 */
public final class ProcessModel implements LoadedModel {
    private final SupervisedServer server;
    private final String modelName;
    private final String platform;
    private final Duration timeout;
    private final String v2;
    private final String v1;
    private final LoopbackHttp http;

    /**
     * @param modelName the name the process serves the model under (the InferenceService's name)
     * @param timeout the longest one call may take
     */
    public ProcessModel(SupervisedServer server, String modelName, String platform, Duration timeout) {
        this(server, new LoopbackHttp(server.spec().port()), modelName, platform, timeout);
    }

    /**
     * A model served elsewhere, such as by a predictor Deployment's Service on Kubernetes, which keeps its own
     * replicas up: not supervised here, and called whenever asked.
     */
    public static ProcessModel remote(java.net.InetSocketAddress address, String modelName, String platform, Duration timeout) {
        return new ProcessModel(null, new LoopbackHttp(address.getHostString(), address.getPort()), modelName, platform, timeout);
    }

    private ProcessModel(SupervisedServer server, LoopbackHttp http, String modelName, String platform, Duration timeout) {
        this.server = server;
        this.modelName = modelName;
        this.platform = platform;
        this.timeout = timeout;
        var encoded = java.net.URLEncoder.encode(modelName, StandardCharsets.UTF_8).replace("+", "%20");
        this.v2 = "/v2/models/" + encoded + "/infer";
        this.v1 = "/v1/models/" + encoded + ":predict";
        this.http = http;
    }

    /** The process it calls; null for a {@link #remote} model. */
    public SupervisedServer server() {
        return server;
    }

    @Override
    public String platform() {
        return platform;
    }

    @Override
    public List<TensorMetadata> inputs() {
        return List.of();
    }

    @Override
    public List<TensorMetadata> outputs() {
        return List.of();
    }

    @Override
    public boolean acceptsAnyInputs() {
        return true;
    }

    @Override
    public boolean callsOutOfProcess() {
        return true;
    }

    @Override
    public boolean batchable() {
        return false;
    }

    @Override
    public List<Tensor> predict(List<Tensor> inputs, Set<String> outputNames, Map<String, Object> parameters) {
        if (server != null && !server.ready()) {
            throw new ModelNotReadyException("the model server process of '" + modelName + "' is not running (it exited and is "
                    + "being restarted); try again shortly");
        }
        if (inputs.size() == 1 && inputs.getFirst().name().equals(V1_BODY) && inputs.getFirst().datatype() == DataType.BYTES) {
            byte[] answer = post(v1, inputs.getFirst().bytes()[0]);
            return List.of(new Tensor(V1_BODY, DataType.BYTES, new long[] {1}, new byte[][] {answer}));
        }
        var requested = outputNames.stream().map(InferenceRequest.RequestedOutput::new).toList();
        var body = OipJson.writeRequest(new InferenceRequest(null, parameters, inputs, requested));
        return OipJson.readResponse(post(v2, body), modelName).outputs();
    }

    private byte[] post(String path, byte[] body) {
        LoopbackHttp.Answer response;
        try {
            response = http.post(path, body, timeout);
        } catch (java.net.SocketTimeoutException e) {
            throw new ModelFailedException("the model server process of '" + modelName + "' did not answer within "
                    + timeout.toSeconds() + " s", e);
        } catch (IOException e) {
            throw new ModelNotReadyException("the model server process of '" + modelName + "' cannot be reached ("
                    + e.getClass().getSimpleName() + "); it is being restarted, try again shortly");
        }
        int status = response.status();
        if (status == 200) return response.body();
        var message = errorOf(response.body());
        switch (status) {
            case 400, 422 -> throw new InvalidInputException(message);
            case 503 -> throw new ModelNotReadyException(message);
            default -> throw new ModelFailedException("the model server process of '" + modelName + "' answered " + status
                    + ": " + message, null);
        }
    }

    private static String errorOf(byte[] body) {
        try {
            var node = io.capstan.core.Json.json().readTree(body);
            if (node != null && node.hasNonNull("error")) return node.get("error").asText();
            if (node != null && node.hasNonNull("detail")) return node.get("detail").asText();
        } catch (IOException | RuntimeException e) {
            // not JSON: the text itself
        }
        var text = new String(body, StandardCharsets.UTF_8).strip();
        return text.length() > 1000 ? text.substring(0, 1000) + "..." : text;
    }

    @Override
    public void close() {
        if (server != null) server.close();
        http.close();
    }
}
