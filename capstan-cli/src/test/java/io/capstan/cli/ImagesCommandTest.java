package io.capstan.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.backend.testing.TestImages;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ImagesCommandTest {
    @Test
    void listsTheImagesOfThisMachinesPodman() throws Exception {
        TestImages.require();
        var image = TestImages.image("cli-images", Map.of("/opt/x.txt", "x"));
        var cli = new Cli();
        System.getenv().forEach(cli::env);

        var run = cli.run("images");

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out().lines().findFirst().orElseThrow()).startsWith("IMAGE").contains("ID").contains("SIZE");
        assertThat(run.out()).contains(image);
    }

    @Test
    void withoutAnEngineSaysWhatHappensToWorkloadsAndHowToGetOne() {
        var run = new Cli().env("PATH", "/nonexistent").run("images");

        assertThat(run.exitCode()).isEqualTo(ExitCodes.FAILURE);
        assertThat(run.err()).contains("neither podman nor docker is on PATH, so workloads with an image run on the host").contains("install Podman");
    }
}
