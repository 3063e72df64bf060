package io.capstan.serving.grpc;

import com.google.protobuf.ByteString;
import io.capstan.serving.grpc.proto.GRPCInferenceServiceGrpc;
import io.capstan.serving.grpc.proto.GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub;
import io.capstan.serving.grpc.proto.InferTensorContents;
import io.capstan.serving.grpc.proto.ModelInferRequest;
import io.capstan.serving.grpc.proto.ModelInferRequest.InferInputTensor;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Closed-loop load for OIP gRPC: N callers each send single-row ModelInfer calls (one FP32 input of
 * shape [1,4], as the iris model takes) back to back for T seconds after a warm-up, then it prints
 * requests/s, p50 and p99. Run by {@code bench/grpc-bench.sh}.
 *
 * <pre>
 * GrpcLoadClient [--target host:port] [--model iris] [--input input] [--concurrency 16]
 *                [--duration 10] [--warmup 3] [--channels 1] [--raw]
 * </pre>
 */
public final class GrpcLoadClient {

    private static final float[] ROW = {5.1f, 3.5f, 1.4f, 0.2f};

    record Settings(String host, int port, String model, String input, int concurrency, int durationSeconds,
                    int warmupSeconds, int channels, boolean raw) {

        static Settings parse(String[] args) {
            String target = "127.0.0.1:8081";
            String model = "iris";
            String input = "input";
            int concurrency = 16;
            int duration = 10;
            int warmup = 3;
            int channels = 1;
            boolean raw = false;
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--target" -> target = args[++i];
                    case "--model" -> model = args[++i];
                    case "--input" -> input = args[++i];
                    case "--concurrency" -> concurrency = Integer.parseInt(args[++i]);
                    case "--duration" -> duration = Integer.parseInt(args[++i]);
                    case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                    case "--channels" -> channels = Integer.parseInt(args[++i]);
                    case "--raw" -> raw = true;
                    default -> throw new IllegalArgumentException("unknown option '" + args[i]
                            + "'; use --target --model --input --concurrency --duration --warmup --channels --raw");
                }
            }
            int colon = target.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("--target must be host:port, got '" + target + "'");
            }
            return new Settings(target.substring(0, colon), Integer.parseInt(target.substring(colon + 1)), model,
                    input, concurrency, duration, warmup, channels, raw);
        }
    }

    /**
     * @param requests successful calls within the measured window
     * @param allCalls every call made, warm-up included, so a server's CPU time can be divided by it
     */
    record Result(long requests, long errors, double seconds, long p50Nanos, long p99Nanos, long allCalls,
                  String firstError) {
        double perSecond() {
            return requests / seconds;
        }
    }

    public static void main(String[] args) throws Exception {
        Settings settings = Settings.parse(args);
        Result result = run(settings);
        System.out.printf(Locale.ROOT,
                "grpc-bench target=%s:%d model=%s form=%s concurrency=%d channels=%d duration=%ds: "
                        + "%d requests, %d errors, %.0f req/s, p50 %.3f ms, p99 %.3f ms (%d calls with warm-up)%n",
                settings.host(), settings.port(), settings.model(), settings.raw() ? "raw" : "typed",
                settings.concurrency(), settings.channels(), settings.durationSeconds(), result.requests(),
                result.errors(), result.perSecond(), result.p50Nanos() / 1e6, result.p99Nanos() / 1e6,
                result.allCalls());
        if (result.firstError() != null) {
            System.out.println("first error: " + result.firstError());
        }
        if (result.requests() == 0) {
            System.exit(1);
        }
    }

    static Result run(Settings settings) throws Exception {
        List<ManagedChannel> channels = new ArrayList<>();
        for (int i = 0; i < settings.channels(); i++) {
            channels.add(NettyChannelBuilder.forAddress(settings.host(), settings.port()).usePlaintext().build());
        }
        ModelInferRequest request = request(settings);
        // One call per channel first, with a long deadline: connecting and loading classes on both
        // sides can take seconds on a busy machine, and that is not what this measures.
        for (ManagedChannel channel : channels) {
            GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS).modelInfer(request);
        }
        long start = System.nanoTime();
        long measureFrom = start + TimeUnit.SECONDS.toNanos(settings.warmupSeconds());
        long end = measureFrom + TimeUnit.SECONDS.toNanos(settings.durationSeconds());
        AtomicReference<String> firstError = new AtomicReference<>();
        List<Future<Caller>> callers = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(settings.concurrency())) {
            for (int i = 0; i < settings.concurrency(); i++) {
                GRPCInferenceServiceBlockingStub stub = GRPCInferenceServiceGrpc.newBlockingStub(
                        channels.get(i % channels.size()));
                callers.add(pool.submit(() -> new Caller().run(stub, request, measureFrom, end, firstError)));
            }
            long requests = 0;
            long errors = 0;
            long allCalls = channels.size();
            List<long[]> latencies = new ArrayList<>();
            for (Future<Caller> future : callers) {
                Caller caller = future.get(settings.warmupSeconds() + settings.durationSeconds() + 60L, TimeUnit.SECONDS);
                requests += caller.count;
                errors += caller.errors;
                allCalls += caller.allCalls;
                latencies.add(Arrays.copyOf(caller.latencies, caller.count));
            }
            long[] all = latencies.stream().flatMapToLong(Arrays::stream).sorted().toArray();
            return new Result(requests, errors, settings.durationSeconds(), percentile(all, 0.50),
                    percentile(all, 0.99), allCalls, firstError.get());
        } finally {
            for (ManagedChannel channel : channels) {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    private static long percentile(long[] sorted, double quantile) {
        if (sorted.length == 0) {
            return 0;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(quantile * sorted.length) - 1)];
    }

    private static ModelInferRequest request(Settings settings) {
        InferInputTensor.Builder input = InferInputTensor.newBuilder()
                .setName(settings.input()).setDatatype("FP32").addShape(1).addShape(ROW.length);
        ModelInferRequest.Builder request = ModelInferRequest.newBuilder().setModelName(settings.model());
        if (settings.raw()) {
            ByteBuffer raw = ByteBuffer.allocate(ROW.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            raw.asFloatBuffer().put(ROW);
            request.addRawInputContents(ByteString.copyFrom(raw.array()));
        } else {
            InferTensorContents.Builder contents = InferTensorContents.newBuilder();
            for (float v : ROW) {
                contents.addFp32Contents(v);
            }
            input.setContents(contents);
        }
        return request.addInputs(input).build();
    }

    /** One closed-loop caller; its fields are read only after its future completes. */
    private static final class Caller {
        long[] latencies = new long[1 << 16];
        int count;
        long errors;
        long allCalls;

        Caller run(GRPCInferenceServiceBlockingStub stub, ModelInferRequest request, long measureFrom, long end,
                   AtomicReference<String> firstError) {
            for (long now = System.nanoTime(); now < end; now = System.nanoTime()) {
                allCalls++;
                try {
                    stub.withDeadlineAfter(5, TimeUnit.SECONDS).modelInfer(request);
                } catch (StatusRuntimeException e) {
                    firstError.compareAndSet(null, e.getStatus().toString());
                    if (now >= measureFrom) {
                        errors++;
                    }
                    continue;
                }
                long done = System.nanoTime();
                if (now >= measureFrom && done <= end) {
                    if (count == latencies.length) {
                        latencies = Arrays.copyOf(latencies, count * 2);
                    }
                    latencies[count++] = done - now;
                }
            }
            return this;
        }
    }
}
