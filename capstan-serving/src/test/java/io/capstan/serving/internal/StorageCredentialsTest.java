package io.capstan.serving.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.artifacts.S3ArtifactStore;
import io.capstan.artifacts.testing.S3TestServer;
import io.capstan.core.CoreKinds;
import io.capstan.core.ResourceKey;
import io.capstan.core.ResourceKinds;
import io.capstan.core.ResourceParser;
import io.capstan.serving.TestModels;
import io.capstan.serving.runtime.Runtimes;
import io.capstan.serving.spec.ServingKinds;
import io.capstan.store.Database;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.testing.TestDatabases;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model in an S3 bucket that only the InferenceService's own credentials reach, found as KServe finds them: a
 * Secret listed by the predictor's ServiceAccount, or an entry of the storage-config Secret named by storage.key.
 */
class StorageCredentialsTest {
    @RegisterExtension
    static final S3TestServer S3 = new S3TestServer();

    @TempDir
    Path dir;
    Database db;
    JdbiResourceStore store;
    ModelServer server;
    InferenceServiceReconciler reconciler;
    final ResourceParser parser;
    String bucket;
    io.capstan.core.CapstanConfig.S3Settings settings;

    StorageCredentialsTest() {
        var kinds = new ArrayList<>(ServingKinds.all());
        kinds.addAll(CoreKinds.all());
        parser = new ResourceParser(ResourceKinds.of(kinds));
    }

    @BeforeEach
    void setUp() throws Exception {
        db = TestDatabases.h2();
        db.migrate("store");
        store = new JdbiResourceStore(db, Clock.systemUTC());
        server = new ModelServer(Duration.ofSeconds(1));
        // The server's own S3 settings reach no bucket: only the InferenceService's credentials can.
        var storage = new ModelStorage(dir.resolve("cache"), null, b -> Optional.empty(), Duration.ofSeconds(30));
        reconciler = new InferenceServiceReconciler(store, server, storage, Runtimes.builtIn(), new SimpleMeterRegistry(),
                Clock.systemUTC(), "http://localhost:8080", dir.resolve("work"));
        settings = S3.newBucketSettings();
        bucket = settings.bucket();
        var model = TestModels.irisOnnx(dir.resolve("models/iris"));
        try (var s3 = new S3ArtifactStore(settings, Clock.systemUTC())) {
            s3.createBucketIfMissing();
            try (var in = Files.newInputStream(model)) {
                s3.put("models/iris/" + model.getFileName(), in);
            }
        }
    }

    @AfterEach
    void tearDown() {
        server.close();
        db.close();
    }

    private ResourceKey apply(String yaml) {
        ResourceKey last = null;
        for (var r : parser.parse("test.yaml", yaml)) last = store.apply(r).key();
        return last;
    }

    private String endpointHost() {
        return settings.endpoint().replaceFirst("^https?://", "");
    }

    private String serviceAccountSetup(String secretKey) {
        return """
                apiVersion: v1
                kind: Secret
                metadata:
                  name: s3creds
                  annotations:
                    serving.kserve.io/s3-endpoint: HOST
                    serving.kserve.io/s3-usehttps: "0"
                    serving.kserve.io/s3-region: us-east-1
                stringData:
                  AWS_ACCESS_KEY_ID: @ACCESS@
                  AWS_SECRET_ACCESS_KEY: @SECRET@
                ---
                apiVersion: v1
                kind: ServiceAccount
                metadata: {name: models}
                secrets: [{name: s3creds}]
                ---
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: iris}
                spec:
                  predictor:
                    serviceAccountName: models
                    model:
                      modelFormat: {name: onnx}
                      storageUri: s3://BUCKET/models/iris
                """.replace("HOST", endpointHost()).replace("@ACCESS@", settings.accessKey()).replace("@SECRET@", secretKey)
                .replace("BUCKET", bucket);
    }

    @Test
    void aModelLoadsWithTheCredentialsOfTheServiceAccountsSecret() {
        var key = apply(serviceAccountSetup(settings.secretKey()));
        reconciler.reconcile(key);

        var isvc = store.get(key);
        assertThat(isvc.status().phase()).as(isvc.status().toString()).isEqualTo("Ready");
        assertThat(server.infer("iris", null, io.capstan.serving.api.InferenceRequest.of(io.capstan.serving.api.Tensor.ofFloats(
                "input", new long[] {1, 4}, new float[] {5.1f, 3.5f, 1.4f, 0.2f}))).outputs()).hasSize(2);
    }

    @Test
    void wrongCredentialsLeaveTheServiceNotReadyNamingTheSecret() {
        var key = apply(serviceAccountSetup("wrong-secret-key-91"));
        reconciler.reconcile(key);

        var isvc = store.get(key);
        var ready = isvc.status().condition("Ready").orElseThrow();
        assertThat(ready.status().name()).isEqualTo("False");
        assertThat(ready.message()).contains("secret 's3creds'", "access denied").doesNotContain("wrong-secret-key-91", settings.secretKey());
    }

    @Test
    void aMissingServiceAccountIsNamed() {
        var key = apply(serviceAccountSetup(settings.secretKey()).replace("serviceAccountName: models", "serviceAccountName: nobody"));
        reconciler.reconcile(key);

        assertThat(store.get(key).status().condition("Ready").orElseThrow().message()).contains("service account 'nobody' not found");
    }

    @Test
    void aModelLoadsThroughTheStorageConfigSecretsKey() {
        var entry = """
                {"type": "s3", "access_key_id": "%s", "secret_access_key": "%s", "endpoint_url": "%s", "region": "us-east-1", "bucket": "%s"}"""
                .formatted(settings.accessKey(), settings.secretKey(), settings.endpoint(), bucket);
        var spec = io.capstan.core.Json.json().createObjectNode();
        spec.putObject("stringData").put("localMinIO", entry);
        store.create(io.capstan.core.Resource.of("v1", CoreKinds.SECRET, io.capstan.core.ObjectMeta.named("default", "storage-config"), spec));
        var key = apply("""
                apiVersion: serving.kserve.io/v1beta1
                kind: InferenceService
                metadata: {name: iris}
                spec:
                  predictor:
                    model:
                      modelFormat: {name: onnx}
                      storage: {key: localMinIO, path: models/iris}
                """);
        reconciler.reconcile(key);

        var isvc = store.get(key);
        assertThat(isvc.status().phase()).as(isvc.status().toString()).isEqualTo("Ready");
        assertThat(List.of(isvc.status().toString())).noneMatch(s -> s.contains(settings.secretKey()));
    }
}
