package io.capstan.artifacts;

import io.capstan.core.InvalidSpecException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

class ArtifactKeysTest {
    static Stream<String> hostileKeys() {
        return Stream.of(
                "",
                "../etc/passwd",
                "runs/../../etc/passwd",
                "runs/..",
                ".",
                "runs/./model.onnx",
                "/etc/passwd",
                "C:/Windows/win.ini",
                "runs//model.onnx",
                "runs/",
                "..\\..\\windows\\win.ini",
                "runs\\model.onnx",
                "runs/a\u0000b",
                "runs/a\nb",
                "runs/a\u202eb",
                "%2e%2e/etc/passwd",
                "%2E%2E%2Fetc%2Fpasswd",
                "..%2fetc%2fpasswd",
                "runs%2f..%2f..%2fetc",
                "%2fetc/passwd",
                "%252e%252e/etc/passwd",
                "%25252e%25252e%25252fetc",
                "%c0%ae%c0%ae/etc/passwd",
                "%e0%80%ae%e0%80%ae/etc/passwd",
                "%u002e%u002e/etc/passwd",
                "runs/%00/model.onnx",
                "runs%5cmodel.onnx",
                "\uff0e\uff0e/etc/passwd",
                "runs/a\ud800b",
                "k".repeat(1025),
                "runs/" + "n".repeat(251));
    }

    @ParameterizedTest
    @MethodSource("hostileKeys")
    void hostileKeysAreRefusedNamingTheKeyAndTheFix(String key) {
        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> ArtifactKeys.requireValid(key))
                .satisfies(e -> {
                    assertThat(e.getMessage()).startsWith("key: artifact key '");
                    assertThat(e.getMessage()).containsAnyOf("use ", "send ");
                    assertThat(e.getMessage()).doesNotContain("\u0000", "\n", "\u202e");
                });
    }

    @ParameterizedTest
    @ValueSource(strings = {"model.onnx", "runs/abc/model.onnx", "runs/abc/.hidden", "runs/a..b/c", "data/50%off.csv",
            "data/100%.csv", "naïve/数据.bin", "ab:c/d", "emoji/\ud83d\ude00.png", "runs/...", "a/b.json/c"})
    void ordinaryKeysAreAccepted(String key) {
        assertThat(ArtifactKeys.requireValid(key)).isEqualTo(key);
    }

    @Test
    void theMessageSaysWhatIsWrong() {
        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> ArtifactKeys.requireValid("runs/%252e%252e/x"))
                .withMessageContaining("'runs/%252e%252e/x'")
                .withMessageContaining("path segment '..'")
                .withMessageContaining("after percent-decoding")
                .withMessageContaining("runs/abc/model.onnx");
        assertThatExceptionOfType(InvalidSpecException.class)
                .isThrownBy(() -> ArtifactKeys.requireValid("k".repeat(2000)))
                .withMessageContaining("2000 bytes").withMessageContaining("1024");
    }

    @Test
    void prefixesMayBeEmptyPartialOrEndInASlash() {
        assertThat(ArtifactKeys.requireValidPrefix("")).isEmpty();
        assertThat(ArtifactKeys.requireValidPrefix("runs/")).isEqualTo("runs/");
        assertThat(ArtifactKeys.requireValidPrefix("runs/ab")).isEqualTo("runs/ab");
        for (var bad : List.of("/", "/runs", "../", "runs//", "runs/../", "%2e%2e/")) {
            assertThatExceptionOfType(InvalidSpecException.class).as(bad).isThrownBy(() -> ArtifactKeys.requireValidPrefix(bad))
                    .withMessageContaining("prefix");
        }
    }

    @Test
    void keysSortByCodePointLikeS3() {
        var keys = new ArrayList<>(List.of("b", "a/b", "a", "\uffff", "\ud83d\ude00", "a.b", "A"));
        keys.sort(ArtifactKeys.ORDER);
        assertThat(keys).containsExactly("A", "a", "a.b", "a/b", "b", "\uffff", "\ud83d\ude00");
    }
}
