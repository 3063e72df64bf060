package io.capstan.kubernetes;

import io.capstan.backend.LogLine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A workload's log as Capstan keeps it, {@code <state>/<id>/pod.log}: the lines the kubelet served, each as it came
 * with {@code timestamps=true} ({@code <RFC 3339 time> <text>}), so that they outlive the pod and a reconnect after a
 * dropped stream or a restart asks only for lines since the last time stored. Numbers count from 0 in file order and
 * never change. Kubernetes serves stdout and stderr as one stream, so every line is {@link LogLine.Stream#STDOUT}.
 * Thread-safe.
 */
final class PodLog {
    static final int MAX_LINE_CHARS = 16 * 1024;

    private final Path file;
    private final Clock clock;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition grew = lock.newCondition();
    // Guarded by lock: byte offset of each line's start, and the end of the last.
    private long[] starts = new long[64];
    private long lineCount;
    private long end;
    private Optional<Instant> lastAt = Optional.empty();
    private long linesAtLastAt;
    private boolean sealed;

    PodLog(Path file, Clock clock) {
        this.file = file;
        this.clock = clock;
        load();
    }

    /** Where a reconnect resumes: lines at {@code at} of which {@code seen} are stored already. */
    record Resume(Optional<Instant> at, long seen) {
    }

    Resume resume() {
        lock.lock();
        try {
            return new Resume(lastAt, linesAtLastAt);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Appends the lines of a stream that resumed at {@code resume}, skipping those it repeats (the kubelet's
     * {@code sinceTime} includes lines at that very time).
     */
    final class Appender {
        private final Resume from;
        private long repeatsSkipped;

        Appender(Resume from) {
            this.from = from;
        }

        void accept(String raw) {
            var at = timestamp(raw);
            if (from.at().isPresent() && at.isPresent()) {
                int cmp = at.get().compareTo(from.at().get());
                if (cmp < 0) return;
                if (cmp == 0 && repeatsSkipped < from.seen()) {
                    repeatsSkipped++;
                    return;
                }
            }
            append(raw, at);
        }
    }

    Appender appender() {
        return new Appender(resume());
    }

    private void append(String raw, Optional<Instant> at) {
        var line = raw.length() > MAX_LINE_CHARS + 40 ? raw.substring(0, MAX_LINE_CHARS + 40) : raw;
        var bytes = (line.replace('\n', ' ') + "\n").getBytes(StandardCharsets.UTF_8);
        lock.lock();
        try {
            if (sealed) return;
            try (var ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
                var buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) ch.write(buf);
            }
            addLine(end);
            end += bytes.length;
            if (at.isPresent()) {
                if (lastAt.equals(at)) linesAtLastAt++;
                else {
                    lastAt = at;
                    linesAtLastAt = 1;
                }
            }
            grew.signalAll();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + file, e);
        } finally {
            lock.unlock();
        }
    }

    /** No more lines will come: wakes followers. */
    void seal() {
        lock.lock();
        try {
            sealed = true;
            grew.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Whether every line has been copied ({@link #seal} was called). */
    boolean isSealed() {
        lock.lock();
        try {
            return sealed;
        } finally {
            lock.unlock();
        }
    }

    long lineCount() {
        lock.lock();
        try {
            return lineCount;
        } finally {
            lock.unlock();
        }
    }

    void awaitMoreThan(long lines, Duration wait) throws InterruptedException {
        lock.lock();
        try {
            long nanos = wait.toNanos();
            while (lineCount <= lines && !sealed && nanos > 0) nanos = grew.awaitNanos(nanos);
        } finally {
            lock.unlock();
        }
    }

    /** Up to {@code max} lines from line {@code from}. */
    List<LogLine> read(long from, int max) {
        long first, last, startByte, endByte;
        long[] offsets;
        lock.lock();
        try {
            if (from >= lineCount || max <= 0) return List.of();
            first = Math.max(0, from);
            last = Math.min(lineCount, first + max);
            offsets = Arrays.copyOfRange(starts, (int) first, (int) last);
            startByte = starts[(int) first];
            endByte = last < lineCount ? starts[(int) last] : end;
        } finally {
            lock.unlock();
        }
        byte[] bytes = new byte[(int) (endByte - startByte)];
        try (var ch = FileChannel.open(file, StandardOpenOption.READ)) {
            var buf = ByteBuffer.wrap(bytes);
            long pos = startByte;
            while (buf.hasRemaining()) {
                int n = ch.read(buf, pos);
                if (n < 0) break;
                pos += n;
            }
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read log " + file, e);
        }
        var out = new ArrayList<LogLine>(offsets.length);
        for (int i = 0; i < offsets.length; i++) {
            int s = (int) (offsets[i] - startByte);
            int e = i + 1 < offsets.length ? (int) (offsets[i + 1] - startByte) : bytes.length;
            var raw = new String(bytes, s, Math.max(0, e - s - 1), StandardCharsets.UTF_8);
            var at = timestamp(raw);
            var text = at.isPresent() ? raw.substring(raw.indexOf(' ') + 1) : raw;
            if (text.length() > MAX_LINE_CHARS) text = text.substring(0, MAX_LINE_CHARS);
            out.add(new LogLine(first + i, LogLine.Stream.STDOUT, at.orElseGet(clock::instant), text));
        }
        return out;
    }

    List<LogLine> tail(int max) {
        long count = lineCount();
        return read(Math.max(0, count - max), max);
    }

    /** The time the kubelet put before {@code raw}, if it starts with one. */
    static Optional<Instant> timestamp(String raw) {
        int space = raw.indexOf(' ');
        var head = space < 0 ? raw : raw.substring(0, space);
        if (head.length() < 20 || head.charAt(4) != '-' || !head.endsWith("Z")) return Optional.empty();
        try {
            return Optional.of(Instant.parse(head));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    private void addLine(long start) {
        if (lineCount == starts.length) starts = Arrays.copyOf(starts, starts.length * 2);
        starts[(int) lineCount++] = start;
    }

    private void load() {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read log " + file, e);
        }
        int lineStart = 0;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] != '\n') continue;
            addLine(lineStart);
            var at = timestamp(new String(bytes, lineStart, Math.min(40, i - lineStart), StandardCharsets.UTF_8));
            if (at.isPresent()) {
                if (lastAt.equals(at)) linesAtLastAt++;
                else {
                    lastAt = at;
                    linesAtLastAt = 1;
                }
            }
            lineStart = i + 1;
        }
        // A torn last line (a crash mid-write) is dropped: the resume re-fetches it.
        end = lineStart;
        if (lineStart < bytes.length) {
            try (var ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.truncate(lineStart);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot repair log " + file, e);
            }
        }
    }
}
