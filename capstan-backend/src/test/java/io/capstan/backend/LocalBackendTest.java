package io.capstan.backend;

import static io.capstan.backend.WorkloadBuilder.aWorkload;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

import io.capstan.core.ConflictException;
import io.capstan.core.NotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;

class LocalBackendTest {
    /** Tests about the launch supervisor itself; the run with the supervisor turned off leaves them out. */
    static final String LAUNCH_SUPERVISOR = "launch-supervisor";

    private static final Duration WAIT = Duration.ofSeconds(15);

    @TempDir
    Path tmp;

    private final List<LocalBackend> backends = new ArrayList<>();

    private Path stateDir() {
        return tmp.resolve("workloads");
    }

    private LocalBackend backend() {
        return backend(o -> o);
    }

    private LocalBackend backend(UnaryOperator<LocalBackend.Options> customize) {
        var options = customize.apply(LocalBackend.Options.of(stateDir())
                .withCapacity(4, 8L << 30).withGpuDetector(GpuDetector.none()).withKillGrace(Duration.ofSeconds(2)));
        var b = new LocalBackend(options);
        backends.add(b);
        return b;
    }

    @AfterEach
    void killEverything() {
        backends.forEach(b -> b.shutdownAndKillAll(Duration.ofSeconds(10)));
    }

    private static WorkloadState awaitTerminal(Backend b, String id) {
        Eventually.await("workload " + id + " to finish", WAIT, () -> String.valueOf(b.find(id)),
                () -> b.find(id).map(s -> s.phase().isTerminal()).orElse(false));
        return b.find(id).orElseThrow();
    }

    private static List<String> texts(List<LogLine> lines) {
        return lines.stream().map(LogLine::text).toList();
    }

    /** Follows the log until it has at least {@code n} lines. */
    private static List<LogLine> awaitLines(Backend b, String id, int n) {
        var lines = new ArrayList<LogLine>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (lines.size() < n && System.nanoTime() < deadline) {
            lines.addAll(b.follow(id, lines.size(), Duration.ofSeconds(1)));
        }
        assertThat(lines).as("log of %s", id).hasSizeGreaterThanOrEqualTo(n);
        return lines;
    }

    private static void awaitProcessGone(long pid) {
        Eventually.await("process " + pid + " to die", WAIT, () -> !ProcessTree.isRunning(pid));
    }

    @Test
    void succeedsAndCapturesBothStreams() {
        var b = backend();
        var started = b.launch(aWorkload("ok").shell("echo hello; echo oops >&2").build());
        assertThat(started.phase()).isIn(WorkloadPhase.RUNNING, WorkloadPhase.SUCCEEDED);

        var done = awaitTerminal(b, "ok");

        assertThat(done.phase()).isEqualTo(WorkloadPhase.SUCCEEDED);
        assertThat(done.exitCode()).contains(0);
        assertThat(done.startedAt()).isPresent();
        assertThat(done.finishedAt()).isPresent();
        var lines = b.tail("ok", 10);
        assertThat(lines).extracting(LogLine::stream, LogLine::text).containsExactlyInAnyOrder(
                org.assertj.core.groups.Tuple.tuple(LogLine.Stream.STDOUT, "hello"),
                org.assertj.core.groups.Tuple.tuple(LogLine.Stream.STDERR, "oops"));
        assertThat(lines).extracting(LogLine::number).containsExactly(0L, 1L);
    }

    @Test
    void tellsTheOnFinishListenerOfEveryEnd() {
        var ended = new java.util.concurrent.ConcurrentLinkedQueue<WorkloadState>();
        var b = backend(o -> o.withOnFinish(ended::add));
        b.launch(aWorkload("fine").shell("true").build());
        b.launch(aWorkload("bad").shell("exit 4").build());

        Eventually.await("both workloads to be reported", WAIT, () -> ended.size() == 2);

        assertThat(ended).extracting(WorkloadState::id, WorkloadState::phase).containsExactlyInAnyOrder(
                org.assertj.core.groups.Tuple.tuple("fine", WorkloadPhase.SUCCEEDED),
                org.assertj.core.groups.Tuple.tuple("bad", WorkloadPhase.FAILED));
    }

