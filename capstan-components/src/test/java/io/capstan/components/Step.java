package io.capstan.components;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.capstan.core.Json;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

/** Builds a KFP executor input for one component in a directory, runs it through {@link BuiltinMain}, and keeps what it wrote. */
final class Step {
    static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneOffset.UTC);
    /** The repository root, where relative sources such as {@code examples/iris/iris.csv} resolve. */
    static final Path REPO = Path.of("").toAbsolutePath().getParent();
    static final Path IRIS = REPO.resolve("examples/iris/iris.csv");

    private final String component;
    private final Path dir;
    private final ObjectNode root = Json.json().createObjectNode();
    private final ObjectNode parameters;
    private final ObjectNode artifacts;
    private final ObjectNode outputParameters;
    private final ObjectNode outputArtifacts;

    private Step(String component, Path dir) {
        this.component = component;
        this.dir = dir;
        var inputs = root.putObject("inputs");
        parameters = inputs.putObject("parameterValues");
        artifacts = inputs.putObject("artifacts");
        var outputs = root.putObject("outputs");
        outputParameters = outputs.putObject("parameters");
        outputArtifacts = outputs.putObject("artifacts");
        outputs.put("outputFile", dir.resolve("executor_output.json").toString());
    }

    static Step of(String component, Path dir) {
        return new Step(component, dir);
    }

    Step param(String name, Object value) {
        parameters.set(name, Json.json().valueToTree(value));
        return this;
    }

    Step input(String name, String schemaTitle, Path path) {
        var a = artifacts.putObject(name).putArray("artifacts").addObject();
        a.put("name", name);
        a.putObject("type").put("schemaTitle", schemaTitle);
        a.put("uri", path.toUri().toString());
        a.putObject("metadata");
        return this;
    }

    /** Declares output artifact {@code name} at {@code <dir>/<name>}. */
    Step output(String name, String schemaTitle) {
        var a = outputArtifacts.putObject(name).putArray("artifacts").addObject();
        a.put("name", name);
        a.putObject("type").put("schemaTitle", schemaTitle);
        a.put("uri", "file://" + dir.resolve(name));
        a.putObject("metadata");
        return this;
    }

    Step outputParameter(String name) {
        outputParameters.putObject(name).put("outputFile", dir.resolve("params").resolve(name).toString());
        return this;
    }

    String json() {
        return root.toString();
    }

    Result run() {
        return run(List.of(component, "--executor_input", json()));
    }

    Result run(List<String> args) {
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        int exit = BuiltinMain.run(args, new Environment(REPO, CLOCK), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8), dir);
    }

    /** What a run left: its exit status, its standard streams and the directory holding its outputs. */
    record Result(int exit, String out, String err, Path dir) {
        JsonNode executorOutput() {
            try {
                return Json.json().readTree(dir.resolve("executor_output.json").toFile());
            } catch (IOException e) {
                throw new AssertionError("no executor output in " + dir + "; stderr: " + err, e);
            }
        }

        JsonNode metadata(String artifact) {
            return executorOutput().path("artifacts").path(artifact).path("artifacts").path(0).path("metadata");
        }

        Path path(String artifact) {
            return dir.resolve(artifact);
        }

        String parameterFile(String name) {
            try {
                return Files.readString(dir.resolve("params").resolve(name));
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        }

        Result assertOk() {
            if (exit != 0) throw new AssertionError("exit " + exit + ": " + err);
            return this;
        }
    }
}
