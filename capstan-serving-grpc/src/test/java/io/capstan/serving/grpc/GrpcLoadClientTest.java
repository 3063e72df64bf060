package io.capstan.serving.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import org.junit.jupiter.api.Test;

/** Keeps bench/grpc-bench.sh's load client working: a one-second run against the test models. */
class GrpcLoadClientTest {

    @Test
    void measuresThroughputAndLatencyInBothForms() throws Exception {
        try (OipGrpcServer server = OipGrpcServer.start(new TestModels(), "127.0.0.1", 0,
                OipGrpcServer.Options.defaults())) {
            for (String form : new String[] {"", "--raw"}) {
                GrpcLoadClient.Result result = GrpcLoadClient.run(GrpcLoadClient.Settings.parse((
                        "--target 127.0.0.1:" + server.port() + " --concurrency 2 --duration 1 --warmup 0 " + form)
                        .strip().split(" ")));

                assertThat(result.errors()).as("errors, first: %s", result.firstError()).isZero();
                assertThat(result.requests()).isPositive();
                assertThat(result.perSecond()).isPositive();
                assertThat(result.p50Nanos()).isPositive().isLessThanOrEqualTo(result.p99Nanos());
            }
        }
    }

    @Test
    void unknownOptionIsNamed() {
        assertThatExceptionOfType(IllegalArgumentException.class)
                .isThrownBy(() -> GrpcLoadClient.Settings.parse(new String[] {"--threads", "4"}))
                .withMessageContaining("unknown option '--threads'");
        assertThatExceptionOfType(IllegalArgumentException.class)
                .isThrownBy(() -> GrpcLoadClient.Settings.parse(new String[] {"--target", "localhost"}))
                .withMessageContaining("--target must be host:port, got 'localhost'");
    }
}
