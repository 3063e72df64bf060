package io.capstan.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.serving.grpc.proto.GRPCInferenceServiceGrpc;
import io.capstan.serving.grpc.proto.InferTensorContents;
import io.capstan.serving.grpc.proto.ModelInferRequest;
import io.capstan.serving.grpc.proto.ModelReadyRequest;
import io.capstan.serving.grpc.proto.ServerReadyRequest;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Inference needs a token, over HTTP and gRPC, except for the model routes of an InferenceService annotated
 * {@code serving.capstan.io/enable-auth: "false"}; server-wide routes and other models still need one.
 */
class InferenceAuthTest {
    static final String BODY = "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,3],\"data\":[1,2,3]}]}";

    @TempDir
    static Path home;
    static TestServer server;
    static ManagedChannel channel;

    @BeforeAll
    static void start() {
        server = new TestServer(home);
        for (var entry : new String[][] {{"open", "\n  annotations: {serving.capstan.io/enable-auth: \"false\"}"},
                {"closed", ""}, {"typo", "\n  annotations: {serving.capstan.io/enable-auth: \"no\"}"}}) {
            var reply = server.apply("""
                    apiVersion: serving.kserve.io/v1beta1
                    kind: InferenceService
                    metadata:
                      name: %s%s
                    spec:
                      predictor:
                        model:
                          modelFormat: {name: test-row-sum}
                    """.formatted(entry[0], entry[1]));
            assertThat(reply.status()).as(reply.body()).isIn(200, 201);
        }
        for (var name : new String[] {"open", "closed", "typo"}) {
            server.await("/apis/capstan/v1/namespaces/default/inferenceservices/" + name,
                    isvc -> isvc.path("status").path("phase").asText().equals("Ready"), Duration.ofSeconds(60));
        }
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.server.grpcPort()).usePlaintext().build();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        channel.shutdownNow();
        channel.awaitTermination(10, TimeUnit.SECONDS);
        server.close();
    }

    static int anonymous(String method, String path) {
        return server.sendAs(null, method, path, method.equals("POST") ? (path.contains("/v1/") ? "{\"instances\":[[1,2,3]]}" : BODY) : null,
                method.equals("POST") ? "application/json" : null).status();
    }

    @Test
    void anOptedOutModelAnswersWithoutATokenOnEveryRouteShape() {
        assertThat(anonymous("POST", "/v2/models/open/infer")).isEqualTo(200);
        assertThat(anonymous("POST", "/serving/default/v2/models/open/infer")).isEqualTo(200);
        assertThat(anonymous("GET", "/v2/models/open")).isEqualTo(200);
        assertThat(anonymous("GET", "/v2/models/open/ready")).isEqualTo(200);
        assertThat(anonymous("POST", "/v1/models/open:predict")).isEqualTo(200);
        assertThat(anonymous("POST", "/serving/default/v1/models/open:predict")).isEqualTo(200);
        // A token, when sent, is still checked.
        assertThat(server.sendAs("capstan_forged", "POST", "/v2/models/open/infer", BODY, "application/json").status()).isEqualTo(401);
    }

    @Test
    void otherModelsAndServerWideRoutesNeedAToken() {
        for (var path : new String[] {"/v2/models/closed/infer", "/serving/default/v2/models/closed/infer", "/v1/models/closed:predict",
                "/v2/models/typo/infer", "/v2/models/missing/infer", "/serving/other/v2/models/open/infer"}) {
            assertThat(anonymous("POST", path)).as(path).isEqualTo(401);
        }
        for (var path : new String[] {"/v2", "/v2/health/ready", "/v1/models", "/v2/models/closed", "/apis/capstan/v1/namespaces/default/inferenceservices/open"}) {
            assertThat(anonymous("GET", path)).as(path).isEqualTo(401);
        }
        assertThat(server.send("POST", "/v2/models/closed/infer", BODY, "application/json").status()).isEqualTo(200);
    }

    static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub(String token) {
        var stub = GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
        if (token == null) return stub;
        var headers = new Metadata();
        headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    static ModelInferRequest infer(String model) {
        return ModelInferRequest.newBuilder().setModelName(model)
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FP32").addShape(1).addShape(3)
                        .setContents(InferTensorContents.newBuilder().addFp32Contents(1).addFp32Contents(2).addFp32Contents(3)))
                .build();
    }

    @Test
    void grpcTakesTheSameTokenInMetadataAndTheSameOptOut() {
        double before = server.metric("capstan_auth_failures_total", "reason=\"missing\"");
        assertThat(stub(server.adminToken()).modelInfer(infer("closed")).getOutputsCount()).isPositive();
        assertThat(stub(server.adminToken()).serverReady(ServerReadyRequest.getDefaultInstance()).getReady()).isTrue();
        assertThat(stub(null).modelInfer(infer("open")).getOutputsCount()).isPositive();
        assertThat(stub(null).modelReady(ModelReadyRequest.newBuilder().setName("open").build()).getReady()).isTrue();

        assertUnauthenticated(() -> stub(null).modelInfer(infer("closed")));
        assertUnauthenticated(() -> stub(null).modelReady(ModelReadyRequest.newBuilder().setName("closed").build()));
        assertUnauthenticated(() -> stub(null).serverReady(ServerReadyRequest.getDefaultInstance()));
        assertUnauthenticated(() -> stub("capstan_forged").modelInfer(infer("open")));

        assertThat(server.metric("capstan_auth_failures_total", "reason=\"missing\"")).isEqualTo(before + 3);
        var audit = server.get("/apis/capstan/v1/audit?user=system:anonymous&limit=1000").json().path("items");
        assertThat(audit).anyMatch(r -> r.path("method").asText().equals("GRPC") && r.path("name").asText().equals("closed")
                && r.path("path").asText().endsWith("/ModelInfer") && r.path("outcome").asText().equals("denied"));
    }

    static void assertUnauthenticated(Runnable call) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
    }
}
