package io.capstan.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.core.CapstanConfig;
import io.capstan.core.ResourceKey;
import io.capstan.server.CapstanServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code capstan notebooks ...} against a real server that runs Debian's Jupyter Notebook. */
class NotebooksCommandTest {
    @TempDir
    static Path home;
    static CapstanServer server;

    @BeforeAll
    static void start() {
        server = CapstanServer.start(CapstanConfig.fromEnvironment(Map.of("CAPSTAN_HOME", home.toString(), "CAPSTAN_PORT", "0")));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static Cli admin() {
        return Cli.against(server.url()).env("CAPSTAN_HOME", server.config().home().toString());
    }

    @Test
    void createListStopStartOpenDelete() throws Exception {
        var created = admin().run("notebooks", "create", "scratch", "--cpu", "250m", "--memory", "512Mi");
        assertThat(created.exitCode()).as(created.err()).isZero();
        assertThat(created.out()).contains("notebook scratch created");
        var nb = server.store().get(new ResourceKey("Notebook", "default", "scratch"));
        assertThat(nb.spec().path("template").path("spec").path("containers").get(0).path("resources").path("requests").path("cpu").asText()).isEqualTo("250m");
        assertThat(nb.spec().path("template").path("spec").path("volumes").get(0).path("persistentVolumeClaim").path("claimName").asText())
                .isEqualTo("scratch-workspace");
        awaitPhase("Running");
        assertThat(admin().run("notebooks", "list").out()).contains("NAME", "STATE", "scratch", "jupyter", "Running", "1/1");

        var open = admin().run("notebooks", "open", "scratch");
        assertThat(open.out().strip()).isEqualTo(server.url() + "/notebook/default/scratch/");

        assertThat(admin().run("notebooks", "stop", "scratch").exitCode()).isZero();
        awaitPhase("Stopped");
        assertThat(server.store().get(new ResourceKey("Notebook", "default", "scratch")).metadata().annotations()).containsKey("kubeflow-resource-stopped");
        assertThat(admin().run("notebooks", "open", "scratch").err()).contains("is Stopped").contains("notebooks start scratch");
        assertThat(admin().run("notebooks", "start", "scratch").exitCode()).isZero();
        awaitPhase("Running");

        int port = server.store().get(new ResourceKey("Notebook", "default", "scratch")).status().field("port").orElseThrow().asInt();
        assertThat(admin().run("notebooks", "delete", "scratch").exitCode()).isZero();
        awaitClosed(port);
        assertThat(server.store().find(new ResourceKey("Notebook", "default", "scratch"))).isEmpty();
        assertThat(admin().run("notebooks", "open", "scratch").exitCode()).isEqualTo(ExitCodes.NOT_FOUND);
    }

    @Test
    void badOptionsAreUsageErrors() {
        assertThat(admin().run("notebooks", "create", "x", "--type", "emacs").exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(admin().run("notebooks", "create", "Bad_Name").exitCode()).isEqualTo(ExitCodes.USAGE);
        var cpu = admin().run("notebooks", "create", "x", "--cpu", "lots");
        assertThat(cpu.exitCode()).isEqualTo(ExitCodes.INVALID_INPUT);
        assertThat(cpu.err()).contains("--cpu");
    }

    private static void awaitClosed(int port) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            try (var s = new java.net.Socket()) {
                s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 200);
            } catch (java.io.IOException e) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("the notebook server on port " + port + " outlived its Notebook");
    }

    private static void awaitPhase(String phase) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            var nb = server.store().find(new ResourceKey("Notebook", "default", "scratch"));
            if (nb.isPresent() && nb.get().status().phase().equals(phase)) return;
            Thread.sleep(100);
        }
        throw new AssertionError("not " + phase + ": " + server.store().find(new ResourceKey("Notebook", "default", "scratch")));
    }
}
