package io.capstan.backend;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * One workload's folder, {@code <state>/<id>/}: {@code spec.json}, {@code state.json}, {@code stdout.log},
 * {@code stderr.log}, {@code exit_code} (written by the launch supervisor or the wrapper), {@code log.idx} (not written
 * for an empty log), {@code wrapper.log} and
 * {@code work/} (the default working directory). JSON files are replaced atomically (temp file, rename), so a
 * crash of the server leaves either the old or the new version. They are not fsynced: what a killed process wrote
 * is in the page cache and survives it, and after a power loss every workload is dead anyway and the resource store
 * itself has only written back what its last second allowed; an fsync cost 10-30 ms, several times per workload.
 */
record WorkloadDir(Path root) {

    Path specFile() { return root.resolve("spec.json"); }
    Path stateFile() { return root.resolve("state.json"); }
    Path stdout() { return root.resolve("stdout.log"); }
    Path stderr() { return root.resolve("stderr.log"); }
    Path exitCodeFile() { return root.resolve("exit_code"); }
    Path launchFile() { return root.resolve("launch"); }
    Path logIndex() { return root.resolve("log.idx"); }
    Path wrapperLog() { return root.resolve("wrapper.log"); }
    Path defaultWorkDir() { return root.resolve("work"); }
    /** Holds the container's name while the workload runs in one (written before the start). */
    Path containerFile() { return root.resolve("container"); }

    void writeSpec(WorkloadSpec spec) {
        ObjectNode n = Json.json().createObjectNode();
        n.put("id", spec.id());
        var cmd = n.putArray("command");
        spec.command().forEach(cmd::add);
        var env = n.putObject("env");
        spec.env().forEach(env::put);
        spec.workingDir().ifPresent(p -> n.put("workingDir", p.toString()));
        n.put("cpus", spec.requests().cpus());
        n.put("memoryBytes", spec.requests().memoryBytes());
        n.put("gpuCount", spec.requests().gpuCount());
        spec.timeout().ifPresent(t -> n.put("timeout", t.toString()));
        n.put("priority", spec.priority());
        spec.image().ifPresent(i -> n.put("image", i));
        spec.namespace().ifPresent(ns -> n.put("namespace", ns));
        spec.gang().ifPresent(g -> n.putObject("gang").put("name", g.name()).put("size", g.size()));
        var c = spec.container();
        if (!c.equals(ContainerOptions.DEFAULT)) {
            var cn = n.putObject("container");
            cn.put("execution", c.execution().name());
            c.pullPolicy().ifPresent(p -> cn.put("pullPolicy", p.name()));
            c.workingDir().ifPresent(w -> cn.put("workingDir", w));
            var mounts = cn.putArray("mounts");
            for (var m : c.mounts()) {
                mounts.addObject().put("hostPath", m.hostPath().toString()).put("containerPath", m.containerPath()).put("readOnly", m.readOnly());
            }
        }
        writeAtomically(specFile(), n);
    }

    WorkloadSpec readSpec() throws IOException {
        JsonNode n = Json.json().readTree(specFile().toFile());
        var command = new ArrayList<String>();
        n.path("command").forEach(c -> command.add(c.asText()));
        var env = new LinkedHashMap<String, String>();
        n.path("env").properties().forEach(e -> env.put(e.getKey(), e.getValue().asText()));
        return new WorkloadSpec(n.path("id").asText(), command, env,
                text(n, "workingDir").map(Path::of),
                new ResourceRequest(n.path("cpus").asDouble(), n.path("memoryBytes").asLong(), n.path("gpuCount").asInt()),
                text(n, "timeout").map(Duration::parse),
                n.path("priority").asInt(),
                text(n, "image"),
                readContainer(n.path("container")),
                text(n, "namespace"),
                n.path("gang").isObject() ? Optional.of(new WorkloadSpec.Gang(n.path("gang").path("name").asText(), n.path("gang").path("size").asInt()))
                        : Optional.empty());
    }

    private static ContainerOptions readContainer(JsonNode c) {
        if (c.isMissingNode()) return ContainerOptions.DEFAULT;
        var mounts = new ArrayList<ContainerOptions.Mount>();
        c.path("mounts").forEach(m -> mounts.add(new ContainerOptions.Mount(Path.of(m.path("hostPath").asText()),
                m.path("containerPath").asText(), m.path("readOnly").asBoolean())));
        return new ContainerOptions(ContainerOptions.Execution.valueOf(c.path("execution").asText("AUTO")),
                text(c, "pullPolicy").map(ContainerOptions.PullPolicy::valueOf), mounts, text(c, "workingDir"));
    }

    void writeState(WorkloadRecord t) {
        var s = t.state();
        ObjectNode n = Json.json().createObjectNode();
        n.put("phase", s.phase().name());
        n.put("message", s.message());
        s.exitCode().ifPresent(c -> n.put("exitCode", c));
        s.startedAt().ifPresent(i -> n.put("startedAt", i.toString()));
        s.finishedAt().ifPresent(i -> n.put("finishedAt", i.toString()));
        var gpus = n.putArray("gpus");
        s.gpus().forEach(gpus::add);
        n.put("sequence", t.sequence());
        n.put("queuedAt", t.queuedAt().toString());
        t.launch().ifPresent(l -> {
            n.put("pid", l.pid());
            l.processStart().ifPresent(i -> n.put("processStart", i.toString()));
        });
        t.stop().ifPresent(st -> {
            n.put("stopPhase", st.phase().name());
            n.put("stopMessage", st.message());
        });
        writeAtomically(stateFile(), n);
    }

