package io.capstan.artifacts.testing;

import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

import java.net.URI;
import java.time.Duration;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.locks.LockSupport;

import io.capstan.core.CapstanConfig;

/**
 * A real S3-protocol server for a test class: S3Proxy with its in-memory ("transient") back end, in this JVM on
 * 127.0.0.1 and a free port. If the system property {@code capstan.test.s3.endpoint} is set and not blank, that
 * server is used instead, with the credentials in {@code capstan.test.s3.access-key} and
 * {@code capstan.test.s3.secret-key} (default {@code minioadmin}). Register it as a static field with
 * {@code @RegisterExtension}.
 */
public final class S3TestServer implements BeforeAllCallback, AfterAllCallback {
    private static final String ACCESS_KEY = "capstan-test";
    private static final String SECRET_KEY = "capstan-test-secret";
    private static final Duration START_DEADLINE = Duration.ofSeconds(30);

    private S3Proxy proxy;
    private String endpoint;
    private String accessKey;
    private String secretKey;
    private S3Client client;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        var external = System.getProperty("capstan.test.s3.endpoint", "");
        if (!external.isBlank()) {
            endpoint = external.strip();
            accessKey = System.getProperty("capstan.test.s3.access-key", "minioadmin");
            secretKey = System.getProperty("capstan.test.s3.secret-key", "minioadmin");
        } else {
            accessKey = ACCESS_KEY;
            secretKey = SECRET_KEY;
            var properties = new Properties();
            properties.setProperty("jclouds.identity", accessKey);
            properties.setProperty("jclouds.credential", secretKey);
            proxy = S3Proxy.builder()
                    .blobStore(BlobStores.create("transient", properties))
                    .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, accessKey, secretKey)
                    .endpoint(URI.create("http://127.0.0.1:0"))
                    .build();
            proxy.start();
            long deadline = System.nanoTime() + START_DEADLINE.toNanos();
            while (!"STARTED".equals(proxy.getState())) {
                if (System.nanoTime() > deadline) throw new IllegalStateException("S3Proxy did not start within " + START_DEADLINE + ", state " + proxy.getState());
                LockSupport.parkNanos(Duration.ofMillis(5).toNanos());
            }
            endpoint = "http://127.0.0.1:" + proxy.getPort();
        }
        client = S3Client.builder()
                .httpClientBuilder(UrlConnectionHttpClient.builder().connectionTimeout(Duration.ofSeconds(5)).socketTimeout(Duration.ofSeconds(30)))
                .endpointOverride(URI.create(endpoint))
                .region(Region.US_EAST_1)
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)))
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .build();
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (client != null) client.close();
        if (proxy != null) proxy.stop();
    }

    /** A raw client for the server, to look at or tamper with objects behind a store's back. */
    public S3Client client() {
        return client;
    }

    /** Settings for a fresh, uniquely named bucket on this server (not yet created). */
    public CapstanConfig.S3Settings newBucketSettings() {
        return new CapstanConfig.S3Settings(endpoint, "us-east-1", "capstan-test-" + UUID.randomUUID(), accessKey, secretKey, true);
    }
}
