package io.capstan.backend;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Numbers the lines of {@code stdout.log} and {@code stderr.log} as one log. Each {@link #refresh} appends the
 * complete lines that arrived since the last one, first stdout's, then stderr's, as segments; so the combined order
 * across the two streams is the order in which we read them (refreshes run every 200 ms while the workload runs),
 * not the exact order of writes. Once a number is given to a line it never changes; the index is saved to
 * {@code log.idx} when the workload ends so that numbers also survive a restart. Thread-safe.
 */
final class LogIndex {
    static final long SEGMENT_BYTES = 1 << 20;
    static final int MAX_LINE_BYTES = 16 * 1024;

    record Segment(LogLine.Stream stream, long startByte, long endByte, long firstLine, long lineCount, Instant at) {
    }

    private final Path stdout;
    private final Path stderr;
    private final Clock clock;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition grew = lock.newCondition();
    // All below guarded by lock.
    private final List<Segment> segments = new ArrayList<>();
    private long stdoutOffset;
    private long stderrOffset;
    private long lineCount;
    private boolean sealed;

    LogIndex(Path stdout, Path stderr, Clock clock) {
        this.stdout = stdout;
        this.stderr = stderr;
        this.clock = clock;
    }

    /** Indexes new complete lines; with {@code seal}, also a final line without newline, and nothing after. */
    void refresh(boolean seal) {
        lock.lock();
        try {
            if (sealed) return;
            long before = lineCount;
            stdoutOffset = scan(LogLine.Stream.STDOUT, stdout, stdoutOffset, seal);
            stderrOffset = scan(LogLine.Stream.STDERR, stderr, stderrOffset, seal);
            sealed = seal;
            if (lineCount > before || seal) grew.signalAll();
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

    /** Waits up to {@code wait} for more than {@code lines} lines or a seal; returns at once if there already are. */
    void awaitMoreThan(long lines, Duration wait) throws InterruptedException {
        lock.lock();
        try {
            if (lineCount <= lines && !sealed) grew.await(wait.toNanos(), TimeUnit.NANOSECONDS);
        } finally {
            lock.unlock();
        }
    }

    /** Up to {@code max} lines starting at line {@code from}. */
    List<LogLine> read(long from, int max) {
        List<Segment> view;
        lock.lock();
        try {
            int i = segmentOf(from);
            if (i < 0) return List.of();
            view = List.copyOf(segments.subList(i, segments.size()));
        } finally {
            lock.unlock();
        }
        // Segments are immutable and the files only grow, so reading needs no lock.
        var out = new ArrayList<LogLine>();
        for (Segment s : view) {
            if (out.size() >= max) break;
            readSegment(s, Math.max(0, from - s.firstLine()), max - out.size(), out);
        }
        return out;
    }

    private int segmentOf(long line) {
        int lo = 0, hi = segments.size() - 1, found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (segments.get(mid).firstLine() <= line) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        if (found < 0) return -1;
        var s = segments.get(found);
        return line < s.firstLine() + s.lineCount() ? found : -1;
    }

    private void readSegment(Segment s, long skip, int max, List<LogLine> out) {
        Path file = s.stream() == LogLine.Stream.STDOUT ? stdout : stderr;
        try (var ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ch.position(s.startByte());
            InputStream in = new BufferedInputStream(Channels.newInputStream(ch), 64 * 1024);
            long remaining = s.endByte() - s.startByte();
            var line = new ByteArrayOutputStream();
            long index = 0;
            int added = 0;
            while (remaining > 0 && added < max && index < s.lineCount()) {
                int b = in.read();
                if (b < 0) break;
                remaining--;
                boolean end = b == '\n';
                if (!end && line.size() < MAX_LINE_BYTES) line.write(b);
                if (end || remaining == 0) {
                    if (index >= skip) {
                        out.add(new LogLine(s.firstLine() + index, s.stream(), s.at(), text(line)));
                        added++;
                    }
                    index++;
                    line.reset();
                }
            }
        } catch (NoSuchFileException e) {
            // The workload was removed while we read; there is nothing more to return.
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read log " + file, e);
        }
    }

    private static String text(ByteArrayOutputStream line) {
        String t = line.toString(StandardCharsets.UTF_8);
        return t.endsWith("\r") ? t.substring(0, t.length() - 1) : t;
    }

    private long scan(LogLine.Stream stream, Path file, long offset, boolean seal) {
        try {
            long size;
            try {
                size = Files.size(file);
            } catch (NoSuchFileException e) {
                return offset;
            }
            if (size <= offset) return offset;
            Instant at = clock.instant();
            try (var ch = FileChannel.open(file, StandardOpenOption.READ)) {
                var buf = ByteBuffer.allocate(64 * 1024);
                long pos = offset, segStart = offset, lastEnd = offset, lines = 0;
                ch.position(offset);
                while (pos < size) {
                    buf.clear();
                    if (size - pos < buf.capacity()) buf.limit((int) (size - pos));
                    int n = ch.read(buf);
                    if (n <= 0) break;
                    for (int i = 0; i < n; i++) {
                        if (buf.get(i) != '\n') continue;
                        lines++;
                        lastEnd = pos + i + 1;
                        // Bounded segments keep a read from line N cheap: it skips at most one segment's bytes.
                        if (lastEnd - segStart >= SEGMENT_BYTES) {
                            add(stream, segStart, lastEnd, lines, at);
                            segStart = lastEnd;
                            lines = 0;
                        }
                    }
                    pos += n;
                }
                if (lines > 0) add(stream, segStart, lastEnd, lines, at);
                if (seal && pos > lastEnd) {
                    add(stream, lastEnd, pos, 1, at);
                    lastEnd = pos;
                }
                return lastEnd;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot index log " + file, e);
        }
    }

    private void add(LogLine.Stream stream, long start, long end, long lines, Instant at) {
        segments.add(new Segment(stream, start, end, lineCount, lines, at));
        lineCount += lines;
    }

    /** Writes the index to {@code file} atomically. */
    void save(Path file) {
        var sb = new StringBuilder();
        lock.lock();
        try {
            sb.append("v1 ").append(sealed).append(' ').append(stdoutOffset).append(' ').append(stderrOffset).append('\n');
            for (var s : segments) {
                sb.append(s.stream() == LogLine.Stream.STDOUT ? 'O' : 'E').append(' ').append(s.startByte()).append(' ')
                        .append(s.endByte()).append(' ').append(s.firstLine()).append(' ').append(s.lineCount()).append(' ')
                        .append(s.at().toEpochMilli()).append('\n');
            }
        } finally {
            lock.unlock();
        }
        WorkloadDir.writeAtomically(file, sb.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** Loads a saved index; a missing or unreadable file leaves this index empty, to be rebuilt from the logs. */
    void load(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (NoSuchFileException e) {
            return;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read log index " + file + "; delete it to rebuild it from the logs", e);
        }
        lock.lock();
        try {
            if (lines.isEmpty()) return;
            String[] h = lines.getFirst().split(" ");
            if (h.length != 4 || !h[0].equals("v1")) return;
            var loaded = new ArrayList<Segment>();
            long count = 0;
            for (String l : lines.subList(1, lines.size())) {
                String[] f = l.split(" ");
                var s = new Segment(f[0].equals("O") ? LogLine.Stream.STDOUT : LogLine.Stream.STDERR, Long.parseLong(f[1]),
                        Long.parseLong(f[2]), Long.parseLong(f[3]), Long.parseLong(f[4]), Instant.ofEpochMilli(Long.parseLong(f[5])));
                if (s.firstLine() != count) return;
                loaded.add(s);
                count += s.lineCount();
            }
            segments.clear();
            segments.addAll(loaded);
            lineCount = count;
            sealed = Boolean.parseBoolean(h[1]);
            stdoutOffset = Long.parseLong(h[2]);
            stderrOffset = Long.parseLong(h[3]);
        } catch (RuntimeException e) {
            // A torn or foreign index: start over from the logs, which are the source of truth.
            segments.clear();
            lineCount = 0;
            stdoutOffset = 0;
            stderrOffset = 0;
            sealed = false;
        } finally {
            lock.unlock();
        }
    }
}
