package io.capstan.serving.grpc;

import io.capstan.serving.api.DataType;
import io.capstan.serving.api.InferenceEndpoint;
import io.capstan.serving.api.InferenceRequest;
import io.capstan.serving.api.InferenceResponse;
import io.capstan.serving.api.InvalidInputException;
import io.capstan.serving.api.ModelFailedException;
import io.capstan.serving.api.ModelMetadata;
import io.capstan.serving.api.ModelNotFoundException;
import io.capstan.serving.api.ModelNotReadyException;
import io.capstan.serving.api.OverloadedException;
import io.capstan.serving.api.ServerMetadata;
import io.capstan.serving.api.Tensor;
import io.capstan.serving.api.TensorMetadata;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A small, real {@link InferenceEndpoint} for tests and the load client:
 * <ul>
 *   <li>{@code echo} returns every input unchanged as an output of the same name, and the namespace
 *       it was called in as the response parameter {@code namespace};</li>
 *   <li>{@code iris} is an affine model over FP32 {@code input} [N,4]: output {@code scores} FP32
 *       [N,3] (row · W + b) and {@code label} INT64 [N] (the arg-max);</li>
 *   <li>{@code half} turns each FP32 input into an FP16 output of the same name;</li>
 *   <li>{@code slow} signals {@link #slowEntered} and waits (at most 30 s) for {@link #slowGate}
 *       before answering like {@code echo};</li>
 *   <li>{@code busy}, {@code loading}, {@code broken} and {@code buggy} fail as overloaded, not ready,
 *       model failure and an unexpected exception;</li>
 *   <li>any other name is not found.</li>
 * </ul>
 */
final class TestModels implements InferenceEndpoint {

    static final float[][] WEIGHTS = {
            {1f, 0f, 0f}, {0f, 1f, 0f}, {0f, 0f, 1f}, {0.5f, -0.5f, 0.25f}};
    static final float[] BIAS = {0.1f, 0.2f, 0.3f};

    /** Thread-safe: the last request the echo model saw, so tests can inspect what was decoded. */
    final AtomicReference<InferenceRequest> lastEcho = new AtomicReference<>();

    /** Released once each time a call enters the {@code slow} model. */
    final Semaphore slowEntered = new Semaphore(0);

    /** The {@code slow} model answers once this is counted down; tests swap in a fresh gate. */
    final AtomicReference<CountDownLatch> slowGate = new AtomicReference<>(new CountDownLatch(1));

    @Override
    public boolean serverLive() {
        return true;
    }

    @Override
    public java.util.List<String> modelNames(String namespace) {
        return java.util.List.of("broken", "buggy", "busy", "echo", "half", "iris", "loading", "slow");
    }

    @Override
    public boolean serverReady() {
        return true;
    }

    @Override
    public ServerMetadata serverMetadata() {
        return new ServerMetadata("capstan", "0.1.0-test", List.of("model_repository"));
    }

    @Override
    public boolean modelReady(String namespace, String name, String version) {
        return switch (known(name, version)) {
            case "loading" -> false;
            default -> true;
        };
    }

    @Override
    public ModelMetadata modelMetadata(String namespace, String name, String version) {
        known(name, version);
        if (name.equals("iris")) {
            return new ModelMetadata("iris", List.of("1"), "java",
                    List.of(new TensorMetadata("input", DataType.FP32, List.of(-1L, 4L))),
                    List.of(new TensorMetadata("scores", DataType.FP32, List.of(-1L, 3L)),
                            new TensorMetadata("label", DataType.INT64, List.of(-1L))),
                    Map.of());
        }
        return new ModelMetadata(name, List.of("1"), "java", List.of(), List.of(), Map.of());
    }

    @Override
    public InferenceResponse infer(String namespace, String name, String version, InferenceRequest request) {
        return switch (known(name, version)) {
            case "echo" -> {
                lastEcho.set(request);
                yield new InferenceResponse(name, "1", request.id(), Map.of("namespace", namespace), request.inputs());
            }
            case "iris" -> iris(request);
            case "half" -> half(request);
            case "slow" -> {
                slowEntered.release();
                try {
                    if (!slowGate.get().await(30, TimeUnit.SECONDS)) {
                        throw new ModelFailedException("model 'slow' was never released", null);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new ModelNotReadyException("model 'slow' was interrupted");
                }
                yield new InferenceResponse(name, "1", request.id(), Map.of(), request.inputs());
            }
            case "busy" -> throw new OverloadedException("model 'busy' has 64 requests queued; retry later");
            case "loading" -> throw new ModelNotReadyException("model 'loading' is still loading");
            case "broken" -> throw new ModelFailedException("model 'broken' failed: bad weights", null);
            case "buggy" -> throw new IllegalStateException("secret internal detail");
            default -> throw new IllegalStateException("unreachable: " + name);
        };
    }

    private static String known(String name, String version) {
        if (!List.of("echo", "iris", "half", "slow", "busy", "loading", "broken", "buggy").contains(name)) {
            throw new ModelNotFoundException("model '" + name + "' not found in namespace 'default'");
        }
        if (version != null && !version.equals("1")) {
            throw new ModelNotFoundException("model '" + name + "' has no version '" + version + "'");
        }
        return name;
    }

    private static InferenceResponse half(InferenceRequest request) {
        List<Tensor> outputs = request.inputs().stream().map(t -> {
            short[] halves = new short[t.size()];
            for (int i = 0; i < halves.length; i++) {
                halves[i] = Float.floatToFloat16(t.floats()[i]);
            }
            return new Tensor(t.name(), DataType.FP16, t.shape(), halves);
        }).toList();
        return new InferenceResponse("half", "1", request.id(), Map.of(), outputs);
    }

    private static InferenceResponse iris(InferenceRequest request) {
        Tensor input = request.input("input").orElseThrow(
                () -> new InvalidInputException("model 'iris' needs an input named 'input'"));
        if (input.datatype() != DataType.FP32 || input.shape().length != 2 || input.shape()[1] != 4) {
            throw new InvalidInputException("model 'iris': input must be FP32 [N,4], got " + input.datatype() + " "
                    + java.util.Arrays.toString(input.shape()));
        }
        int rows = (int) input.shape()[0];
        float[] x = input.floats();
        float[] scores = new float[rows * 3];
        long[] labels = new long[rows];
        for (int r = 0; r < rows; r++) {
            int best = 0;
            for (int c = 0; c < 3; c++) {
                float sum = BIAS[c];
                for (int k = 0; k < 4; k++) {
                    sum += x[r * 4 + k] * WEIGHTS[k][c];
                }
                scores[r * 3 + c] = sum;
                if (sum > scores[r * 3 + best]) {
                    best = c;
                }
            }
            labels[r] = best;
        }
        return new InferenceResponse("iris", "1", request.id(), Map.of(), List.of(
                Tensor.ofFloats("scores", new long[] {rows, 3}, scores),
                Tensor.ofLongs("label", new long[] {rows}, labels)));
    }
}
