package io.capstan.store.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.TestAbortedException;

class ConformanceLookupTest {
    @TempDir
    Path dir;

    @Test
    void anExistingPathIsReturned() {
        assertThat(Conformance.require(dir)).isEqualTo(dir);
    }

    @Test
    void aMissingPathFailsUnderCiAndElseSkipsWithAWarningNamingIt() {
        var missing = dir.resolve("kubeflow-pipelines");
        var err = new ByteArrayOutputStream();
        var saved = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            if (Conformance.isCi()) {
                assertThatThrownBy(() -> Conformance.require(missing)).isInstanceOf(AssertionError.class)
                        .hasMessageContaining("CI=true").hasMessageContaining(missing.toString());
            } else {
                assertThatThrownBy(() -> Conformance.require(missing)).isInstanceOf(TestAbortedException.class)
                        .hasMessageContaining(missing.toString());
                assertThat(err.toString(StandardCharsets.UTF_8)).startsWith("WARNING: conformance tests skipped:").contains(missing.toString());
            }
        } finally {
            System.setErr(saved);
        }
    }
}
