package io.capstan.backend;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.backend.ContainerOptions.Execution;
import io.capstan.backend.ContainerOptions.Mount;
import io.capstan.backend.ContainerOptions.PullPolicy;
import io.capstan.backend.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Workloads that name an image, run by a real Podman (see {@link TestImages}). */
class ContainerBackendTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static String image;

    @TempDir
    Path tmp;

    private final List<LocalBackend> backends = new ArrayList<>();

    @BeforeAll
    static void buildImage() throws Exception {
        TestImages.require();
        image = TestImages.image("backend", Map.of(
                "/opt/capstan/hello.sh", "#!/bin/sh\necho \"inside image: $* FOO=$FOO HOME_SET=${CAPSTAN_TEST_HOST_ONLY:-no} id=$CAPSTAN_WORKLOAD_ID\"\n"
                        + "echo oops >&2\npwd > where.txt\nls /data > /dev/null && echo mounted\nexit ${EXIT:-0}\n",
                "/opt/capstan/wait.sh", "#!/bin/sh\necho started\nwhile [ ! -e \"$1\" ]; do sleep 0.2; done\necho done\n"));
    }

    private LocalBackend backend() {
        var b = new LocalBackend(LocalBackend.Options.of(tmp.resolve("workloads"))
                .withCapacity(4, 8L << 30).withGpuDetector(GpuDetector.none()).withKillGrace(Duration.ofSeconds(2)));
        backends.add(b);
        return b;
    }

    @AfterEach
    void killEverything() {
        backends.forEach(b -> b.shutdownAndKillAll(Duration.ofSeconds(20)));
    }

    private WorkloadSpec inContainer(String id, Path workDir, String... argv) {
        return new WorkloadSpec(id, List.of(argv), Map.of("FOO", "bar baz"), Optional.of(workDir), ResourceRequest.NONE,
                Optional.empty(), 0, Optional.of(image))
                .withContainer(new ContainerOptions(Execution.CONTAINER, Optional.of(PullPolicy.NEVER), List.of()));
    }

    private static WorkloadState awaitTerminal(Backend b, String id) {
        Eventually.await("workload " + id + " to finish", WAIT, () -> String.valueOf(b.find(id)),
                () -> b.find(id).map(s -> s.phase().isTerminal()).orElse(false));
        return b.find(id).orElseThrow();
    }

    private static List<String> texts(Backend b, String id) {
        return b.tail(id, 100).stream().map(LogLine::text).toList();
    }

    @Test
    void runsACommandThatExistsOnlyInTheImageWithItsEnvWorkingDirAndMounts() throws Exception {
        var b = backend();
        var work = Files.createDirectories(tmp.resolve("work"));
        var data = Files.createDirectories(tmp.resolve("data"));
        Files.writeString(data.resolve("x"), "x");
        assertThat(Path.of("/opt/capstan/hello.sh")).doesNotExist();
        var spec = inContainer("c-hello", work, "/opt/capstan/hello.sh", "a", "b");
        spec = spec.withContainer(spec.container().withMounts(List.of(new Mount(data, "/data", true))));
        b.launch(spec);
        Eventually.await("running", WAIT, () -> b.find("c-hello").orElseThrow().phase() != WorkloadPhase.QUEUED);
        var state = awaitTerminal(b, "c-hello");

        assertThat(state.phase()).as(state.message()).isEqualTo(WorkloadPhase.SUCCEEDED);
        assertThat(texts(b, "c-hello")).contains("inside image: a b FOO=bar baz HOME_SET=no id=c-hello", "oops", "mounted");
        // The working directory is the host folder, at its own path.
        assertThat(Files.readString(work.resolve("where.txt")).strip()).isEqualTo(work.toAbsolutePath().toString());
        assertThat(TestImages.containersOf("c-hello")).as("--rm removed it").isEmpty();
    }

    @Test
    void statusNamesTheContainerAndAFailingExitCodeFails() throws Exception {
        var b = backend();
        var spec = new WorkloadSpec("c-exit", List.of("/opt/capstan/hello.sh"), Map.of("EXIT", "3"), Optional.of(Files.createDirectories(tmp.resolve("w"))),
                ResourceRequest.NONE, Optional.empty(), 0, Optional.of(image))
                .withContainer(new ContainerOptions(Execution.CONTAINER, Optional.of(PullPolicy.NEVER), List.of()));
        var started = b.launch(spec);
        assertThat(started.message()).contains("in podman container capstan-c-exit (image " + image + ")");
        var state = awaitTerminal(b, "c-exit");
        assertThat(state.phase()).isEqualTo(WorkloadPhase.FAILED);
        assertThat(state.exitCode()).contains(3);
    }

    @Test
    void cancelStopsTheContainer() throws Exception {
        var b = backend();
        var work = Files.createDirectories(tmp.resolve("w"));
        b.launch(inContainer("c-cancel", work, "/opt/capstan/wait.sh", work.resolve("never").toString()));
        Eventually.await("the container runs", WAIT, () -> texts(b, "c-cancel").contains("started"));
        assertThat(TestImages.runningContainersOf("c-cancel")).containsExactly("capstan-c-cancel");

        var state = b.cancel("c-cancel");

        assertThat(state.phase()).isEqualTo(WorkloadPhase.CANCELLED);
        Eventually.await("the container is gone", WAIT, () -> {
            try {
                return TestImages.containersOf("c-cancel").isEmpty();
            } catch (java.io.IOException e) {
                return false;
            }
        });
    }

    @Test
    void timeoutKillsTheContainer() throws Exception {
        var b = backend();
        var work = Files.createDirectories(tmp.resolve("w"));
        var spec = inContainer("c-timeout", work, "/opt/capstan/wait.sh", work.resolve("never").toString());
        spec = new WorkloadSpec(spec.id(), spec.command(), spec.env(), spec.workingDir(), spec.requests(), Optional.of(Duration.ofSeconds(3)),
                0, spec.image(), spec.container());
        b.launch(spec);
        var state = awaitTerminal(b, "c-timeout");
        assertThat(state.phase()).isEqualTo(WorkloadPhase.FAILED);
        assertThat(state.message()).contains("timeout");
        assertThat(TestImages.runningContainersOf("c-timeout")).isEmpty();
    }

    @Test
    void aRestartedBackendReAdoptsTheRunningContainer() throws Exception {
        var work = Files.createDirectories(tmp.resolve("w"));
        var go = work.resolve("go");
        var first = backend();
        first.launch(inContainer("c-adopt", work, "/opt/capstan/wait.sh", go.toString()));
        Eventually.await("the container runs", WAIT, () -> texts(first, "c-adopt").contains("started"));
        // As after a kill -9 of the server: the backend stops watching and leaves its workloads running.
        first.close();
        backends.remove(first);
        assertThat(TestImages.runningContainersOf("c-adopt")).containsExactly("capstan-c-adopt");

        var second = backend();
        assertThat(second.find("c-adopt").orElseThrow().phase()).isEqualTo(WorkloadPhase.RUNNING);
        Files.writeString(go, "");
        var state = awaitTerminal(second, "c-adopt");

        assertThat(state.phase()).as(state.message()).isEqualTo(WorkloadPhase.SUCCEEDED);
        assertThat(texts(second, "c-adopt")).contains("started", "done");
    }

    @Test
    void aContainerLeftWithoutItsClientIsFoundByLabelAndRemovedOnRestart() throws Exception {
        var work = Files.createDirectories(tmp.resolve("w"));
        var first = backend();
        var running = first.launch(inContainer("c-orphan", work, "/opt/capstan/wait.sh", work.resolve("never").toString()));
        Eventually.await("the container runs", WAIT, () -> texts(first, "c-orphan").contains("started"));
        first.close();
        backends.remove(first);
        // The engine's client dies too (say, the machine's session was killed); the container keeps running.
        long pid = Long.parseLong(running.message().replaceAll("^running as pid (\\d+).*", "$1"));
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        Eventually.await("the client is gone", WAIT, () -> !ProcessTree.isRunning(pid));
        assertThat(TestImages.runningContainersOf("c-orphan")).containsExactly("capstan-c-orphan");

        var second = backend();
        var state = awaitTerminal(second, "c-orphan");

        assertThat(state.phase()).isIn(WorkloadPhase.LOST, WorkloadPhase.FAILED);
        assertThat(TestImages.containersOf("c-orphan")).isEmpty();
    }

    @Test
    void autoRunsOnTheHostWithANoteWhenTheImageIsMissingAndMayNotBePulled() throws Exception {
        var b = backend();
        var spec = new WorkloadSpec("c-auto", List.of("sh", "-c", "echo on-host"), Map.of(), Optional.of(Files.createDirectories(tmp.resolve("w"))),
                ResourceRequest.NONE, Optional.empty(), 0, Optional.of("localhost/capstan-test-absent:1"))
                .withContainer(new ContainerOptions(Execution.AUTO, Optional.of(PullPolicy.NEVER), List.of()));
        var started = b.launch(spec);
        assertThat(started.message()).contains("on the host: image localhost/capstan-test-absent:1 is not in podman's store and imagePullPolicy is Never");
        assertThat(awaitTerminal(b, "c-auto").phase()).isEqualTo(WorkloadPhase.SUCCEEDED);
        assertThat(texts(b, "c-auto")).contains("on-host");
    }

    @Test
    void aFailureOnTheHostSaysTheImageCouldNotBeHad() throws Exception {
        var b = backend();
        var spec = new WorkloadSpec("c-auto-fail", List.of("sh", "-c", "exit 2"), Map.of(), Optional.of(Files.createDirectories(tmp.resolve("w"))),
                ResourceRequest.NONE, Optional.empty(), 0, Optional.of("localhost/capstan-test-absent:1"))
                .withContainer(new ContainerOptions(Execution.AUTO, Optional.of(PullPolicy.NEVER), List.of()));
        b.launch(spec);
        var state = awaitTerminal(b, "c-auto-fail");
        assertThat(state.phase()).isEqualTo(WorkloadPhase.FAILED);
        assertThat(state.message()).isEqualTo("exited with code 2 (it ran on the host: image localhost/capstan-test-absent:1 is not in podman's store"
                + " and imagePullPolicy is Never)");
    }

    @Test
    void autoTriesAPullAndRunsOnTheHostNamingThePullsFailureInTheStatusNotTheLog() throws Exception {
        var b = backend();
        var spec = new WorkloadSpec("c-pull", List.of("sh", "-c", "echo on-host"), Map.of(), Optional.of(Files.createDirectories(tmp.resolve("w"))),
                ResourceRequest.NONE, Optional.empty(), 0, Optional.of("capstan-test.invalid/nothing:1"));
        b.launch(spec);
        // The launch's own answer may already be the finished state (echo is quick), so the final message is read.
        var done = awaitTerminal(b, "c-pull");
        assertThat(done.phase()).isEqualTo(WorkloadPhase.SUCCEEDED);
        assertThat(done.message()).contains("(it ran on the host: image capstan-test.invalid/nothing:1 is not in podman's store and could not be pulled: ");
        assertThat(texts(b, "c-pull")).containsExactly("on-host");
        assertThat(Files.readString(tmp.resolve("workloads/c-pull/pull.log"))).contains("Trying to pull capstan-test.invalid/nothing:1");
    }

    @Test
    void aContainerWorkingDirIsAFolderOfTheImage() throws Exception {
        var b = backend();
        var spec = inContainer("c-wd", tmp.resolve("no-such-host-folder"), "/bin/sh", "-c", "pwd; ls");
        spec = spec.withContainer(spec.container().withWorkingDir(Optional.of("/opt/capstan")));
        b.launch(spec);
        var state = awaitTerminal(b, "c-wd");
        assertThat(state.phase()).as(state.message()).isEqualTo(WorkloadPhase.SUCCEEDED);
        assertThat(texts(b, "c-wd")).containsSubsequence("/opt/capstan", "hello.sh", "wait.sh");
    }

    @Test
    void autoRunsTheLocalCopyOfAnImageWhosePolicyIsAlwaysWhenTheRegistryIsUnreachable() throws Exception {
        // Untagged means :latest, so Kubernetes' default policy is Always; no registry answers at localhost.
        var untagged = "localhost/capstan-test-always-" + ProcessHandle.current().pid();
        assertThat(TestImages.run(List.of("tag", image, untagged)).code()).isZero();
        try {
            var b = backend();
            var spec = new WorkloadSpec("c-always", List.of("/opt/capstan/hello.sh"), Map.of(), Optional.of(Files.createDirectories(tmp.resolve("w"))),
                    ResourceRequest.NONE, Optional.empty(), 0, Optional.of(untagged));
            assertThat(b.launch(spec).message()).contains("in podman container capstan-c-always");
            var state = awaitTerminal(b, "c-always");
            assertThat(state.phase()).as(String.join("\n", texts(b, "c-always"))).isEqualTo(WorkloadPhase.SUCCEEDED);
            assertThat(texts(b, "c-always").getFirst()).startsWith("inside image");
        } finally {
            TestImages.run(List.of("untag", untagged, untagged + ":latest"));
        }
    }

    @Test
    void containerModeWithAMissingImageFailsSayingSo() throws Exception {
        var b = backend();
        b.launch(inContainer("c-missing", Files.createDirectories(tmp.resolve("w")), "/bin/true").withImage(Optional.of("localhost/capstan-test-absent:1")));
        var state = awaitTerminal(b, "c-missing");
        assertThat(state.phase()).isEqualTo(WorkloadPhase.FAILED);
        assertThat(String.join("\n", texts(b, "c-missing"))).contains("capstan-test-absent");
    }
}
