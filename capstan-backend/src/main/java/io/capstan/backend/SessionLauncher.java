package io.capstan.backend;

import io.capstan.core.Names;
import io.capstan.core.PermanentFailureException;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts a workload so that it outlives the JVM. Where perl is on PATH, launches go through one resident
 * {@link LaunchSupervisor} per backend (started on the first launch, and again after it dies), which forks each
 * workload into its own session and copies its logs with the same contract as the wrappers below; it reports the
 * exit and the end of the logs to the JVM, so nothing is polled. Without perl, if the supervisor cannot be started,
 * or with {@code -Dcapstan.backend.supervisor=false}, each launch starts its own wrapper as described here.
 *
 * <p>Per-launch wrappers: the argv goes to a fixed wrapper script as positional parameters,
 * never spliced into shell text, and the wrapper runs in its own session ({@code setsid}), so a Ctrl-C or a
 * {@code kill -9} of the server reaches neither it nor its children, and its pid is also its process group id.
 *
 * <p>The wrapper owns the log files, not the JVM: the child writes into two FIFOs, and for each one a reader in the
 * same session ({@code stdbuf -o0 head -c}) copies at most {@code maxBytes} into {@code stdout.log}/{@code stderr.log}, appends the marker line
 * {@code [capstan] log truncated after N bytes} and then discards the rest, so the child never blocks and never
 * gets SIGPIPE, and the limit holds even while the server is down. The readers ignore SIGTERM so that a child's
 * last words during a graceful stop are still captured; they end at end-of-file or at SIGKILL.
 *
 * <p>When the main process ends the wrapper records its status in {@code exit_code} (rename, so it is atomic)
 * before it waits for the readers to drain.
 */
final class SessionLauncher {
    static final String WRAPPER = """
            d=$1; max=$2; tools=$3; shift 3
            user_path=$PATH; PATH=$tools
            # GNU head buffers its output when writing to a file; stdbuf makes lines visible as they come.
            unbuffered=; if command -v stdbuf >/dev/null 2>&1; then unbuffered="stdbuf -o0"; fi
            limit() {
              trap '' TERM
              $unbuffered head -c "$max"
              if [ "$(head -c 1 | wc -c)" -gt 0 ]; then
                if [ -n "$(tail -c 1 "$1")" ]; then echo; fi
                echo "[capstan] log truncated after $max bytes"
                cat >/dev/null
              fi
            }
            rm -f "$d/.stdout.fifo" "$d/.stderr.fifo"
            if ! mkfifo "$d/.stdout.fifo" "$d/.stderr.fifo"; then
              echo "[capstan] cannot create the log pipes in $d" >>"$d/stderr.log"
              echo 125 >"$d/exit_code.tmp" && mv -f "$d/exit_code.tmp" "$d/exit_code"
              exit 125
            fi
            limit "$d/stdout.log" <"$d/.stdout.fifo" >>"$d/stdout.log" &
            limit "$d/stderr.log" <"$d/.stderr.fifo" >>"$d/stderr.log" &
            (PATH=$user_path; exec "$@") >"$d/.stdout.fifo" 2>"$d/.stderr.fifo" </dev/null
            code=$?
            echo "$code" >"$d/exit_code.tmp" && mv -f "$d/exit_code.tmp" "$d/exit_code"
            wait
            rm -f "$d/.stdout.fifo" "$d/.stderr.fifo"
            """;

