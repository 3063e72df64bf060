package io.capstan.backend;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One long-lived perl process that starts workloads for a {@link LocalBackend}, so that a launch costs one fork in
 * an already running interpreter instead of a JVM process start, an exec of setsid and the start of a fresh
 * interpreter. It runs in its own session, so a {@code kill -9} of the server does not reach it.
 *
 * <p>Requests go to its stdin, one record each: a decimal byte count and a newline, then that many bytes of
 * NUL-separated fields (argv, environment and paths cannot contain NUL, so the encoding is unambiguous; nothing is
 * ever spliced into shell text). {@code L tok dir maxBytes workDir nEnv env... argv...} launches, {@code C tok}
 * abandons the log pipes of a workload whose leftovers would not let go of them, {@code T millis} makes every
 * child it runs die (SIGKILL to its process group) once the clock passes that epoch time, unless a later {@code T}
 * moves it (0: never), with or without a JVM to hear about it.
 *
 * <p>For each launch it forks a child that calls {@code setsid()} (so the step's pid is its session and process group
 * id, as the wrapper's was) and execs the argv with stdout and stderr on pipes. It copies the pipes into
 * {@code stdout.log}/{@code stderr.log} with the same per-stream limit and truncation marker as
 * {@link SessionLauncher#PERL_WRAPPER}, reaps the child, drains what the child left in its pipes and then writes
 * {@code exit_code} atomically (so an {@code exit_code} file means the main process's output is in the logs). It
 * records {@code pid startTicks} in the folder's {@code launch} file right after the fork, before anything else, so
 * that a server that dies before writing the workload's state can still find the process. It
 * reports on its stdout, one line each: {@code S tok pid startTicks} after the fork, {@code F tok message} when a
 * launch failed before the fork, {@code E tok code groupLeft} when the child was reaped ({@code groupLeft} is 1 when
 * its process group still has members), {@code D tok} when both pipes reached end-of-file after the exit.
 *
 * <p>When the JVM goes away (end-of-file on stdin) it keeps serving its running children and exits after the last
 * one; writes to a JVM that is gone are dropped. If the supervisor dies, the futures of its children fail and the
 * backend falls back to polling their pids.
 */
final class LaunchSupervisor {
    private static final Logger log = LoggerFactory.getLogger(LaunchSupervisor.class);
    private static final Duration START_WAIT = Duration.ofSeconds(30);

    static final String SCRIPT = """
            use strict; use POSIX (); use IO::Handle; use Time::HiRes ();
            $SIG{$_} = 'IGNORE' for qw(PIPE HUP INT TERM QUIT); $SIG{CHLD} = sub {};
            STDOUT->blocking(0); STDIN->blocking(0);
            my ($in, $out, $jvm_in, $jvm_out) = ('', '', 1, 1);
            my (%w, %bypid, %fd, %pending); my $rbits = ''; my $until = 0;
            sub say_ { $out .= $_[0] if $jvm_out; }
            sub flush_ { return unless $jvm_out && length $out;
              my $n = syswrite(STDOUT, $out);
              if (defined $n) { substr($out, 0, $n) = ''; } elsif (!$!{EAGAIN} && !$!{EINTR}) { $jvm_out = 0; $out = ''; } }
            sub copy_ { my ($f, $buf, $r) = @_; my $s = $fd{$f}; my $max = $s->{max};
              if ($s->{n} < $max) { my $take = $r < $max - $s->{n} ? $r : $max - $s->{n};
                syswrite($s->{log}, $buf, $take); $s->{n} += $take; $s->{last} = substr($buf, $take - 1, 1); $r -= $take; }
              if ($r > 0 && $s->{n} == $max) {
                syswrite($s->{log}, ($s->{last} eq "\\n" ? "" : "\\n") . "[capstan] log truncated after $max bytes\\n"); $s->{n}++; } }
            sub done_ { my ($tok) = @_; my $x = $w{$tok}; return if $x->{open};
              if (defined $x->{code}) { delete $pending{$tok}; say_("D $tok\\n"); delete $w{$tok}; } else { $pending{$tok} = 1; } }
            sub shut_ { my ($f) = @_; my $s = delete $fd{$f}; return unless $s; vec($rbits, $f, 1) = 0; close($s->{h}); close($s->{log});
              $w{$s->{tok}}{open}--; done_($s->{tok}); }
            sub pump_ { my ($f, $all) = @_;
              while (exists $fd{$f}) { my $r = sysread($fd{$f}{h}, my $buf, 65536);
                if (!defined $r) { next if $!{EINTR}; shut_($f) unless $!{EAGAIN}; last; }
                if (!$r) { shut_($f); last; } copy_($f, $buf, $r); last unless $all; } }
            sub reap_ { while ((my $pid = waitpid(-1, POSIX::WNOHANG())) > 0) {
              my $st = $?; my $tok = delete $bypid{$pid}; next unless defined $tok; my $x = $w{$tok};
              my $code = ($st & 127) ? 128 + ($st & 127) : $st >> 8;
              pump_($_, 1) for @{$x->{fds}};
              my $d = $x->{dir};
              if (open(my $t, '>', "$d/exit_code.tmp")) { print $t "$code\\n"; close($t) && rename("$d/exit_code.tmp", "$d/exit_code")
                or print STDERR "[capstan] cannot record the exit code in $d: $!\\n"; }
              else { print STDERR "[capstan] cannot record the exit code in $d: $!\\n"; }
              my $left = kill(0, -$pid) ? 1 : 0;
              $x->{code} = $code; say_("E $tok $code $left\\n"); done_($tok); } }
            sub launch_ { my ($tok, $d, $max, $wd, $ne, @rest) = @_;
              my @env = splice(@rest, 0, $ne); my @argv = @rest;
              my (%logs, @p);
              for my $s ('stdout', 'stderr') {
                open($logs{$s}, '>>', "$d/$s.log") or do { say_("F $tok cannot open $d/$s.log: $!\\n"); return; }; }
              pipe(my $or, my $ow) or do { say_("F $tok pipe: $!\\n"); return; };
              pipe(my $er, my $ew) or do { say_("F $tok pipe: $!\\n"); return; };
              my $pid = fork();
              if (!defined $pid) { say_("F $tok fork: $!\\n"); return; }
              if (!$pid) {
                POSIX::setsid(); $SIG{$_} = 'DEFAULT' for qw(PIPE HUP INT TERM QUIT CHLD);
                open(STDIN, '<', '/dev/null'); open(STDOUT, '>&', $ow) or POSIX::_exit(125); open(STDERR, '>&', $ew) or POSIX::_exit(125);
                if (!chdir($wd)) { print STDERR "[capstan] cannot enter $wd: $!\\n"; POSIX::_exit(126); }
                %ENV = (); for (@env) { my ($k, $v) = split(/=/, $_, 2); $ENV{$k} = $v; }
                exec { $argv[0] } @argv;
                my $c = ($! + 0 == 2) ? 127 : 126; print STDERR "[capstan] cannot run $argv[0]: $!\\n"; POSIX::_exit($c);
              }
              close($ow); close($ew);
              my $ticks = -1;
              if (open(my $st, '<', "/proc/$pid/stat")) { my $l = <$st>; close($st); $l =~ s/^.*\\) //s; $ticks = (split(/ /, $l))[19]; }
              if (open(my $lf, '>', "$d/.launch.tmp")) { print $lf "$pid $ticks\\n"; close($lf); rename("$d/.launch.tmp", "$d/launch"); }
              $w{$tok} = { dir => $d, open => 2, fds => [fileno $or, fileno $er] }; $bypid{$pid} = $tok;
              for ([$or, 'stdout'], [$er, 'stderr']) { $_->[0]->blocking(0); vec($rbits, fileno $_->[0], 1) = 1;
                $fd{fileno $_->[0]} = { h => $_->[0], log => $logs{$_->[1]}, tok => $tok, n => 0, max => $max, last => "\\n" }; }
              say_("S $tok $pid $ticks\\n"); }
            sub request_ { my @f = split(/\\0/, $_[0], -1); my $type = shift @f;
              if ($type eq 'L') { launch_(@f); }
              elsif ($type eq 'C') { my $x = $w{$f[0]}; shut_($_) for $x ? @{$x->{fds}} : (); }
              elsif ($type eq 'T') { $until = $f[0] / 1000; } }
            while ($jvm_in || %w) {
              my ($rin, $win) = ($rbits, '');
              vec($rin, 0, 1) = 1 if $jvm_in;
              vec($win, 1, 1) = 1 if $jvm_out && length $out;
              my $k = select(my $rout = $rin, my $wout = $win, undef, %pending ? 0.005 : 0.2);
              if ($k > 0) {
                my $bits = unpack('b*', $rout);
                while ($bits =~ /1/g) { my $f = pos($bits) - 1; pump_($f, 0) if $f > 1; }
                if ($jvm_in && vec($rout, 0, 1)) {
                  my $r = sysread(STDIN, $in, 65536, length $in);
                  if (defined $r && $r == 0 || !defined $r && !$!{EAGAIN} && !$!{EINTR}) { $jvm_in = 0; }
                  while ($in =~ /^(\\d+)\\n/) { my ($len, $h) = ($1, length($1) + 1);
                    last if length($in) < $h + $len;
                    my $rec = substr($in, $h, $len); substr($in, 0, $h + $len) = ''; request_($rec); }
                }
              }
              if ($until && %bypid && Time::HiRes::time() >= $until) { for (keys %bypid) { kill('KILL', -$_); kill('KILL', $_); } }
              reap_(); flush_();
            }
            flush_();
            """;

    /** What the supervisor reported about one workload; the futures fail with {@link Lost} if it dies. */
    static final class Child {
        final long token;
        final CompletableFuture<WorkloadRecord.Launch> started = new CompletableFuture<>();
        final CompletableFuture<Integer> exited = new CompletableFuture<>();
        final CompletableFuture<Void> drained = new CompletableFuture<>();
        volatile boolean groupLeft;
        private final LaunchSupervisor owner;

        Child(long token, LaunchSupervisor owner) {
            this.token = token;
            this.owner = owner;
        }

        /** Tells the supervisor to stop copying this workload's pipes, which leftovers of the workload hold open. */
        void abandonLogs() {
            owner.send(List.of("C", Long.toString(token)));
        }
    }

    /** The supervisor died, or the JVM stopped listening to it. */
    static final class Lost extends RuntimeException {
        Lost(String message) {
            super(message, null, false, false);
        }
    }

    private final Process process;
    private final OutputStream stdin;
    private final Charset charset;
    private final Map<Long, Child> children = new ConcurrentHashMap<>();
    private final AtomicLong tokens = new AtomicLong();
    private final ReentrantLock writeLock = new ReentrantLock();
    private volatile boolean dead;
    private volatile boolean closed;

    private LaunchSupervisor(Process process) {
        this.process = process;
        this.stdin = process.getOutputStream();
        this.charset = nativeCharset();
        Thread.ofPlatform().daemon().name("capstan-supervisor-" + process.pid()).start(this::readLoop);
    }

    /** Starts a supervisor in its own session; its stderr goes to {@code logFile}. */
    static LaunchSupervisor start(Path setsid, Path perl, Path logFile, Map<String, String> env) throws IOException {
        var pb = new ProcessBuilder(setsid.toString(), perl.toString(), "-e", SCRIPT)
                .directory(new File("/"))
                .redirectError(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
        // It hands each workload the environment it is told; its own holds no more than a workload's would.
        pb.environment().clear();
        pb.environment().putAll(env);
        // setsid execs in place when its caller is not a group leader, which a JVM's child never is.
        return new LaunchSupervisor(pb.start());
    }

    long pid() {
        return process.pid();
    }

    boolean isUsable() {
        return !dead && !closed && process.isAlive();
    }

    /**
     * Starts {@code argv} and returns its child record once the supervisor has forked it.
     *
     * @throws Lost if the supervisor is gone; {@code maybeStarted} on it tells whether the request reached it
     * @throws IOException if the supervisor refused the launch (cannot open the logs, fork failed)
     */
    Child launch(WorkloadDir dir, long maxBytes, Map<String, String> env, Path workDir, List<String> argv) throws IOException {
        long token = tokens.incrementAndGet();
        var fields = new ArrayList<String>(6 + env.size() + argv.size());
        fields.add("L");
        fields.add(Long.toString(token));
        fields.add(dir.root().toAbsolutePath().toString());
        fields.add(Long.toString(maxBytes));
        fields.add(workDir.toString());
        fields.add(Integer.toString(env.size()));
        env.forEach((k, v) -> fields.add(k + "=" + v));
        fields.addAll(argv);
        for (String f : fields) {
            if (f.indexOf('\0') >= 0) throw new IOException("invalid null character in command or environment");
        }
        var c = new Child(token, this);
        children.put(token, c);
        if (dead) {
            children.remove(token);
            throw new Lost("the launch supervisor is gone");
        }
        if (!send(fields)) {
            children.remove(token);
            throw new Lost("the launch supervisor is gone");
        }
        try {
            c.started.get(START_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            return c;
        } catch (ExecutionException e) {
            children.remove(token);
            if (e.getCause() instanceof Lost lost) throw new MaybeStarted(lost.getMessage());
            throw new IOException(e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            children.remove(token);
            throw new MaybeStarted("the launch supervisor did not answer within " + START_WAIT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MaybeStarted("interrupted while the launch supervisor was starting the workload");
        }
    }

    /** The request reached the supervisor but no answer came back: the workload may or may not run. */
    static final class MaybeStarted extends RuntimeException {
        MaybeStarted(String message) {
            super(message, null, false, false);
        }
    }

    /** Sends one record; false if the supervisor is gone. */
    private boolean send(List<String> fields) {
        var payload = new ByteArrayOutputStream(256);
        for (int i = 0; i < fields.size(); i++) {
            if (i > 0) payload.write(0);
            payload.writeBytes(fields.get(i).getBytes(charset));
        }
        byte[] header = (payload.size() + "\n").getBytes(StandardCharsets.US_ASCII);
        writeLock.lock();
        try {
            if (dead || closed) return false;
            stdin.write(header);
            payload.writeTo(stdin);
            stdin.flush();
            return true;
        } catch (IOException e) {
            markDead("cannot write to the launch supervisor: " + e.getMessage());
            return false;
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * Makes every child die at {@code deadline} (epoch milliseconds; 0: never) unless a later call moves it, even
     * if this JVM is gone by then. False if the supervisor is gone.
     */
    boolean holdChildrenUntil(long deadlineEpochMillis) {
        return send(List.of("T", Long.toString(deadlineEpochMillis)));
    }

    /**
     * Stops sending requests: the supervisor finishes serving its running children and then exits. The reader keeps
     * draining its reports until then, so it is never blocked on a full pipe.
     */
    void close() {
        writeLock.lock();
        try {
            if (closed) return;
            closed = true;
            stdin.close();
        } catch (IOException e) {
            log.atDebug().addKeyValue("error", e.toString()).log("closing the supervisor's stdin failed");
        } finally {
            writeLock.unlock();
        }
    }

    private void readLoop() {
        try (var r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.US_ASCII))) {
            String line;
            while ((line = r.readLine()) != null) {
                try {
                    handle(line);
                } catch (RuntimeException e) {
                    log.atWarn().addKeyValue("line", line).addKeyValue("error", e.toString()).log("unexpected report from the launch supervisor");
                }
            }
        } catch (IOException e) {
            log.atDebug().addKeyValue("error", e.toString()).log("reading the launch supervisor failed");
        }
        markDead("the launch supervisor (pid " + process.pid() + ") exited");
    }

    private void handle(String line) {
        int a = line.indexOf(' ');
        int b = line.indexOf(' ', a + 1);
        long token = Long.parseLong(b < 0 ? line.substring(a + 1) : line.substring(a + 1, b));
        Child c = children.get(token);
        if (c == null) return;
        switch (line.charAt(0)) {
            case 'S' -> {
                int s = line.indexOf(' ', b + 1);
                long pid = Long.parseLong(line.substring(b + 1, s));
                long ticks = Long.parseLong(line.substring(s + 1));
                c.started.complete(new WorkloadRecord.Launch(pid, StartTimes.instant(pid, ticks)));
            }
            case 'F' -> {
                children.remove(token);
                c.started.completeExceptionally(new IOException(line.substring(b + 1)));
            }
            case 'E' -> {
                int s = line.indexOf(' ', b + 1);
                c.groupLeft = line.substring(s + 1).equals("1");
                c.exited.complete(Integer.parseInt(line.substring(b + 1, s)));
            }
            case 'D' -> {
                children.remove(token);
                c.drained.complete(null);
            }
            default -> log.atWarn().addKeyValue("line", line).log("unknown report from the launch supervisor");
        }
    }

    private void markDead(String why) {
        dead = true;
        var lost = new Lost(why);
        for (var c : List.copyOf(children.values())) {
            children.remove(c.token);
            c.started.completeExceptionally(lost);
            c.exited.completeExceptionally(lost);
            c.drained.completeExceptionally(lost);
        }
    }

    private static Charset nativeCharset() {
        try {
            return Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"));
        } catch (RuntimeException e) {
            return StandardCharsets.UTF_8;
        }
    }

    /**
     * A process's start instant from the start time in clock ticks in {@code /proc/PID/stat}, computed as the JDK
     * computes {@link ProcessHandle.Info#startInstant()} (boot time in ms plus ticks), so that re-adoption compares
     * equal values. Checked once against this JVM's own start; where it differs the JDK is asked per process.
     */
    static final class StartTimes {
        private static final long TICKS_PER_SECOND = 100;
        private static final long BOOT_MS = bootMillis();
        private static final boolean FORMULA_OK = checkFormula();

        private StartTimes() {
        }

        static Optional<Instant> instant(long pid, long ticks) {
            if (FORMULA_OK && ticks >= 0) return Optional.of(Instant.ofEpochMilli(BOOT_MS + ticks * 1000 / TICKS_PER_SECOND));
            return ProcessHandle.of(pid).flatMap(h -> h.info().startInstant());
        }

        private static long bootMillis() {
            try {
                for (String l : Files.readAllLines(Path.of("/proc/stat"))) {
                    if (l.startsWith("btime ")) return Long.parseLong(l.substring(6).trim()) * 1000;
                }
            } catch (IOException | RuntimeException e) {
                // not Linux: fall back to the JDK
            }
            return -1;
        }

        private static boolean checkFormula() {
            if (BOOT_MS < 0) return false;
            try {
                String stat = Files.readString(Path.of("/proc/self/stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                long ticks = Long.parseLong(f[19]);
                var expected = ProcessHandle.current().info().startInstant();
                return expected.isPresent() && expected.get().equals(Instant.ofEpochMilli(BOOT_MS + ticks * 1000 / TICKS_PER_SECOND));
            } catch (IOException | RuntimeException e) {
                return false;
            }
        }
    }
}
