package io.capstan.backend;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Per-launch cost of {@link LocalBackend}: N {@code sh -c true} workloads requesting nothing, on a fresh backend, until
 * all have finished. Prints wall time, this JVM's CPU and its children's CPU (reaped children plus the launch
 * supervisor, which outlives the run). Only runs with {@code -Dcapstan.bench=true}; see bench/launch-bench.sh.
 */
@EnabledIfSystemProperty(named = "capstan.bench", matches = "true")
class LaunchBench {
    static {
        // Two INFO lines per workload through surefire's pipe would be measured too; this measures the backend.
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
    }

    @TempDir
    Path tmp;

    @Test
    void launches() throws Exception {
        int n = Integer.getInteger("capstan.bench.n", 500);
        int rounds = Integer.getInteger("capstan.bench.rounds", 3);
        run(tmp.resolve("warm"), 100, false);
        String jfr = System.getProperty("capstan.bench.jfr", "");
        jdk.jfr.Recording recording = null;
        if (!jfr.isEmpty()) {
            recording = new jdk.jfr.Recording();
            recording.enable("jdk.ExecutionSample").withPeriod(Duration.ofMillis(2));
            recording.enable("jdk.CPUTimeSample").with("throttle", "2ms");
            recording.enable("jdk.NativeMethodSample").withPeriod(Duration.ofMillis(5));
            recording.start();
        }
        for (int r = 0; r < rounds; r++) run(tmp.resolve("run-" + r), n, true);
        if (recording != null) {
            recording.stop();
            recording.dump(Path.of(jfr));
        }
    }

    private static void run(Path dir, int n, boolean print) throws Exception {
        var done = new CountDownLatch(n);
        var options = LocalBackend.Options.of(dir).withCapacity(2, 8L << 30).withGpuDetector(GpuDetector.none())
                .withOnFinish(s -> done.countDown());
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long[] children0 = procTimes("self");
        long cpu0 = os.getProcessCpuTime();
        long t0 = System.nanoTime();
        var b = new LocalBackend(options);
        for (int i = 0; i < n; i++) b.launch(WorkloadSpec.of("w" + i, List.of("sh", "-c", "true")));
        if (!done.await(300, TimeUnit.SECONDS)) throw new AssertionError("not all workloads finished");
        long wall = System.nanoTime() - t0;
        long cpu = os.getProcessCpuTime() - cpu0;
        long[] children1 = procTimes("self");
        long childTicks = children1[2] + children1[3] - children0[2] - children0[3];
        long supPid = b.supervisorPid();
        long supTicks = 0;
        if (supPid > 0) {
            long[] s = procTimes(Long.toString(supPid));
            supTicks = s[0] + s[1] + s[2] + s[3];
        }
        long failed = b.list().stream().filter(s -> s.phase() != WorkloadPhase.SUCCEEDED).count();
        b.close();
        // The supervisor exits after close(); once the JDK has reaped it its CPU lands in this JVM's cutime, so wait
        // for that before the next run takes its first sample.
        if (supPid > 0) ProcessHandle.of(supPid).ifPresent(h -> h.onExit().join());
        if (print) {
            double hz = 100;
            System.out.printf("BENCH n=%d wall=%.0fms (%.2f ms/step) jvmCpu=%.0fms (%.2f ms/step) childrenCpu=%.0fms supervisorCpu=%.0fms"
                            + " children+supervisor=%.2f ms/step failed=%d%n",
                    n, wall / 1e6, wall / 1e6 / n, cpu / 1e6, cpu / 1e6 / n, childTicks * 1000 / hz, supTicks * 1000 / hz,
                    (childTicks + supTicks) * 1000 / hz / n, failed);
        }
    }

    /** utime, stime, cutime, cstime of /proc/PID/stat, in clock ticks. */
    private static long[] procTimes(String pid) throws Exception {
        String stat = Files.readString(Path.of("/proc", pid, "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // f[0] is field 3 (state); utime is field 14.
        return new long[] {Long.parseLong(f[11]), Long.parseLong(f[12]), Long.parseLong(f[13]), Long.parseLong(f[14])};
    }
}
