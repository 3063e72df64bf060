package io.capstan.kfpruntime;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KfpRuntimeTest {
    @TempDir
    Path dir;

    @Test
    void installsOnceIntoAVersionFolder() throws Exception {
        var first = KfpRuntime.install(dir);
        var second = KfpRuntime.install(dir);

        assertThat(second).isEqualTo(first);
        assertThat(first.getFileName().toString()).isEqualTo(KfpRuntime.version()).hasSize(16);
        assertThat(first.resolve("kfp/dsl/executor_main.py")).isRegularFile();
        try (var entries = Files.list(dir)) {
            assertThat(entries.toList()).containsExactly(first);
        }
    }

    @Test
    void concurrentInstallersAgreeAndLeaveNoTemporaryFolders() throws Exception {
        List<Callable<Path>> tasks = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            tasks.add(() -> KfpRuntime.install(dir));
        }
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            var results = new ArrayList<Path>();
            for (var future : pool.invokeAll(tasks, 30, TimeUnit.SECONDS)) {
                results.add(future.get(30, TimeUnit.SECONDS));
            }
            assertThat(results).containsOnly(results.get(0));
        }
        try (var entries = Files.list(dir)) {
            assertThat(entries.map(p -> p.getFileName().toString()).toList()).containsExactly(KfpRuntime.version());
        }
    }

    @Test
    void indexListsEveryPythonSource() throws Exception {
        var root = Path.of("src/main/resources/io/capstan/kfpruntime/python");
        List<String> onDisk;
        try (var files = Files.walk(root)) {
            onDisk = files.filter(f -> f.toString().endsWith(".py"))
                    .map(f -> root.relativize(f).toString().replace('\\', '/')).sorted().toList();
        }
        assertThat(KfpRuntime.packagedFiles().keySet()).containsExactlyInAnyOrderElementsOf(onDisk);
    }
}
