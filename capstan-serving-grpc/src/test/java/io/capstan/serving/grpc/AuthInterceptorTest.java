package io.capstan.serving.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.serving.grpc.proto.GRPCInferenceServiceGrpc;
import io.capstan.serving.grpc.proto.ModelMetadataRequest;
import io.capstan.serving.grpc.proto.ModelReadyRequest;
import io.capstan.serving.grpc.proto.ServerLiveRequest;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** With authentication on, calls need a bearer token in metadata, except model calls to a model open to anonymous callers. */
class AuthInterceptorTest {
    private static final List<String> denials = new CopyOnWriteArrayList<>();
    private static OipGrpcServer server;
    private static GrpcClient client;

    @BeforeAll
    static void start() {
        var auth = new OipGrpcServer.Authentication(token -> token.equals("good") ? Optional.of("alice") : Optional.empty(),
                (namespace, model) -> namespace.equals("default") && model.equals("iris"),
                (method, model, reason) -> denials.add(method + " " + model + " " + reason));
        server = OipGrpcServer.start(new TestModels(), "127.0.0.1", 0, OipGrpcServer.Options.defaults().withAuthentication(auth));
        client = new GrpcClient(server.port());
    }

    @AfterAll
    static void stop() throws InterruptedException {
        client.close();
        server.close();
    }

    private static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub(String authorization, String namespace) {
        var headers = new Metadata();
        if (authorization != null) headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), authorization);
        if (namespace != null) headers.put(Metadata.Key.of("capstan-namespace", Metadata.ASCII_STRING_MARSHALLER), namespace);
        return client.stub().withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    @Test
    void aValidTokenReachesEverything() {
        assertThat(stub("Bearer good", null).serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
        assertThat(stub("bearer good", null).modelMetadata(ModelMetadataRequest.newBuilder().setName("echo").build()).getName()).isEqualTo("echo");
    }

    @Test
    void withoutATokenOnlyTheOpenModelAnswers() {
        denials.clear();
        assertThat(stub(null, null).modelMetadata(ModelMetadataRequest.newBuilder().setName("iris").build()).getName()).isEqualTo("iris");
        unauthenticated(() -> stub(null, null).modelMetadata(ModelMetadataRequest.newBuilder().setName("echo").build()));
        unauthenticated(() -> stub(null, "team").modelReady(ModelReadyRequest.newBuilder().setName("iris").build()));
        unauthenticated(() -> stub(null, null).serverLive(ServerLiveRequest.getDefaultInstance()));
        unauthenticated(() -> stub("Bearer bad", null).modelMetadata(ModelMetadataRequest.newBuilder().setName("iris").build()));
        unauthenticated(() -> stub("Basic Z29vZA==", null).serverLive(ServerLiveRequest.getDefaultInstance()));
        assertThat(denials).containsExactly(
                "inference.GRPCInferenceService/ModelMetadata echo missing",
                "inference.GRPCInferenceService/ModelReady iris missing",
                "inference.GRPCInferenceService/ServerLive  missing",
                "inference.GRPCInferenceService/ModelMetadata  invalid",
                "inference.GRPCInferenceService/ServerLive  invalid");
    }

    private static void unauthenticated(Runnable call) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
    }
}