    /**
     * The same contract as {@link #WRAPPER} in one process: the wrapper forks the workload with its stdout and
     * stderr on two pipes and copies them itself, so a launch costs two processes instead of a dozen (setsid, sh,
     * mkfifo, two subshells, stdbuf, head, wc, mv, rm); on machines where a process start costs milliseconds that
     * was most of a short step's time. Used when perl is on PATH (it is part of every Debian and macOS base system).
     */
    static final String PERL_WRAPPER = """
            use strict; my ($d, $max) = splice(@ARGV, 0, 3);
            pipe(my $or, my $ow) or die "pipe: $!"; pipe(my $er, my $ew) or die "pipe: $!";
            my $pid = fork() // die "fork: $!";
            if (!$pid) {
              open(STDOUT, '>&', $ow) or die "stdout: $!"; open(STDERR, '>&', $ew) or die "stderr: $!";
              close($_) for ($or, $er, $ow, $ew);
              exec { $ARGV[0] } @ARGV;
              my $c = ($! + 0 == 2) ? 127 : 126; print STDERR "[capstan] cannot run $ARGV[0]: $!\n"; exit $c;
            }
            $SIG{TERM} = 'IGNORE'; my $code; $SIG{CHLD} = sub {};
            close($ow); close($ew);
            my %out; my %n; my %last;
            for ([$or, 'stdout'], [$er, 'stderr']) {
              open(my $f, '>>', "$d/$_->[1].log") or die "$d/$_->[1].log: $!"; $out{fileno $_->[0]} = $f; $n{fileno $_->[0]} = 0;
            }
            my %open = (fileno($or) => $or, fileno($er) => $er);
            sub reap { return if defined $code; if (waitpid($pid, $_[0]) == $pid) {
              $code = ($? & 127) ? 128 + ($? & 127) : $? >> 8;
              open(my $t, '>', "$d/exit_code.tmp") or die "exit_code: $!"; print $t "$code\n"; close($t) or die "exit_code: $!";
              rename("$d/exit_code.tmp", "$d/exit_code") or die "exit_code: $!"; } }
            while (%open) {
              my $rin = ''; vec($rin, $_, 1) = 1 for keys %open;
              my $k = select(my $rout = $rin, undef, undef, defined $code ? undef : 1);
              reap(1);
              next if $k <= 0;
              for my $fd (keys %open) {
                next unless vec($rout, $fd, 1);
                my $r = sysread($open{$fd}, my $buf, 65536);
                next if !defined $r && $!{EINTR};
                if (!$r) { delete $open{$fd}; next; }
                my $f = $out{$fd};
                if ($n{$fd} < $max) {
                  my $take = $r < $max - $n{$fd} ? $r : $max - $n{$fd};
                  syswrite($f, $buf, $take); $n{$fd} += $take; $last{$fd} = substr($buf, $take - 1, 1);
                  $r -= $take;
                }
                if ($r > 0 && $n{$fd} == $max) { syswrite($f, ($last{$fd} eq "\n" ? "" : "\n") . "[capstan] log truncated after $max bytes\n"); $n{$fd}++; }
              }
            }
            reap(0);
            """;

    private static final Logger log = LoggerFactory.getLogger(SessionLauncher.class);

    /**
     * Whether launches go through a resident {@link LaunchSupervisor} where perl is available (the default), instead
     * of one wrapper process per launch; {@code -Dcapstan.backend.supervisor=false} turns it off.
     */
    static final boolean SUPERVISOR_ENABLED = !"false".equalsIgnoreCase(System.getProperty("capstan.backend.supervisor", "true"));

    /** A started workload: its identity, and the supervisor's record of it when it was started through one. */
    record Started(WorkloadRecord.Launch launch, Optional<LaunchSupervisor.Child> child, String note) {
        Started(WorkloadRecord.Launch launch, Optional<LaunchSupervisor.Child> child) {
            this(launch, child, "");
        }

        Started withNote(String newNote) {
            return new Started(launch, child, newNote);
        }
    }

    private final Path setsid;
    private final Path shell;
    private final Optional<Path> perl;
    private final String toolPath;
    private final List<Integer> machineGpus;
    private final long maxBytesPerStream;
    private final Optional<Path> supervisorLog;
    /** The part of the server's environment every workload starts from; see {@link WorkloadEnvironment}. */
    private final Map<String, String> inherited;
    private final ContainerRunner containers;
    /** Where each program name was last found, by PATH and name; see {@link #resolve}. */
    private final Map<String, Path> resolved = new ConcurrentHashMap<>();
    private final ReentrantLock supervisorLock = new ReentrantLock();
    private LaunchSupervisor supervisor; // guarded by supervisorLock
    private boolean closed; // guarded by supervisorLock
    /** Until when the supervisor's children may run, in epoch milliseconds; 0: no limit. Guarded by supervisorLock. */
    private long holdUntilMillis;

    SessionLauncher(List<Integer> machineGpus, long maxBytesPerStream) {
        this(machineGpus, maxBytesPerStream, Optional.empty(), WorkloadEnvironment.inherited(System.getenv()));
    }

    /**
     * With {@code supervisorLog}, launches go through a resident supervisor (when perl exists) that logs there; each
     * workload's environment starts from {@code inherited}.
     */
    SessionLauncher(List<Integer> machineGpus, long maxBytesPerStream, Optional<Path> supervisorLog, Map<String, String> inherited) {
        this(machineGpus, maxBytesPerStream, supervisorLog, inherited,
                new ContainerRunner(ContainerOptions.Execution.HOST, Optional.empty(), false, java.time.Clock.systemUTC()));
    }