    @Test
    void reportsNonZeroExitCode() {
        var b = backend();
        b.launch(aWorkload("three").shell("exit 3").build());

        var done = awaitTerminal(b, "three");

        assertThat(done.phase()).isEqualTo(WorkloadPhase.FAILED);
        assertThat(done.exitCode()).contains(3);
        assertThat(done.message()).isEqualTo("exited with code 3");
    }

    @Test
    void reportsDeathBySignal() {
        var b = backend();
        b.launch(aWorkload("sig").shell("kill -9 $$").build());

        var done = awaitTerminal(b, "sig");

        assertThat(done.phase()).isEqualTo(WorkloadPhase.FAILED);
        assertThat(done.message()).isEqualTo("killed by signal 9");
    }

    @Test
    void failsAtOnceWhenTheProgramDoesNotExist() {
        var b = backend();
        var state = b.launch(aWorkload("nope").command("capstan-no-such-program", "--flag").build());

        assertThat(state.phase()).isEqualTo(WorkloadPhase.FAILED);
        assertThat(state.message()).contains("'capstan-no-such-program'").contains("not found on PATH");
    }

    @Test
    void passesEnvironmentAndWorkingDirectory() throws IOException {
        var wd = Files.createDirectories(tmp.resolve("wd with space"));
        var b = backend();
        b.launch(aWorkload("env").shell("echo \"$GREETING\"; pwd; echo \"${CUDA_VISIBLE_DEVICES-unset}\"; echo \"$CAPSTAN_WORKLOAD_ID\"")
                .env("GREETING", "hello; $(rm -rf /) 'quoted'").workingDir(wd).build());

        assertThat(awaitTerminal(b, "env").phase()).isEqualTo(WorkloadPhase.SUCCEEDED);
        assertThat(texts(b.tail("env", 10)))
                .containsExactly("hello; $(rm -rf /) 'quoted'", wd.toRealPath().toString(), "unset", "env");
    }

