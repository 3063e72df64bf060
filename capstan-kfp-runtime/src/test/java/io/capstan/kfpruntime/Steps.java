package io.capstan.kfpruntime;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.capstan.core.Json;
import io.capstan.store.testing.Conformance;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Reads KFP's compiled pipelines in place and runs their executors as real child processes. */
final class Steps {
    static final Path CORPUS = Conformance.path("kubeflow-pipelines/test_data/sdk_compiled_pipelines/valid");

    private Steps() {
    }

    /** A container executor: its command and args as compiled. */
    record Container(List<String> command, List<String> args) {
        /** The same executor running another component source (the last command element). */
        Container withSource(String source) {
            var replaced = new ArrayList<>(command);
            replaced.set(replaced.size() - 1, source);
            return new Container(replaced, args);
        }

        Container withFunction(String function) {
            var replaced = new ArrayList<>(args);
            replaced.set(replaced.indexOf("--function_to_execute") + 1, function);
            return new Container(command, replaced);
        }

        Container withPreamble(String preamble) {
            var replaced = new ArrayList<>(command);
            replaced.set(2, preamble);
            return new Container(replaced, args);
        }
    }

    /** Outcome of a child process. */
    record Result(int exitCode, String stdout, String stderr) {
    }

    static String functionOf(Container c) {
        return c.args().get(c.args().indexOf("--function_to_execute") + 1);
    }

    static void assumeCorpus() {
        Conformance.require(CORPUS);
    }

    static Container executor(String file, String executor) throws IOException {
        assumeCorpus();
        JsonNode root = Json.yaml().readTree(CORPUS.resolve(file).toFile());
        JsonNode container = root.path("deploymentSpec").path("executors").path(executor).path("container");
        assertThat(container.isMissingNode()).as("%s has executor %s", file, executor).isFalse();
        return new Container(strings(container.path("command")), strings(container.path("args")));
    }

    static List<String> strings(JsonNode array) {
        var out = new ArrayList<String>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    /** Runs a rewritten step with {@code {{$}}} replaced by the executor input, in {@code workDir}. */
    static Result run(LightweightSteps.Rewritten step, String executorInput, Path workDir) throws Exception {
        var argv = new ArrayList<String>(step.command());
        step.args().forEach(a -> argv.add(a.replace("{{$}}", executorInput)));
        var tmp = Files.createDirectories(workDir.resolve("tmp"));
        var out = workDir.resolve("stdout.txt");
        var err = workDir.resolve("stderr.txt");
        var builder = new ProcessBuilder(argv).directory(workDir.toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        builder.environment().putAll(step.env());
        builder.environment().put("TMPDIR", tmp.toString());
        builder.environment().put("PYTHONDONTWRITEBYTECODE", "1");
        var process = builder.start();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                throw new AssertionError("step did not finish within 30 s: " + argv.subList(0, 2));
            }
        } finally {
            if (process.isAlive()) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
            }
        }
        return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    static String json(Object value) throws IOException {
        return Json.json().writeValueAsString(value);
    }

    static JsonNode readJson(Path file) throws IOException {
        return Json.json().readTree(file.toFile());
    }

    static Map<String, Object> artifact(String name, String schemaTitle, String uri) {
        return Map.of("name", name, "type", Map.of("schemaTitle", schemaTitle, "schemaVersion", "0.0.1"),
                "uri", uri, "metadata", Map.of());
    }

    static Map<String, Object> artifacts(Map<String, Object> artifact) {
        return Map.of("artifacts", List.of(artifact));
    }
}