    /** As above, with workloads that name an image run where {@code containers} decides. */
    SessionLauncher(List<Integer> machineGpus, long maxBytesPerStream, Optional<Path> supervisorLog, Map<String, String> inherited,
                    ContainerRunner containers) {
        this.inherited = Map.copyOf(inherited);
        this.containers = containers;
        this.toolPath = System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
        this.setsid = findOnPath("setsid", toolPath, Path.of("/")).orElseThrow(() -> new IllegalStateException(
                "LocalBackend needs the setsid program (util-linux) on PATH=" + toolPath + "; install util-linux"));
        this.shell = findOnPath("sh", toolPath, Path.of("/")).orElseThrow(() -> new IllegalStateException(
                "LocalBackend needs a POSIX sh on PATH=" + toolPath));
        this.perl = findOnPath("perl", toolPath, Path.of("/"));
        this.machineGpus = List.copyOf(machineGpus);
        this.maxBytesPerStream = maxBytesPerStream;
        this.supervisorLog = supervisorLog.filter(p -> SUPERVISOR_ENABLED && perl.isPresent());
    }

    /** The running supervisor's pid, or -1. */
    long supervisorPid() {
        supervisorLock.lock();
        try {
            return supervisor != null && supervisor.isUsable() ? supervisor.pid() : -1;
        } finally {
            supervisorLock.unlock();
        }
    }

    /**
     * Makes the workloads the supervisor starts die at {@code deadline} unless called again with a later one (empty:
     * no limit), even if this JVM dies first; also for a supervisor started later. Per-launch wrappers have no
     * such limit.
     */
    void holdUntil(Optional<java.time.Instant> deadline) {
        supervisorLock.lock();
        try {
            long millis = deadline.map(d -> Math.max(1, d.toEpochMilli())).orElse(0L);
            if (millis == holdUntilMillis) return;
            holdUntilMillis = millis;
            if (supervisor != null && supervisor.isUsable()) supervisor.holdChildrenUntil(millis);
        } finally {
            supervisorLock.unlock();
        }
    }

    /** Lets the supervisor finish its running children and exit; later launches use a per-launch wrapper. */
    void close() {
        supervisorLock.lock();
        try {
            closed = true;
            if (supervisor != null) supervisor.close();
        } finally {
            supervisorLock.unlock();
        }
    }

    /** The live supervisor, started if there is none (first launch, or the last one died); empty if it cannot run. */
    private Optional<LaunchSupervisor> supervisor() {
        if (supervisorLog.isEmpty()) return Optional.empty();
        supervisorLock.lock();
        try {
            if (closed) return Optional.empty();
            if (supervisor == null || !supervisor.isUsable()) {
                if (supervisor != null) {
                    supervisor.close();
                    log.atWarn().addKeyValue("pid", supervisor.pid()).log("the launch supervisor died; starting a new one");
                }
                supervisor = null;
                supervisor = LaunchSupervisor.start(setsid, perl.orElseThrow(), supervisorLog.get(), inherited);
                if (holdUntilMillis != 0) supervisor.holdChildrenUntil(holdUntilMillis);
            }
            return Optional.of(supervisor);
        } catch (IOException e) {
            log.atWarn().addKeyValue("error", e.toString()).log("cannot start the launch supervisor; starting this workload with a wrapper");
            return Optional.empty();
        } finally {
            supervisorLock.unlock();
        }
    }

    /**
     * Starts {@code spec} with {@code gpus} and returns the wrapper's identity.
     *
     * @throws PermanentFailureException if the working directory or the program does not exist, or the start fails
     */
    Started start(WorkloadSpec spec, WorkloadDir dir, List<Integer> gpus) {
        Path workDir = spec.workingDir().orElse(dir.defaultWorkDir()).toAbsolutePath();
        var plan = containers.plan(spec, dir, workDir, environment(spec, gpus), gpus);
        if (plan.container().isPresent() && spec.container().workingDir().isPresent()) {
            // The container works in a folder of its image; the engine's client needs only some folder of ours.
            workDir = dir.root().toAbsolutePath();
        } else {
            prepareWorkDir(spec, workDir);
        }
        try {
            // Written before the start, so a cancel or a restart always knows which container to stop.
            if (plan.container().isPresent()) Files.writeString(dir.containerFile(), plan.container().get() + "\n");
            else Files.deleteIfExists(dir.containerFile());
        } catch (IOException e) {
            throw new PermanentFailureException("workload '%s': cannot record its container in %s: %s".formatted(spec.id(), dir.root(), e), e);
        }
        return start(spec.id(), dir, workDir, plan.argv(), plan.env()).withNote(plan.note());
    }

    private static void prepareWorkDir(WorkloadSpec spec, Path workDir) {
        try {
            if (spec.workingDir().isEmpty()) Files.createDirectories(workDir);
        } catch (IOException e) {
            throw new PermanentFailureException("workload '%s': cannot create working directory %s: %s".formatted(spec.id(), workDir, e), e);
        }
        if (!Files.isDirectory(workDir)) {
            throw new PermanentFailureException("workload '%s': working directory %s does not exist; create it or leave workingDir empty"
                    .formatted(spec.id(), workDir));
        }
    }

