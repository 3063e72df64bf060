package io.capstan.backend;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Liveness and killing of a workload's process tree. Every workload runs in its own session (setsid), so its
 * process group id is the wrapper's pid; we signal both the descendants that {@link ProcessHandle#descendants()}
 * still sees and every member of the process group, which also catches grandchildren whose parent already died.
 *
 * <p>Zombies count as gone: the init process of a container often never reaps orphans, and
 * {@link ProcessHandle#isAlive()} reports a zombie as alive.
 */
final class ProcessTree {
    private static final Logger log = LoggerFactory.getLogger(ProcessTree.class);
    private static final Path PROC = Path.of("/proc");
    private static final Duration POLL = Duration.ofMillis(50);
    private static final Duration KILL_WAIT = Duration.ofSeconds(5);

    private ProcessTree() {
    }

    /** The running process {@code pid}, if its start time is still {@code expectedStart} (guards against PID reuse). */
    static Optional<ProcessHandle> find(long pid, Optional<Instant> expectedStart) {
        return ProcessHandle.of(pid).filter(ProcessTree::isRunning).filter(h -> {
            if (expectedStart.isEmpty()) return true;
            return h.info().startInstant().map(expectedStart.get()::equals).orElse(false);
        });
    }

    static boolean isRunning(ProcessHandle h) {
        return h.isAlive() && !isZombie(h.pid());
    }

    static boolean isRunning(long pid) {
        return ProcessHandle.of(pid).map(ProcessTree::isRunning).orElse(false);
    }

    /**
     * Stops the tree rooted at the session leader {@code root}: SIGTERM to descendants, then the root, then the
     * group; after {@code grace}, SIGKILL the same way. Returns once nothing of it runs, or after a bounded wait.
     */
    static void terminate(ProcessHandle root, Duration grace) {
        long pgid = root.pid();
        var seen = new LinkedHashMap<Long, ProcessHandle>();
        signal(root, pgid, false, seen);
        if (awaitGone(seen, pgid, grace)) return;
        log.atInfo().addKeyValue("pgid", pgid).addKeyValue("survivors", survivors(seen, pgid)).log("processes outlived SIGTERM; sending SIGKILL");
        signal(root, pgid, true, seen);
        if (!awaitGone(seen, pgid, KILL_WAIT)) {
            log.atWarn().addKeyValue("pgid", pgid).log("processes survived SIGKILL; giving up on them");
        }
    }

    /** Stops processes left in the group of an exited session leader, such as daemons a workload started. */
    static void terminateGroup(long pgid, Duration grace) {
        if (groupMembers(pgid).isEmpty()) return;
        var seen = new LinkedHashMap<Long, ProcessHandle>();
        signalGroup(pgid, false, seen);
        if (awaitGone(seen, pgid, grace)) return;
        signalGroup(pgid, true, seen);
        awaitGone(seen, pgid, KILL_WAIT);
    }

    private static void signal(ProcessHandle root, long pgid, boolean force, Map<Long, ProcessHandle> seen) {
        // Descendants before the root, so a shell that traps SIGTERM cannot respawn them before they are signalled.
        List<ProcessHandle> descendants = root.descendants().toList();
        for (var d : descendants) {
            seen.putIfAbsent(d.pid(), d);
            if (force) d.destroyForcibly(); else d.destroy();
        }
        seen.putIfAbsent(root.pid(), root);
        if (force) root.destroyForcibly(); else root.destroy();
        signalGroup(pgid, force, seen);
    }

    private static void signalGroup(long pgid, boolean force, Map<Long, ProcessHandle> seen) {
        if (Files.isDirectory(PROC)) {
            for (long pid : groupMembers(pgid)) {
                ProcessHandle.of(pid).ifPresent(h -> {
                    seen.putIfAbsent(pid, h);
                    if (force) h.destroyForcibly(); else h.destroy();
                });
            }
            return;
        }
        // Without /proc we cannot list the group, so ask kill(1) to signal it.
        try {
            var p = new ProcessBuilder("kill", "-s", force ? "KILL" : "TERM", "--", "-" + pgid)
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(2, TimeUnit.SECONDS)) p.destroyForcibly();
        } catch (IOException e) {
            log.atWarn().addKeyValue("pgid", pgid).addKeyValue("error", e.toString()).log("cannot signal process group");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static boolean awaitGone(Map<Long, ProcessHandle> seen, long pgid, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            boolean anyRunning = seen.values().stream().anyMatch(ProcessTree::isRunning) || !groupMembers(pgid).isEmpty();
            if (!anyRunning) return true;
            if (System.nanoTime() - deadline >= 0 || Thread.currentThread().isInterrupted()) return false;
            LockSupport.parkNanos(POLL.toNanos());
        }
    }

    private static List<String> survivors(Map<Long, ProcessHandle> seen, long pgid) {
        var pids = new java.util.TreeSet<Long>(groupMembers(pgid));
        seen.values().stream().filter(ProcessTree::isRunning).forEach(h -> pids.add(h.pid()));
        return pids.stream().map(pid -> pid + ":" + ProcessHandle.of(pid).flatMap(h -> h.info().command()).orElse("?")).toList();
    }

    /** Running (non-zombie) members of process group {@code pgid}; empty where /proc is missing. */
    static List<Long> groupMembers(long pgid) {
        if (!Files.isDirectory(PROC)) return List.of();
        var members = new ArrayList<Long>();
        try (Stream<Path> dirs = Files.list(PROC)) {
            for (Path dir : (Iterable<Path>) dirs::iterator) {
                String name = dir.getFileName().toString();
                if (name.isEmpty() || !Character.isDigit(name.charAt(0))) continue;
                statFields(Long.parseLong(name)).ifPresent(f -> {
                    if (f.pgrp() == pgid && f.state() != 'Z' && f.state() != 'X') members.add(Long.parseLong(name));
                });
            }
        } catch (IOException e) {
            log.atWarn().addKeyValue("error", e.toString()).log("cannot list /proc");
        }
        return members;
    }

    private static boolean isZombie(long pid) {
        return statFields(pid).map(f -> f.state() == 'Z' || f.state() == 'X').orElse(false);
    }

    private record Stat(char state, long pgrp) {
    }

    /** Fields of /proc/PID/stat after the command name, which may itself contain spaces and parentheses. */
    private static Optional<Stat> statFields(long pid) {
        try {
            String stat = Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat"));
            int close = stat.lastIndexOf(')');
            if (close < 0) return Optional.empty();
            String[] f = stat.substring(close + 2).split(" ");
            // f[0]=state f[1]=ppid f[2]=pgrp
            return Optional.of(new Stat(f[0].charAt(0), Long.parseLong(f[2])));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            // The process vanished while we read, or /proc is not Linux's: treat as unknown.
            return Optional.empty();
        }
    }
}
