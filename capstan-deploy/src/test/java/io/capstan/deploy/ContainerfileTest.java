package io.capstan.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.core.CapstanConfig;
import io.capstan.security.SecuritySettings;
import io.capstan.server.CapstanServer;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The repository's Containerfile, which no test here can build (no registry serves its base image): its syntax,
 * and that it agrees with the chart and with Capstan (user, ports, home, entry point). ContainerfileIT checks, after
 * the build, that what it copies exists.
 */
class ContainerfileTest {
    static final Path FILE = HelmChart.REPO.resolve("Containerfile");

    @TempDir
    Path tmp;

    @Test
    void parsesAndStatesItsBase() throws IOException {
        var cf = Containerfile.parse(FILE);
        var from = cf.all("FROM");
        assertThat(from).as("one stage").hasSize(1);
        var image = from.getFirst().words().getFirst();
        // A fully qualified JRE image with a tag: no "latest", no short name that depends on the registries configured.
        assertThat(image).matches("docker\\.io/library/eclipse-temurin:\\d+-jre");
        assertThat(Integer.parseInt(image.replaceAll(".*:(\\d+)-jre", "$1"))).isGreaterThanOrEqualTo(21);
        assertThat(cf.all("ADD")).as("COPY only: ADD would fetch URLs and unpack archives").isEmpty();
    }

    @Test
    void refusesWhatABuilderRefuses() throws IOException {
        for (var bad : List.of("RUN echo hi\n", "FROM x:1\nCOPIE a b\n", "FROM x:1\nCMD [\"server\"\n", "FROM x:1\nRUN echo \\\n")) {
            var f = tmp.resolve("Containerfile-" + bad.hashCode());
            Files.writeString(f, bad);
            assertThatThrownBy(() -> Containerfile.parse(f)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void agreesWithTheChartAndWithCapstan() throws IOException {
        var cf = Containerfile.parse(FILE);
        var deployment = HelmChart.render(Map.of()).one(Deployment.class);
        var container = ChartTest.container(deployment);
        var pod = deployment.getSpec().getTemplate().getSpec();

        // Not root, and the same user the chart runs it as.
        var user = cf.last("USER").words().getFirst().split(":");
        assertThat(Long.parseLong(user[0])).isPositive().isEqualTo(pod.getSecurityContext().getRunAsUser());
        assertThat(Long.parseLong(user[1])).isEqualTo(pod.getSecurityContext().getRunAsGroup());

        // The ports it exposes are those Capstan listens on and the chart declares.
        var exposed = new ArrayList<Integer>();
        cf.all("EXPOSE").forEach(i -> i.words().forEach(w -> exposed.add(Integer.parseInt(w.replace("/tcp", "")))));
        var env = cf.env();
        assertThat(exposed).containsExactlyInAnyOrder(Integer.parseInt(env.get("CAPSTAN_PORT")), Integer.parseInt(env.get("CAPSTAN_GRPC_PORT")));
        assertThat(container.getPorts().stream().map(ContainerPort::getContainerPort).toList()).containsExactlyInAnyOrderElementsOf(exposed);
        var defaults = CapstanConfig.fromEnvironment(Map.of());
        assertThat(exposed).containsExactlyInAnyOrder(defaults.port(), defaults.grpcPort());

        // Its environment names settings Capstan reads; home is where the chart mounts it; it listens beyond loopback.
        assertThat(env.keySet().stream().filter(k -> k.startsWith("CAPSTAN_")).toList()).isSubsetOf(CapstanNames.environmentVariables());
        assertThat(env.get("CAPSTAN_HOME")).isEqualTo(ChartTest.env(container).get("CAPSTAN_HOME"));
        assertThat(env.get("CAPSTAN_HOST")).isEqualTo("0.0.0.0");
        assertThat(cf.last("WORKDIR").words().getFirst()).isEqualTo(env.get("CAPSTAN_HOME"));

        // It runs the jar it copies, and the chart's args are a command of that jar's CLI.
        var copies = cf.all("COPY");
        assertThat(copies).hasSize(1);
        assertThat(Containerfile.copySources(copies.getFirst())).containsExactly("capstan-cli/target/capstan.jar");
        var entrypoint = cf.last("ENTRYPOINT").exec().orElseThrow(() -> new AssertionError("ENTRYPOINT must be in exec form, so that signals reach java"));
        assertThat(entrypoint).containsExactly("java", "-jar", Containerfile.copyDestination(copies.getFirst()));
        assertThat(cf.last("CMD").exec().orElseThrow()).containsExactly("server");
        assertThat(container.getCommand()).as("the chart keeps the image's entry point").isNullOrEmpty();
        assertThat(container.getArgs().getFirst()).isEqualTo("server");

        // The build context that .containerignore leaves holds what COPY needs.
        var ignore = Files.readAllLines(HelmChart.REPO.resolve(".containerignore")).stream()
                .map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        assertThat(ignore).containsExactly("*", "!capstan-cli/target/capstan.jar");
    }

    @Test
    void itsHealthcheckPassesOnARunningServerAndFailsWithoutOne() throws Exception {
        var healthcheck = Containerfile.parse(FILE).last("HEALTHCHECK");
        assertThat(healthcheck.flags()).containsKeys("interval", "timeout", "start-period", "retries");
        assertThat(healthcheck.text()).startsWith("CMD ");
        var command = healthcheck.exec().orElseThrow(() -> new AssertionError("HEALTHCHECK CMD must be in exec form"));
        assertThat(command.getFirst()).as("the base image's bash (Ubuntu)").isEqualTo("bash");

        var home = tmp.resolve("home");
        var server = CapstanServer.start(CapstanConfig.fromEnvironment(Map.of("CAPSTAN_HOME", home.toString(), "CAPSTAN_PORT", "0",
                "CAPSTAN_GRPC_PORT", "0", "CAPSTAN_HOST", "0.0.0.0")), SecuritySettings.defaults());
        int port;
        try {
            port = server.port();
            assertThat(run(command, port)).as("exit status against the running server").isZero();
        } finally {
            server.close();
        }
        assertThat(run(command, port)).as("exit status once the server stopped").isNotZero();
    }

    private static int run(List<String> command, int port) throws IOException, InterruptedException {
        var pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("CAPSTAN_PORT", Integer.toString(port));
        var p = pb.start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the healthcheck did not end within 30 s");
        }
        return p.exitValue();
    }
}
