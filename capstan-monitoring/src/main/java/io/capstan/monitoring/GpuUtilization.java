package io.capstan.monitoring;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * GPU utilisation per job, from {@code nvidia-smi}: {@code capstan_gpu_utilization_ratio{job}} is the mean
 * utilisation of the GPUs a running workload was given (through CUDA_VISIBLE_DEVICES), and
 * {@code capstan_gpu_memory_used_bytes{job}} their memory in use. Where nvidia-smi is missing, fails or a GPU reports
 * no figure ({@code [N/A]}), there is no series at all: nothing is guessed.
 */
public final class GpuUtilization {
    /** The query: one line per GPU. */
    static final List<String> QUERY = List.of("--query-gpu=index,utilization.gpu,memory.used", "--format=csv,noheader,nounits");

    /** One GPU's figures: utilisation in per cent and memory used in MiB. */
    public record Sample(int index, double utilizationPercent, double memoryUsedMiB) {
    }

    private final MultiGauge utilization;
    private final MultiGauge memory;
    private final Supplier<Map<String, List<Integer>>> jobs;
    private final Supplier<Optional<List<Sample>>> sampler;

    /**
     * @param jobs    running workloads by id, each with the GPU indices it was given (none: left out)
     * @param sampler the GPUs' figures now; empty when they cannot be read
     */
    public GpuUtilization(MeterRegistry meters, Supplier<Map<String, List<Integer>>> jobs, Supplier<Optional<List<Sample>>> sampler) {
        this.jobs = jobs;
        this.sampler = sampler;
        this.utilization = MultiGauge.builder("capstan.gpu.utilization.ratio")
                .description("Mean utilisation (0 to 1) of the GPUs a running job was given, from nvidia-smi").register(meters);
        this.memory = MultiGauge.builder("capstan.gpu.memory.used.bytes")
                .description("GPU memory in use on the GPUs a running job was given, from nvidia-smi").register(meters);
    }

    /** Samples the GPUs once and replaces every job's series; with no sample, removes them all. */
    public void refresh() {
        var byIndex = new HashMap<Integer, Sample>();
        sampler.get().ifPresent(samples -> samples.forEach(s -> byIndex.put(s.index(), s)));
        var utilizationRows = new ArrayList<MultiGauge.Row<?>>();
        var memoryRows = new ArrayList<MultiGauge.Row<?>>();
        if (!byIndex.isEmpty()) {
            jobs.get().forEach((job, gpus) -> {
                if (gpus.isEmpty() || !byIndex.keySet().containsAll(gpus)) return;
                double util = gpus.stream().mapToDouble(g -> byIndex.get(g).utilizationPercent()).average().orElseThrow() / 100.0;
                double used = gpus.stream().mapToDouble(g -> byIndex.get(g).memoryUsedMiB()).sum() * 1024 * 1024;
                utilizationRows.add(MultiGauge.Row.of(Tags.of("job", job, "gpus", gpus.toString()), util));
                memoryRows.add(MultiGauge.Row.of(Tags.of("job", job, "gpus", gpus.toString()), used));
            });
        }
        utilization.register(utilizationRows, true);
        memory.register(memoryRows, true);
    }

    /**
     * Parses {@code nvidia-smi --query-gpu=index,utilization.gpu,memory.used --format=csv,noheader} output, with or
     * without {@code nounits} ({@code 0, 87 %, 40536 MiB} or {@code 0, 87, 40536}). A GPU whose figures read
     * {@code [N/A]} or {@code [Not Supported]} is left out.
     *
     * @throws IllegalArgumentException for a line that is not three fields of numbers
     */
    public static List<Sample> parse(String csv) {
        var out = new ArrayList<Sample>();
        for (var line : csv.split("\n")) {
            if (line.isBlank()) continue;
            var cells = line.split(",");
            if (cells.length != 3) throw new IllegalArgumentException("nvidia-smi line has " + cells.length + " fields, not 3: " + line.strip());
            var util = cells[1].strip();
            var mem = cells[2].strip();
            if (util.startsWith("[") || mem.startsWith("[")) continue;
            try {
                out.add(new Sample(Integer.parseInt(cells[0].strip()), Double.parseDouble(strip(util, "%")), Double.parseDouble(strip(mem, "MiB"))));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("nvidia-smi line is not numbers: " + line.strip());
            }
        }
        return out;
    }

    private static String strip(String cell, String unit) {
        return cell.endsWith(unit) ? cell.substring(0, cell.length() - unit.length()).strip() : cell;
    }

    /**
     * Runs {@code nvidia-smi} from {@code path} (a PATH-style list of folders), killed after {@code deadline}; empty
     * when it is not there, fails, times out or prints what {@link #parse} refuses.
     */
    public static Optional<List<Sample>> query(String path, Duration deadline) {
        Path program = null;
        for (var dir : path.split(java.io.File.pathSeparator)) {
            if (dir.isEmpty()) continue;
            var candidate = Path.of(dir, "nvidia-smi");
            if (Files.isExecutable(candidate)) {
                program = candidate;
                break;
            }
        }
        if (program == null) return Optional.empty();
        Path out = null;
        try {
            out = Files.createTempFile("capstan-gpu-util", ".csv");
            var command = new ArrayList<String>();
            command.add(program.toString());
            command.addAll(QUERY);
            var process = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            if (!process.waitFor(deadline.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                return Optional.empty();
            }
            if (process.exitValue() != 0) return Optional.empty();
            return Optional.of(parse(Files.readString(out)));
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        } finally {
            if (out != null) {
                try {
                    Files.deleteIfExists(out);
                } catch (IOException ignored) {
                    // a temporary file left behind
                }
            }
        }
    }
}