    private static byte[] readAll(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void aWorkloadInheritsOnlyTheAllowedPartOfTheServersEnvironment() {
        var host = new java.util.HashMap<>(System.getenv());
        host.put("CAPSTAN_DB_PASSWORD", "db-pass-7f3a");
        host.put("CAPSTAN_S3_SECRET_KEY", "s3-secret-9c1e");
        host.put("AWS_SECRET_ACCESS_KEY", "aws-secret-2b8d");
        host.put("HTTPS_PROXY", "http://proxy.example:3128");
        host.put("no_proxy", "localhost");
        host.put("LC_ALL", "C.UTF-8");
        host.put("TZ", "Europe/Paris");
        for (boolean supervisor : List.of(true, false)) {
            var b = backend(o -> o.withHostEnvironment(host));
            var id = "env-allow-" + supervisor;
            if (!supervisor) b.launcher().close();
            b.launch(aWorkload(id).command("env").env("OWN", "mine").build());

            assertThat(awaitTerminal(b, id).phase()).isEqualTo(WorkloadPhase.SUCCEEDED);
            var seen = texts(b.tail(id, 1000));
            assertThat(seen).contains("OWN=mine", "HTTPS_PROXY=http://proxy.example:3128", "no_proxy=localhost", "LC_ALL=C.UTF-8",
                    "TZ=Europe/Paris", "PATH=" + host.get("PATH"), "CAPSTAN_WORKLOAD_ID=" + id);
            assertThat(String.join("\n", seen)).doesNotContain("db-pass-7f3a", "s3-secret-9c1e", "aws-secret-2b8d", "CAPSTAN_DB_PASSWORD");
            var environ = Path.of("/proc/" + b.supervisorPid() + "/environ");
            if (supervisor && Files.isReadable(environ)) {
                assertThat(new String(readAll(environ), java.nio.charset.StandardCharsets.UTF_8)).as("the launch supervisor's own environment")
                        .contains("PATH=").doesNotContain("db-pass-7f3a", "s3-secret-9c1e");
            }
        }
    }

    @Test
    void passesArgumentsWithoutShellInterpretation() {
        var b = backend();
        b.launch(aWorkload("argv").command("printf", "%s\\n", "a b", "$HOME", "`id`", "'; exit 1").build());

        assertThat(awaitTerminal(b, "argv").phase()).isEqualTo(WorkloadPhase.SUCCEEDED);
        assertThat(texts(b.tail("argv", 10))).containsExactly("a b", "$HOME", "`id`", "'; exit 1");
    }

    @Test
    void timeoutKillsTheWholeTree() {
        var b = backend();
        b.launch(aWorkload("slow").shell("sleep 300 & echo $!; wait").timeout(Duration.ofSeconds(1)).build());
        long grandchild = Long.parseLong(awaitLines(b, "slow", 1).getFirst().text());

        var done = awaitTerminal(b, "slow");

        assertThat(done.phase()).isEqualTo(WorkloadPhase.FAILED);
        assertThat(done.message()).isEqualTo("killed after timeout PT1S");
        awaitProcessGone(grandchild);
    }

    @Test
    void cancelKillsGrandchildrenAndIsFinal() {
        var b = backend();
        b.launch(aWorkload("victim").shell("sleep 300 & echo $!; wait").build());
        long grandchild = Long.parseLong(awaitLines(b, "victim", 1).getFirst().text());
        assertThat(ProcessTree.isRunning(grandchild)).isTrue();

        var cancelled = b.cancel("victim");

        assertThat(cancelled.phase()).isEqualTo(WorkloadPhase.CANCELLED);
        awaitProcessGone(grandchild);
        assertThat(b.cancel("victim").phase()).as("cancelling again changes nothing").isEqualTo(WorkloadPhase.CANCELLED);
    }

    @Test
    void cancelEscalatesToSigkillWhenTermIsIgnored() {
        var b = backend(o -> o.withKillGrace(Duration.ofMillis(300)));
        b.launch(aWorkload("stubborn").shell("trap '' TERM; echo ready; while :; do sleep 0.1; done").build());
        awaitLines(b, "stubborn", 1);

        assertThat(b.cancel("stubborn").phase()).isEqualTo(WorkloadPhase.CANCELLED);
        var pid = Long.parseLong(stateField(stateDir().resolve("stubborn"), "pid"));
        awaitProcessGone(pid);
    }

    @Test
    void queuesWhenFullAndAdmitsInPriorityOrder() throws IOException {
        var b = backend(o -> o.withCapacity(1, 1L << 30));
        var order = tmp.resolve("order.txt");
        var gate = tmp.resolve("go");
        b.launch(aWorkload("first").requests(1, 0, 0).shell("while [ ! -e '" + gate + "' ]; do sleep 0.05; done").build());
        for (var w : List.of(new Object[] {"low", 0}, new Object[] {"high-a", 5}, new Object[] {"high-b", 5})) {
            var s = b.launch(aWorkload((String) w[0]).requests(1, 0, 0).priority((int) w[1])
                    .shell("echo " + w[0] + " >> '" + order + "'").build());
            assertThat(s.phase()).as((String) w[0]).isEqualTo(WorkloadPhase.QUEUED);
        }
        var free = b.launch(aWorkload("free").shell("echo free").build());
        assertThat(free.phase()).as("a workload requesting nothing always fits").isNotEqualTo(WorkloadPhase.QUEUED);

        Files.createFile(gate);

        for (var id : List.of("first", "low", "high-a", "high-b")) {
            assertThat(awaitTerminal(b, id).phase()).isEqualTo(WorkloadPhase.SUCCEEDED);
        }
        assertThat(Files.readAllLines(order)).containsExactly("high-a", "high-b", "low");
    }

    @Test
    void shutdownKillsRunningWorkloadsAndStartsNoQueuedOne() {
        var b = backend(o -> o.withCapacity(1, 1L << 30));
        b.launch(aWorkload("running").requests(1, 0, 0).shell("sleep 300").build());
        b.launch(aWorkload("waiting").requests(1, 0, 0).shell("sleep 300").build());

        b.shutdownAndKillAll(Duration.ofSeconds(10));

        assertThat(b.list()).extracting(WorkloadState::id, WorkloadState::phase).containsExactly(
                org.assertj.core.groups.Tuple.tuple("running", WorkloadPhase.CANCELLED),
                org.assertj.core.groups.Tuple.tuple("waiting", WorkloadPhase.CANCELLED));
        assertThat(b.find("waiting").orElseThrow().startedAt()).isEmpty();
        awaitProcessGone(Long.parseLong(stateField(stateDir().resolve("running"), "pid")));
    }

    @Test
    void failsAtOnceWhenTheRequestExceedsTheMachine() {
        var b = backend(o -> o.withCapacity(2, 1L << 30));

        var state = b.launch(aWorkload("huge").requests(64, 0, 0).build());

        assertThat(state.phase()).isEqualTo(WorkloadPhase.FAILED);
        assertThat(state.message()).contains("huge").contains("64.0 cpus").contains("has 2.0");
    }

    @Test
    void reportsTheMachineItAdmitsAgainst() {
        var b = backend(o -> o.withCapacity(2, 1L << 30).withGpuDetector(GpuDetector.fixed(List.of(0, 3))));

        assertThat(b.capacity()).contains(new ResourceRequest(2, 1L << 30, 2));
    }

    @Test
    void assignsDisjointGpus() throws IOException {
        var b = backend(o -> o.withGpuDetector(GpuDetector.fixed(List.of(0, 1))));
        var gate = tmp.resolve("go");
        String script = "echo \"gpus=$CUDA_VISIBLE_DEVICES\"; while [ ! -e '" + gate + "' ]; do sleep 0.05; done";
        var a = b.launch(aWorkload("gpu-a").requests(0, 0, 1).shell(script).build());
        var c = b.launch(aWorkload("gpu-b").requests(0, 0, 1).shell(script).build());
        var waiting = b.launch(aWorkload("gpu-c").requests(0, 0, 1).shell(script).build());
        var none = b.launch(aWorkload("cpu-only").shell("echo \"gpus=${CUDA_VISIBLE_DEVICES-unset}\"").build());
        var tooMany = b.launch(aWorkload("gpu-x").requests(0, 0, 3).build());

        assertThat(a.gpus()).hasSize(1);
        assertThat(c.gpus()).hasSize(1).doesNotContainAnyElementsOf(a.gpus());
        assertThat(waiting.phase()).isEqualTo(WorkloadPhase.QUEUED);
        assertThat(tooMany.phase()).isEqualTo(WorkloadPhase.FAILED);
        assertThat(tooMany.message()).contains("3 GPUs").contains("has 2");
        assertThat(texts(awaitLines(b, "gpu-a", 1))).containsExactly("gpus=" + a.gpus().getFirst());
        assertThat(texts(awaitLines(b, "gpu-b", 1))).containsExactly("gpus=" + c.gpus().getFirst());
        assertThat(texts(awaitLines(b, "cpu-only", 1))).as("no GPUs requested, none visible").containsExactly("gpus=");

        Files.createFile(gate);
        assertThat(awaitTerminal(b, "gpu-c").gpus()).hasSize(1);
    }

    @Test
    void tailsAndFollowsWhileRunning() throws IOException {
        var b = backend();
        var gate = tmp.resolve("go");
        b.launch(aWorkload("chatty").shell("echo one; echo two >&2; while [ ! -e '" + gate + "' ]; do sleep 0.05; done; echo three").build());

        var first = awaitLines(b, "chatty", 2);
        assertThat(texts(first)).containsExactlyInAnyOrder("one", "two");
        assertThat(b.find("chatty").orElseThrow().phase()).isEqualTo(WorkloadPhase.RUNNING);
        assertThat(b.tail("chatty", 1)).extracting(LogLine::number).containsExactly(1L);
        assertThat(b.follow("chatty", 2, Duration.ofMillis(100))).as("nothing new yet").isEmpty();

        Files.createFile(gate);
        var more = b.follow("chatty", 2, WAIT);

        assertThat(more).extracting(LogLine::number, LogLine::text).containsExactly(org.assertj.core.groups.Tuple.tuple(2L, "three"));
        assertThat(awaitTerminal(b, "chatty").phase()).isEqualTo(WorkloadPhase.SUCCEEDED);
        assertThat(b.follow("chatty", 3, WAIT)).as("a finished log returns at once").isEmpty();
        assertThat(texts(b.tail("chatty", 10))).as("numbering is stable").containsExactlyElementsOf(
                texts(first).stream().collect(java.util.stream.Collectors.collectingAndThen(java.util.stream.Collectors.toList(),
                        l -> { l.add("three"); return l; })));
    }

    @Test
    void boundsTheStoredLog() throws IOException {
        var b = backend(o -> o.withMaxLogBytes(1 << 20));
        b.launch(aWorkload("flood").shell("yes | head -c 20000000; echo bye >&2").build());

        assertThat(awaitTerminal(b, "flood").phase()).isEqualTo(WorkloadPhase.SUCCEEDED);

        var dir = stateDir().resolve("flood");
        assertThat(Files.size(dir.resolve("stdout.log")) + Files.size(dir.resolve("stderr.log"))).isLessThan((1 << 20) + 200);
        assertThat(texts(b.tail("flood", 2))).containsExactly("[capstan] log truncated after 524288 bytes", "bye");
    }

    @Test
    void launchIsIdempotentOnTheId() {
        var b = backend();
        var spec = aWorkload("once").shell("echo ran").build();
        var first = b.launch(spec);
        var second = b.launch(spec);

        assertThat(second.id()).isEqualTo(first.id());
        awaitTerminal(b, "once");
        assertThat(b.launch(spec).phase()).isEqualTo(WorkloadPhase.SUCCEEDED);
        assertThat(texts(b.tail("once", 10))).containsExactly("ran");
        assertThatExceptionOfType(ConflictException.class)
                .isThrownBy(() -> b.launch(aWorkload("once").shell("echo other").build()))
                .withMessageContaining("'once'").withMessageContaining("different spec");
    }

    @Test
    void removeRefusesARunningWorkloadAndDeletesAFinishedOne() {
        var b = backend();
        b.launch(aWorkload("busy").shell("sleep 300").build());

        assertThatExceptionOfType(ConflictException.class).isThrownBy(() -> b.remove("busy")).withMessageContaining("cancel it");
        b.cancel("busy");
        b.remove("busy");

        assertThat(b.find("busy")).isEmpty();
        assertThat(stateDir().resolve("busy")).doesNotExist();
        assertThatExceptionOfType(NotFoundException.class).isThrownBy(() -> b.tail("busy", 1)).withMessageContaining("'busy'");
    }

    @Test
    void aNewBackendReadoptsAWorkloadThatOutlivedTheOldOne() {
        var crashed = backend();
        crashed.launch(aWorkload("survivor").shell("sleep 1; echo done").build());
        // The first backend is abandoned, as if the server died: nothing more is called on it.

        var restarted = backend();

        assertThat(restarted.find("survivor").orElseThrow().phase()).isEqualTo(WorkloadPhase.RUNNING);
        var done = awaitTerminal(restarted, "survivor");
        assertThat(done.phase()).isEqualTo(WorkloadPhase.SUCCEEDED);
        assertThat(texts(restarted.tail("survivor", 10))).containsExactly("done");
    }

    @Test
    void closeLeavesProcessesRunningForTheNextBackend() {
        var first = backend();
        first.launch(aWorkload("kept").shell("sleep 300 & echo $!; wait").timeout(Duration.ofSeconds(3)).build());
        long grandchild = Long.parseLong(awaitLines(first, "kept", 1).getFirst().text());
        first.close();
        assertThat(ProcessTree.isRunning(grandchild)).isTrue();

        var second = backend();

        var done = awaitTerminal(second, "kept");
        assertThat(done.message()).as("the timeout counts from the original start").isEqualTo("killed after timeout PT3S");
        awaitProcessGone(grandchild);
    }

    @Test
    void marksAVanishedProcessLost() throws Exception {
        long deadPid = deadPid();
        var dir = new WorkloadDir(Files.createDirectories(stateDir().resolve("ghost")));
        var spec = aWorkload("ghost").shell("sleep 300").build();
        dir.writeSpec(spec);
        dir.writeState(runningAs("ghost", deadPid));

        var b = backend();

        var state = b.find("ghost").orElseThrow();
        assertThat(state.phase()).isEqualTo(WorkloadPhase.LOST);
        assertThat(state.message()).isEqualTo("process " + deadPid + " vanished while the server was down; no exit code was recorded");
        assertThat(b.list()).extracting(WorkloadState::id).containsExactly("ghost");
    }

    @Test
    void usesTheExitCodeRecordedWhileTheServerWasDown() throws Exception {
        long deadPid = deadPid();
        var dir = new WorkloadDir(Files.createDirectories(stateDir().resolve("finished")));
        dir.writeSpec(aWorkload("finished").shell("exit 3").build());
        dir.writeState(runningAs("finished", deadPid));
        Files.writeString(dir.exitCodeFile(), "3\n");

        var b = backend();

        assertThat(b.find("finished").orElseThrow().message()).isEqualTo("exited with code 3");
    }

    @Test
    void requeuesQueuedWorkloadsAfterARestart() throws Exception {
        var dir = new WorkloadDir(Files.createDirectories(stateDir().resolve("waiting")));
        dir.writeSpec(aWorkload("waiting").shell("echo finally").build());
        dir.writeState(new WorkloadRecord(new WorkloadState("waiting", WorkloadPhase.QUEUED, Optional.empty(), "", Optional.empty(),
                Optional.empty(), List.of()), 7, Instant.now(), Optional.empty(), Optional.empty()));

        var b = backend();

        assertThat(awaitTerminal(b, "waiting").phase()).isEqualTo(WorkloadPhase.SUCCEEDED);
        assertThat(texts(b.tail("waiting", 1))).containsExactly("finally");
    }

    @Test
    @org.junit.jupiter.api.Tag(LAUNCH_SUPERVISOR)
    void workloadsDieAtTheHoldDeadlineEvenAfterTheServerIsGoneUnlessItIsMovedOn() throws Exception {
        var first = backend();
        var pids = tmp.resolve("pids");
        first.launch(aWorkload("doomed").shell("echo $$ >> '" + pids + "'; exec sleep 60").build());
        first.launch(aWorkload("kept").shell("exec sleep 60").build());
        Assumptions.assumeTrue(first.supervisorPid() > 0, "no launch supervisor (perl missing or disabled)");
        Eventually.await("the workload to record its pid", WAIT, () -> Files.exists(pids));
        long doomed = Long.parseLong(Files.readAllLines(pids).getFirst().strip());

        // Moved on before it passes: nothing dies.
        first.holdWorkloadsUntil(Optional.of(Instant.now().plusMillis(400)));
        first.holdWorkloadsUntil(Optional.of(Instant.now().plusSeconds(60)));
        Thread.sleep(800);
        assertThat(first.find("doomed").orElseThrow().phase()).isEqualTo(WorkloadPhase.RUNNING);

        // The server goes away (its backend closes, as after kill -9 the supervisor's stdin ends) with a deadline set.
        first.holdWorkloadsUntil(Optional.of(Instant.now().plusMillis(300)));
        first.close();
        awaitProcessGone(doomed);
        var next = backend();
        assertThat(awaitTerminal(next, "doomed").message()).contains("signal 9");
        assertThat(awaitTerminal(next, "kept").message()).contains("signal 9");
    }

    @Test
    @org.junit.jupiter.api.Tag(LAUNCH_SUPERVISOR)
    void settlesRunningWorkloadsWhenTheLaunchSupervisorIsKilledAndStartsANewOne() throws Exception {
        var b = backend();
        var gate = tmp.resolve("go");
        b.launch(aWorkload("orphan").shell("while [ ! -e '" + gate + "' ]; do sleep 0.05; done").build());
        long supervisor = b.supervisorPid();
        org.junit.jupiter.api.Assumptions.assumeTrue(supervisor > 0, "no launch supervisor (perl missing or disabled)");

        ProcessHandle.of(supervisor).orElseThrow().destroyForcibly();
        awaitProcessGone(supervisor);
        assertThat(b.find("orphan").orElseThrow().phase()).as("still running without its supervisor").isEqualTo(WorkloadPhase.RUNNING);
        Files.createFile(gate);

        var done = awaitTerminal(b, "orphan");
        assertThat(done.phase()).isEqualTo(WorkloadPhase.FAILED);
        assertThat(done.message()).contains("ended without recording an exit code").contains("the launch supervisor").contains(".supervisor.log");

        b.launch(aWorkload("after").shell("echo again").build());
        assertThat(awaitTerminal(b, "after").phase()).isEqualTo(WorkloadPhase.SUCCEEDED);
        assertThat(texts(b.tail("after", 10))).containsExactly("again");
        assertThat(b.supervisorPid()).as("a new supervisor").isPositive().isNotEqualTo(supervisor);
    }

    @Test
    void aNewBackendReadoptsWorkloadsThatTheOldSupervisorStillServes() throws Exception {
        var first = backend();
        var gate = tmp.resolve("go");
        first.launch(aWorkload("served").shell("echo before; while [ ! -e '" + gate + "' ]; do sleep 0.05; done; echo after; exit 7").build());
        awaitLines(first, "served", 1);
        long oldSupervisor = first.supervisorPid();
        first.close();

        var second = backend();
        assertThat(second.find("served").orElseThrow().phase()).isEqualTo(WorkloadPhase.RUNNING);
        Files.createFile(gate);

        var done = awaitTerminal(second, "served");
        assertThat(done.phase()).isEqualTo(WorkloadPhase.FAILED);
        assertThat(done.message()).isEqualTo("exited with code 7");
        assertThat(texts(second.tail("served", 10))).containsExactly("before", "after");
        if (oldSupervisor > 0) awaitProcessGone(oldSupervisor);
    }

    @Test
    @org.junit.jupiter.api.Tag(LAUNCH_SUPERVISOR)
    void aWorkloadWhoseStateWasNeverWrittenIsReadoptedFromTheSupervisorsLaunchRecordNotRunTwice() throws Exception {
        var first = backend();
        var gate = tmp.resolve("go");
        var runs = tmp.resolve("runs");
        first.launch(aWorkload("unwritten")
                .shell("echo run >> '" + runs + "'; echo started; while [ ! -e '" + gate + "' ]; do sleep 0.05; done; exit 3").build());
        awaitLines(first, "unwritten", 1);
        first.close();
        // As if the server had died between spawning the process and writing its RUNNING state.
        Files.delete(stateDir().resolve("unwritten").resolve("state.json"));
        assertThat(stateDir().resolve("unwritten").resolve("launch")).exists();

        var second = backend();
        assertThat(second.find("unwritten").orElseThrow().phase()).isEqualTo(WorkloadPhase.RUNNING);
        Files.createFile(gate);
        var done = awaitTerminal(second, "unwritten");
        assertThat(done.phase()).isEqualTo(WorkloadPhase.FAILED);
        assertThat(done.message()).isEqualTo("exited with code 3");
        assertThat(Files.readAllLines(runs)).containsExactly("run");
    }

    @Test
    void passesHostileArgumentsAndEnvironmentByteForByte() throws Exception {
        var wd = Files.createDirectories(tmp.resolve("hostile wd"));
        var args = new ArrayList<>(List.of("", " ", "a b", "'single'", "\"double\"", "$(touch pwned)", "`touch pwned`", "${HOME}",
                "back\\slash", "new\nline", "tab\there", "semi;colon && true || false", "héllo ✓ 世界", "-n", "--", "*", "~")
        );
        args.add("x".repeat(100_000));
        var argv = new ArrayList<>(List.of("sh", "-c", "printf '%s\\0' \"$@\" \"$HOSTILE\" > args.bin", "sh"));
        argv.addAll(args);
        String hostileEnv = "v=1; $(touch pwned) 'q' \"dq\" \\ \n end";
        var b = backend();
        b.launch(aWorkload("hostile").command(argv.toArray(String[]::new)).env("HOSTILE", hostileEnv).workingDir(wd).build());

        assertThat(awaitTerminal(b, "hostile").phase()).isEqualTo(WorkloadPhase.SUCCEEDED);
        var expected = new ArrayList<>(args);
        expected.add(hostileEnv);
        var got = new String(Files.readAllBytes(wd.resolve("args.bin")), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(List.of(got.split("\0", -1))).containsExactlyElementsOf(concat(expected, ""));
        assertThat(wd.resolve("pwned")).doesNotExist();
    }

    @Test
    void refusesANulCharacterInTheCommand() {
        var b = backend();
        var state = b.launch(aWorkload("nul").command("printf", "a\0b").build());

        assertThat(state.phase()).isEqualTo(WorkloadPhase.FAILED);
        assertThat(state.message()).contains("null character");
    }

    @Test
    void persistsAWorkloadStartedAtOnceOnlyAsRunning() throws Exception {
        var b = backend();
        var gate = tmp.resolve("go");
        var s = b.launch(aWorkload("direct").shell("while [ ! -e '" + gate + "' ]; do sleep 0.05; done").build());

        assertThat(s.phase()).isEqualTo(WorkloadPhase.RUNNING);
        assertThat(stateField(stateDir().resolve("direct"), "phase")).isEqualTo("RUNNING");
        assertThat(Long.parseLong(stateField(stateDir().resolve("direct"), "pid"))).isEqualTo(
                Long.parseLong(s.message().replaceAll("\\D", "")));
        assertThat(stateField(stateDir().resolve("direct"), "processStart")).isNotEmpty();
        Files.createFile(gate);
        assertThat(awaitTerminal(b, "direct").phase()).isEqualTo(WorkloadPhase.SUCCEEDED);
    }

    @Test
    void requeuesAWorkloadWhoseStartWasNeverRecorded() throws Exception {
        // A crash between the spawn and the first state write leaves only the spec (and maybe an exit code).
        var dir = new WorkloadDir(Files.createDirectories(stateDir().resolve("unrecorded")));
        dir.writeSpec(aWorkload("unrecorded").shell("echo again; exit 5").build());
        Files.writeString(dir.exitCodeFile(), "0\n");

        var b = backend();

        var done = awaitTerminal(b, "unrecorded");
        assertThat(done.message()).as("the stale exit code is not taken").isEqualTo("exited with code 5");
        assertThat(texts(b.tail("unrecorded", 10))).containsExactly("again");
    }

    @Test
    void manyConcurrentWorkloadsAllFinish() {
        var b = backend();
        for (int i = 0; i < 300; i++) b.launch(aWorkload("c" + i).shell("sleep 1; echo " + i).build());

        for (int i = 0; i < 300; i++) {
            var done = awaitTerminal(b, "c" + i);
            assertThat(done.phase()).as("c" + i).isEqualTo(WorkloadPhase.SUCCEEDED);
            assertThat(texts(b.tail("c" + i, 1))).containsExactly(Integer.toString(i));
        }
    }

    private static List<String> concat(List<String> list, String last) {
        var all = new ArrayList<>(list);
        all.add(last);
        return all;
    }

    private static WorkloadRecord runningAs(String id, long pid) {
        var state = new WorkloadState(id, WorkloadPhase.RUNNING, Optional.empty(), "", Optional.of(Instant.now()), Optional.empty(), List.of());
        return new WorkloadRecord(state, 0, Instant.now(), Optional.of(new WorkloadRecord.Launch(pid, Optional.of(Instant.EPOCH))), Optional.empty());
    }

    /** The pid of a process that has exited; its start instant (EPOCH) cannot match any reuse of the pid. */
    private static long deadPid() throws Exception {
        var p = new ProcessBuilder("true").start();
        assertThat(p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        return p.pid();
    }

    private static String stateField(Path dir, String field) {
        try {
            return io.capstan.core.Json.json().readTree(dir.resolve("state.json").toFile()).path(field).asText();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
