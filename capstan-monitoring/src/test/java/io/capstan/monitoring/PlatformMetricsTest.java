package io.capstan.monitoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import io.capstan.artifacts.CorruptArtifactException;
import io.capstan.artifacts.LocalArtifactStore;
import io.capstan.store.JdbiResourceStore;
import io.capstan.store.testing.TestDatabases;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads of a real local artifact store whose blobs were changed on disk count as artifact integrity failures. */
class PlatformMetricsTest {
    @TempDir
    Path root;

    @Test
    void corruptReadsAreCountedAndGoodReadsAreNot() throws Exception {
        var meters = new SimpleMeterRegistry();
        var store = new LocalArtifactStore(root, Clock.systemUTC());
        var db = TestDatabases.h2();
        db.migrate("store");
        var counting = new PlatformMetrics(new JdbiResourceStore(db, Clock.systemUTC()), meters, uid -> false).countingIntegrityFailures(store);
        counting.put("good.bin", new ByteArrayInputStream("fine".getBytes(StandardCharsets.UTF_8)));
        try (var in = counting.get("good.bin")) {
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("fine");
        }
        assertThat(meters.get("capstan.artifact.integrity.failures").counter().count()).isZero();

        var info = counting.put("bad.bin", new ByteArrayInputStream("weights".getBytes(StandardCharsets.UTF_8)));
        var blob = Path.of(URI.create(info.uri()));
        Files.setPosixFilePermissions(blob, PosixFilePermissions.fromString("rw-r--r--"));
        var bytes = Files.readAllBytes(blob);
        bytes[0] ^= 1;
        Files.write(blob, bytes);
        assertThatExceptionOfType(CorruptArtifactException.class).isThrownBy(() -> counting.get("bad.bin"));
        assertThat(meters.get("capstan.artifact.integrity.failures").counter().count()).isEqualTo(1);

        // bytes changed while being read fail at the end of the stream, and count too
        var big = counting.put("big.bin", new ByteArrayInputStream("x".repeat(100_000).getBytes(StandardCharsets.UTF_8)));
        try (var in = counting.get("big.bin")) {
            var path = Path.of(URI.create(big.uri()));
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-r--r--"));
            try (var channel = java.nio.channels.FileChannel.open(path, java.nio.file.StandardOpenOption.WRITE)) {
                channel.write(java.nio.ByteBuffer.wrap(new byte[] {'y'}), 99_999);
            }
            assertThatExceptionOfType(CorruptArtifactException.class).isThrownBy(in::readAllBytes);
        }
        assertThat(meters.get("capstan.artifact.integrity.failures").counter().count()).isEqualTo(2);
        // the SLI's events: one read verified whole, two refused (each counted once, however often the stream is read after)
        assertThat(meters.get(PlatformMetrics.INTEGRITY_CHECKS).tags("check", "read", "outcome", "ok").counter().count()).isEqualTo(1);
        assertThat(meters.get(PlatformMetrics.INTEGRITY_CHECKS).tags("check", "read", "outcome", "failed").counter().count()).isEqualTo(2);
        // no runs, jobs or windows yet: the ratios are undefined, not 0 or 1
        assertThat(meters.get("capstan.pipeline.run.success.ratio").gauge().value()).isNaN();
        assertThat(meters.get("capstan.metadata.coverage.ratio").gauge().value()).isNaN();
        db.close();
    }
}
