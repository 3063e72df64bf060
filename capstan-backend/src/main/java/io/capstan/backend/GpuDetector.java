package io.capstan.backend;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the GPUs a {@link LocalBackend} may hand out through {@code CUDA_VISIBLE_DEVICES}. Called once, when the
 * backend starts; an implementation must return within its own deadline and never throws for a machine without GPUs.
 */
@FunctionalInterface
public interface GpuDetector {

    /** The GPU indices on this machine, in order; empty when there are none. */
    List<Integer> detect();

    /** A machine without GPUs. */
    static GpuDetector none() {
        return List::of;
    }

    /** A fixed list of GPU indices, for tests and for operators who want to hand out only some GPUs. */
    static GpuDetector fixed(List<Integer> indices) {
        var copy = List.copyOf(indices);
        return () -> copy;
    }

    /**
     * Runs {@code nvidia-smi --query-gpu=index --format=csv,noheader} when it is on the PATH, killing it after
     * {@code deadline}. No nvidia-smi, a failure or a timeout all mean zero GPUs, logged as a warning.
     */
    static GpuDetector nvidiaSmi(Duration deadline) {
        Objects.requireNonNull(deadline, "deadline");
        return () -> NvidiaSmi.query(deadline);
    }
}

/** The nvidia-smi probe behind {@link GpuDetector#nvidiaSmi}. */
final class NvidiaSmi {
    private static final Logger log = LoggerFactory.getLogger(NvidiaSmi.class);

    private NvidiaSmi() {
    }

    static List<Integer> query(Duration deadline) {
        Optional<Path> program = SessionLauncher.findOnPath("nvidia-smi", System.getenv().getOrDefault("PATH", ""), Path.of("."));
        if (program.isEmpty()) return List.of();
        Path out = null;
        try {
            out = Files.createTempFile("capstan-nvidia-smi", ".txt");
            // Output goes to a file, not a pipe, so a chatty or hung nvidia-smi can never block us past the deadline.
            var process = new ProcessBuilder(program.get().toString(), "--query-gpu=index", "--format=csv,noheader")
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectOutput(out.toFile())
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (!process.waitFor(deadline.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                log.atWarn().addKeyValue("deadline", deadline).log("nvidia-smi did not answer in time; assuming no GPUs");
                return List.of();
            }
            if (process.exitValue() != 0) {
                log.atWarn().addKeyValue("exitCode", process.exitValue()).log("nvidia-smi failed; assuming no GPUs");
                return List.of();
            }
            var indices = new ArrayList<Integer>();
            for (String line : Files.readAllLines(out)) {
                if (!line.isBlank()) indices.add(Integer.parseInt(line.trim()));
            }
            return List.copyOf(indices);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            log.atWarn().log("interrupted while asking nvidia-smi for GPUs; assuming no GPUs");
            return List.of();
        } catch (IOException | NumberFormatException e) {
            log.atWarn().addKeyValue("error", e.toString()).log("cannot read GPUs from nvidia-smi; assuming no GPUs");
            return List.of();
        } finally {
            if (out != null) {
                try {
                    Files.deleteIfExists(out);
                } catch (IOException e) {
                    log.atWarn().addKeyValue("file", out).addKeyValue("error", e.toString()).log("cannot delete temporary file");
                }
            }
        }
    }
}
