package io.capstan.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * After the build (capstan-cli is packaged before this module), what the Containerfile copies exists in its build
 * context, and the copied jar runs as its ENTRYPOINT runs it. The image itself is not built: no registry here serves
 * its base image.
 */
class ContainerfileIT {
    @Test
    void everythingItCopiesExistsAfterTheBuild() throws IOException {
        var cf = Containerfile.parse(ContainerfileTest.FILE);
        for (var copy : cf.all("COPY")) {
            assertThat(copy.flags()).as("line %d: COPY --from would copy from another image", copy.line()).doesNotContainKey("from");
            for (var source : Containerfile.copySources(copy)) {
                var path = HelmChart.REPO.resolve(source).normalize();
                assertThat(path).as("line %d copies %s", copy.line(), source).startsWith(HelmChart.REPO).isRegularFile();
            }
        }
    }

    @Test
    void theCopiedJarRunsAsTheEntrypointRunsIt() throws Exception {
        var cf = Containerfile.parse(ContainerfileTest.FILE);
        var jar = HelmChart.REPO.resolve(Containerfile.copySources(cf.all("COPY").getFirst()).getFirst());
        try (var j = new JarFile(jar.toFile())) {
            var main = j.getManifest().getMainAttributes().getValue("Main-Class");
            assertThat(main).isNotBlank();
            assertThat(j.getEntry(main.replace('.', '/') + ".class")).as("main class %s in the jar", main).isNotNull();
        }
        // ENTRYPOINT with the image's java replaced by this JDK's; --version instead of CMD's server.
        var entrypoint = cf.last("ENTRYPOINT").exec().orElseThrow();
        var command = new java.util.ArrayList<>(entrypoint);
        command.set(0, Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.set(command.size() - 1, jar.toString());
        command.add("--version");
        var p = new ProcessBuilder(command).redirectErrorStream(true).start();
        var out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).containsIgnoringCase("capstan");
    }
}