    private Started start(String id, WorkloadDir dir, Path workDir, List<String> command, Map<String, String> env) {
        String program = command.getFirst();
        String path = env.getOrDefault("PATH", "");
        if (resolve(program, path, workDir).isEmpty()) {
            throw new PermanentFailureException(program.contains("/")
                    ? "workload '%s': program '%s' does not exist or is not executable (relative to %s); fix the command"
                            .formatted(id, Names.printable(program), workDir)
                    : "workload '%s': program '%s' was not found on PATH=%s; install it or give its absolute path"
                            .formatted(id, Names.printable(program), path));
        }
        for (int attempt = 0; attempt < 2; attempt++) {
            var sup = supervisor();
            if (sup.isEmpty()) break;
            try {
                var child = sup.get().launch(dir, maxBytesPerStream, env, workDir, command);
                return new Started(child.started.join(), Optional.of(child));
            } catch (LaunchSupervisor.Lost e) {
                // The request never reached it: safe to try a fresh supervisor, then the wrapper.
                log.atWarn().addKeyValue("workload", id).addKeyValue("error", e.getMessage()).log("the launch supervisor is gone");
            } catch (LaunchSupervisor.MaybeStarted e) {
                throw new PermanentFailureException(("workload '%s': the launch supervisor failed while starting it (%s); it may have "
                        + "started without being observed, see %s").formatted(id, e.getMessage(), supervisorLog.get()), e);
            } catch (IOException e) {
                throw new PermanentFailureException("workload '%s': cannot start: %s".formatted(id, e.getMessage()), e);
            }
        }
        var argv = new ArrayList<String>(perl.isPresent()
                ? List.of(setsid.toString(), perl.get().toString(), "-e", PERL_WRAPPER)
                : List.of(setsid.toString(), shell.toString(), "-c", WRAPPER, "capstan-wrapper"));
        argv.addAll(List.of(dir.root().toAbsolutePath().toString(), Long.toString(maxBytesPerStream), toolPath));
        argv.addAll(command);
        var pb = new ProcessBuilder(argv).directory(workDir.toFile())
                // No pipes to the JVM: a dead server must neither block nor SIGPIPE the wrapper.
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.wrapperLog().toFile()))
                .redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().putAll(env);
        try {
            Process p = pb.start();
            // setsid execs in place when its caller is not a group leader, which a JVM's child never is.
            return new Started(new WorkloadRecord.Launch(p.pid(), p.info().startInstant()), Optional.empty());
        } catch (IOException e) {
            throw new PermanentFailureException("workload '%s': cannot start %s: %s".formatted(id, setsid, e.getMessage()), e);
        }
    }

    private Map<String, String> environment(WorkloadSpec spec, List<Integer> gpus) {
        var env = new HashMap<>(inherited);
        env.putAll(spec.env());
        env.put("CAPSTAN_WORKLOAD_ID", spec.id());
        // As on Kubernetes, a workload sees only the GPUs it was given, and none when it asked for none. On a
        // machine without GPUs we leave the variable alone.
        if (!machineGpus.isEmpty()) {
            env.put("CUDA_VISIBLE_DEVICES", gpus.stream().map(String::valueOf).collect(Collectors.joining(",")));
        }
        return env;
    }

    /**
     * Whether {@code program} exists, as {@link #findOnPath}, remembering where a name was found on an absolute PATH:
     * while that file still exists the exec will find it (or one earlier on PATH), so one stat replaces a walk of PATH.
     */
    private Optional<Path> resolve(String program, String path, Path workDir) {
        if (program.contains("/") || !absoluteEntries(path)) return findOnPath(program, path, workDir);
        String key = path + '\0' + program;
        Path hit = resolved.get(key);
        if (hit != null && Files.isRegularFile(hit) && Files.isExecutable(hit)) return Optional.of(hit);
        var found = findOnPath(program, path, workDir);
        if (found.isPresent()) {
            if (resolved.size() > 1024) resolved.clear();
            resolved.put(key, found.get());
        } else {
            resolved.remove(key);
        }
        return found;
    }

    private static boolean absoluteEntries(String path) {
        if (path.isEmpty()) return false;
        for (String entry : path.split(":", -1)) {
            if (!entry.startsWith("/")) return false;
        }
        return true;
    }

    /** Where {@code program} resolves, as execvp would: a name with '/' is a path, else each PATH entry is tried. */
    static Optional<Path> findOnPath(String program, String path, Path workDir) {
        if (program.isEmpty()) return Optional.empty();
        if (program.contains("/")) {
            Path p = workDir.resolve(program);
            return Files.isRegularFile(p) && Files.isExecutable(p) ? Optional.of(p) : Optional.empty();
        }
        for (String entry : path.split(":", -1)) {
            Path p = (entry.isEmpty() ? workDir : workDir.resolve(entry)).resolve(program);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) return Optional.of(p);
        }
        return Optional.empty();
    }
}
