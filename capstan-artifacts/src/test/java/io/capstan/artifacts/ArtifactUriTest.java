package io.capstan.artifacts;

import io.capstan.core.InvalidSpecException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

class ArtifactUriTest {
    @Test
    void parsesTheThreeForms() {
        assertThat(ArtifactUri.parse("file:///data/models/m.onnx"))
                .isEqualTo(new ArtifactUri(ArtifactUri.Scheme.FILE, "", "/data/models/m.onnx"));
        assertThat(ArtifactUri.parse("s3://my-bucket/runs/a/m.onnx"))
                .isEqualTo(new ArtifactUri(ArtifactUri.Scheme.S3, "my-bucket", "runs/a/m.onnx"));
        assertThat(ArtifactUri.parse("capstan://artifacts/runs/a/m.onnx"))
                .isEqualTo(ArtifactUri.ofCapstan("runs/a/m.onnx"));
        assertThat(ArtifactUri.parse("S3://my-bucket/k").scheme()).isEqualTo(ArtifactUri.Scheme.S3);
        assertThat(ArtifactUri.parse("file://localhost/tmp/x").path()).isEqualTo("/tmp/x");
    }

    @Test
    void filePathsArePercentDecodedOnceAndRoundTrip() {
        var uri = ArtifactUri.parse("file:///data/my%20model.onnx");
        assertThat(uri.path()).isEqualTo("/data/my model.onnx");
        assertThat(uri.toString()).isEqualTo("file:///data/my%20model.onnx");
        assertThat(ArtifactUri.parse(ArtifactUri.ofFile(Path.of("/tmp/a b/c#d.txt")).toString()).path()).isEqualTo("/tmp/a b/c#d.txt");
        assertThat(ArtifactUri.ofFile(Path.of("/tmp")).toString()).isEqualTo("file:///tmp");
        assertThat(ArtifactUri.ofFile(Path.of("/data/50%off/数据")).toString()).isEqualTo("file:///data/50%25off/%E6%95%B0%E6%8D%AE");
        assertThat(ArtifactUri.parse("file:///data/50%25off/%E6%95%B0%E6%8D%AE").path()).isEqualTo("/data/50%off/数据");
    }

    @Test
    void s3AndCapstanUrisRoundTrip() {
        for (var text : new String[] {"s3://bucket.example/a/b.txt", "capstan://artifacts/runs/x/out.json"}) {
            assertThat(ArtifactUri.parse(text).toString()).isEqualTo(text);
        }
    }

    @Test
    void anUnknownSchemeNamesTheAcceptedForms() {
        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> ArtifactUri.parse("http://example.com/model.onnx"))
                .withMessageContaining("'http'")
                .withMessageContaining("file:///abs/path, s3://bucket/key or capstan://artifacts/key");
        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> ArtifactUri.parse("/data/model.onnx"))
                .withMessageContaining("no scheme");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "file:///data/../etc/passwd",
            "file:///data/%2e%2e/etc/passwd",
            "file:///data/%252e%252e/etc/passwd",
            "file:///data//x",
            "file://evil.example/share/x",
            "file:relative/path",
            "file:///data/x?y",
            "s3://bucket/../x",
            "s3://bucket/a/%2e%2e/%2e%2e/x",
            "s3://bucket/",
            "s3://bucket",
            "s3://Bad_Bucket/x",
            "s3://b/x",
            "capstan://artifacts/../x",
            "capstan://artifacts/%2e%2e%2fx",
            "capstan://other/x",
            "capstan://artifacts/",
            "capstan://artifacts//etc/passwd",
    })
    void badUrisAreRefused(String uri) {
        assertThatExceptionOfType(InvalidSpecException.class).isThrownBy(() -> ArtifactUri.parse(uri))
                .withMessageContaining("uri: ");
    }
}
