package io.capstan.serving.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.serving.api.InferenceException;
import io.capstan.serving.api.InferenceResponse;
import io.capstan.serving.api.ModelNotReadyException;
import io.capstan.serving.api.Tensor;
import io.capstan.serving.api.TensorMetadata;
import io.capstan.serving.runtime.LoadedModel;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The batcher inside a real revision: whatever happens to the revision while a batch forms or runs, every
 * request gets its answer or a 503 within the revision's timeout; none waits forever.
 */
class BatcherTest {

    private static Revision batching(LoadedModel model, Duration maxLatency, Duration timeout) throws Exception {
        var settings = new RevisionSettings(1, 1, "concurrency", 1, 64, 10_000, timeout, Duration.ofMinutes(1), 8, maxLatency);
        var revision = new Revision("default", "m", 1, () -> model, settings, new SimpleMeterRegistry(), Clock.systemUTC());
        revision.start();
        return revision;
    }

    /** Whether a request ended as it may: answered (the doubled row) or refused as not ready (503). */
    private static void answeredOrNotReady(Future<InferenceResponse> request, float x) throws Exception {
        try {
            assertThat(request.get(20, TimeUnit.SECONDS).output("y").orElseThrow().floats()).containsExactly(2 * x, -2 * x);
        } catch (ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(ModelNotReadyException.class);
        }
    }

    @Test
    @Timeout(60)
    void aBatchStillFormingWhenTheRevisionClosesIsAnsweredNotReady() throws Exception {
        var model = new RevisionBehaviourTest.DoublingModel(0);
        // the batch waits up to a minute for company, so it is still forming when the revision closes
        var revision = batching(model, Duration.ofMinutes(1), Duration.ofMinutes(2));
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            var request = pool.submit(() -> revision.infer(RevisionBehaviourTest.row(1, 2)));
            Thread.sleep(300);
            assertThat(request).isNotDone();
            revision.close();
            var failure = org.assertj.core.api.Assertions.catchThrowable(() -> request.get(20, TimeUnit.SECONDS));
            assertThat(failure).isInstanceOf(ExecutionException.class).cause()
                    .isInstanceOf(ModelNotReadyException.class).hasMessageContaining("shutting down");
        }
        assertThat(model.batches).as("the forming batch never ran").isEmpty();
    }

    @Test
    @Timeout(60)
    void requestsRacingTheRevisionsCloseAreAllAnsweredOrRefused() throws Exception {
        for (int round = 0; round < 50; round++) {
            var revision = batching(new RevisionBehaviourTest.DoublingModel(0), Duration.ofMillis(2), Duration.ofMinutes(2));
            var start = new CountDownLatch(1);
            var requests = new ArrayList<Future<InferenceResponse>>();
            try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < 32; i++) {
                    float x = i;
                    requests.add(pool.submit(() -> {
                        start.await();
                        return revision.infer(RevisionBehaviourTest.row(x, -x));
                    }));
                }
                start.countDown();
                Thread.sleep(round % 3);
                revision.close();
                for (int i = 0; i < requests.size(); i++) answeredOrNotReady(requests.get(i), i);
            }
        }
    }

    /** A model whose every call blocks until the test releases it. */
    static final class StuckModel implements LoadedModel {
        final RevisionBehaviourTest.DoublingModel doubling = new RevisionBehaviourTest.DoublingModel(0);
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public String platform() {
            return doubling.platform();
        }

        @Override
        public List<TensorMetadata> inputs() {
            return doubling.inputs();
        }

        @Override
        public List<TensorMetadata> outputs() {
            return doubling.outputs();
        }

        @Override
        public List<Tensor> predict(List<Tensor> inputs, Set<String> outputNames, Map<String, Object> parameters) {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return doubling.predict(inputs, outputNames, parameters);
        }

        @Override
        public void close() {
        }
    }

    @Test
    @Timeout(60)
    void aBatchThatNeverAnswersEndsInNotReadyAfterTheTimeout() throws Exception {
        var model = new StuckModel();
        var revision = batching(model, Duration.ofMillis(5), Duration.ofSeconds(1));
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            var request = CompletableFuture.supplyAsync(() -> revision.infer(RevisionBehaviourTest.row(1, 2)), pool);
            var failure = org.assertj.core.api.Assertions.catchThrowable(() -> request.get(30, TimeUnit.SECONDS));
            assertThat(failure).isInstanceOf(ExecutionException.class).cause()
                    .isInstanceOf(ModelNotReadyException.class).hasMessageContaining("within 1s");
            assertThat(((InferenceException) failure.getCause()).error().httpStatus()).isEqualTo(503);
        } finally {
            model.release.countDown();
            revision.close();
        }
    }

}