    WorkloadRecord readState(String id) throws IOException {
        JsonNode n = Json.json().readTree(stateFile().toFile());
        var gpus = new ArrayList<Integer>();
        n.path("gpus").forEach(g -> gpus.add(g.asInt()));
        var state = new WorkloadState(id, WorkloadPhase.valueOf(n.path("phase").asText()),
                n.hasNonNull("exitCode") ? Optional.of(n.get("exitCode").asInt()) : Optional.empty(),
                n.path("message").asText(""),
                text(n, "startedAt").map(Instant::parse),
                text(n, "finishedAt").map(Instant::parse),
                gpus);
        Optional<WorkloadRecord.Launch> launch = n.hasNonNull("pid")
                ? Optional.of(new WorkloadRecord.Launch(n.get("pid").asLong(), text(n, "processStart").map(Instant::parse)))
                : Optional.empty();
        Optional<WorkloadRecord.Stop> stop = text(n, "stopPhase")
                .map(p -> new WorkloadRecord.Stop(WorkloadPhase.valueOf(p), n.path("stopMessage").asText("")));
        return new WorkloadRecord(state, n.path("sequence").asLong(),
                text(n, "queuedAt").map(Instant::parse).orElse(Instant.EPOCH), launch, stop);
    }

    /**
     * The process the launch supervisor recorded right after forking it ({@code pid startTicks}), if it recorded one;
     * an unreadable record counts as none.
     */
    Optional<WorkloadRecord.Launch> readLaunch() {
        try {
            var fields = Files.readString(launchFile()).trim().split(" ");
            long pid = Long.parseLong(fields[0]);
            long ticks = fields.length > 1 ? Long.parseLong(fields[1]) : -1;
            return pid > 0 ? Optional.of(new WorkloadRecord.Launch(pid, LaunchSupervisor.StartTimes.instant(pid, ticks))) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The code the wrapper recorded when the workload's main process ended, if it did. */
    Optional<Integer> readExitCode() {
        try {
            return Optional.of(Integer.parseInt(Files.readString(exitCodeFile()).trim()));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + exitCodeFile(), e);
        } catch (NumberFormatException e) {
            // The wrapper writes the file with a rename, so garbage here means someone else wrote it.
            return Optional.of(-1);
        }
    }

    void delete() throws IOException {
        // A cancelled workload's launch supervisor may still write its last files while it exits, so a folder emptied
        // a moment ago can hold a new file: walk it again until it is gone.
        for (int attempt = 1; ; attempt++) {
            if (!Files.exists(root)) return;
            try (Stream<Path> all = Files.walk(root)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
                return;
            } catch (java.nio.file.DirectoryNotEmptyException | UncheckedIOException e) {
                if (attempt == 50) throw e;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while deleting " + root);
            }
        }
    }

    private static Optional<String> text(JsonNode n, String field) {
        return n.hasNonNull(field) ? Optional.of(n.get(field).asText()) : Optional.empty();
    }

    static void writeAtomically(Path target, JsonNode n) {
        try {
            writeAtomically(target, WRITER.writeValueAsBytes(n));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serialise " + target, e);
        }
    }

    /** Compact: these files are for the backend to read back, and pretty-printing each was most of a write's time. */
    private static final com.fasterxml.jackson.databind.ObjectWriter WRITER = Json.json().writer();
    private static final String TEMP_TAG = "." + ProcessHandle.current().pid() + ".";
    private static final java.util.concurrent.atomic.AtomicLong TEMP_COUNTER = new java.util.concurrent.atomic.AtomicLong();
    private static final java.util.Set<StandardOpenOption> TEMP_OPEN = java.util.Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    private static final java.nio.file.attribute.FileAttribute<?> OWNER_ONLY =
            java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));

    static void writeAtomically(Path target, byte[] bytes) {
        // A unique temp name (pid and counter): two backends on one folder (a crashed server still exiting) must not
        // collide. Readable by the owner only, as Files.createTempFile makes it (a spec may carry secrets in its env),
        // but opened once instead of created and then opened again.
        Path tmp = target.resolveSibling("." + target.getFileName() + TEMP_TAG + TEMP_COUNTER.incrementAndGet() + ".tmp");
        try {
            try (var ch = openTemp(tmp)) {
                var buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) ch.write(buf);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            var failure = new UncheckedIOException("cannot write %s; check that the folder is writable and the disk has space"
                    .formatted(target), e);
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException cleanup) {
                failure.addSuppressed(cleanup);
            }
            throw failure;
        }
    }

    private static FileChannel openTemp(Path tmp) throws IOException {
        try {
            return FileChannel.open(tmp, TEMP_OPEN, OWNER_ONLY);
        } catch (UnsupportedOperationException e) {
            return FileChannel.open(tmp, TEMP_OPEN);
        }
    }
}
